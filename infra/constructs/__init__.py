"""Constructs of the passport stack; ``PassportGuard`` and ``PassportResources`` are for your own stacks too."""

from infra.constructs.guard import PassportGuard, PassportResources

__all__ = ["PassportGuard", "PassportResources"]
