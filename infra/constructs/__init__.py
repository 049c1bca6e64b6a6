"""Constructs of the passport stack; ``PassportGuard`` and ``PassportResources`` are for your own stacks too, from
the installed package: ``from passport_cdk import PassportGuard, PassportResources``."""

from passport_cdk import PassportGuard, PassportResources

__all__ = ["PassportGuard", "PassportResources"]
