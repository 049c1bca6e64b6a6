"""passport_cdk: the CDK constructs that put the passport guard on your own API Gateway APIs.

    pip install 'lambda-passport[cdk]'

    from passport_cdk import PassportGuard, PassportResources

The guard function's code ships inside this package (``passport_cdk/functions/guard/``), so a CDK app that
installed the wheel deploys it with no checkout of lambda-passport. See ``passport_cdk.guard`` for the usage.
"""

from importlib.metadata import version

from passport_cdk.common import acknowledge
from passport_cdk.function import PassportFunction
from passport_cdk.guard import PassportGuard, PassportResources, ProtectedResource

#: The distribution's version: the package has no version of its own, it is lambda-passport's.
__version__ = version("lambda-passport")

__all__ = [
    "PassportFunction",
    "PassportGuard",
    "PassportResources",
    "ProtectedResource",
    "__version__",
    "acknowledge",
]
