"""The shared helpers of the constructs, from passport_cdk (where PassportGuard, which needs them, is packaged)."""

from passport_cdk.common import (
    ARCHITECTURE,
    FUNCTIONS_DIR,
    LAYER_SETTINGS,
    PACKAGED_FUNCTIONS_DIR,
    RUNTIME,
    acknowledge,
    function_dir,
    removal_policy,
    retention,
)

__all__ = [
    "ARCHITECTURE",
    "FUNCTIONS_DIR",
    "LAYER_SETTINGS",
    "PACKAGED_FUNCTIONS_DIR",
    "RUNTIME",
    "acknowledge",
    "function_dir",
    "removal_policy",
    "retention",
]
