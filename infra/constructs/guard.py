"""``PassportGuard`` and what it takes, from passport_cdk (the package a user's own CDK app installs)."""

from passport_cdk.guard import GUARD_RESPONSES, PassportGuard, PassportResources, ProtectedResource, rules_json

__all__ = ["GUARD_RESPONSES", "PassportGuard", "PassportResources", "ProtectedResource", "rules_json"]
