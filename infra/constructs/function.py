"""``PassportFunction``, from passport_cdk (the guard of a user's own stack is one too)."""

from passport_cdk.function import METRICS_NAMESPACE, PassportFunction, service_name, storage_variable

__all__ = ["METRICS_NAMESPACE", "PassportFunction", "service_name", "storage_variable"]
