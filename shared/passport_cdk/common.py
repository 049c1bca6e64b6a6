"""What every construct shares: the Lambda runtime, where a function's code is, removal and retention, cdk-nag
acknowledgements."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Acknowledgment, RemovalPolicy, Validations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import IConstruct
from passport.iam_manifest import LAMBDA_ARCH, LAMBDA_PYTHON

#: The guard's code, package data of passport_cdk: a user's app deploys it from the installed wheel, and this
#: repository's stack deploys the same file (``functions/guard/handler.py`` is a link to it).
PACKAGED_FUNCTIONS_DIR = Path(__file__).resolve().parent / "functions"
#: Every other function's code: a checkout's ``functions/`` (only this repository's stack deploys them).
FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
#: Where the layer puts the settings file (layers are mounted at /opt).
LAYER_SETTINGS = "/opt/passport.toml"

RUNTIME: lambda_.Runtime = getattr(lambda_.Runtime, "PYTHON_" + LAMBDA_PYTHON.replace(".", "_"))
ARCHITECTURE = {"arm64": lambda_.Architecture.ARM_64, "x86_64": lambda_.Architecture.X86_64}[LAMBDA_ARCH]

_RETENTION = {
    1: "ONE_DAY",
    3: "THREE_DAYS",
    5: "FIVE_DAYS",
    7: "ONE_WEEK",
    14: "TWO_WEEKS",
    30: "ONE_MONTH",
    60: "TWO_MONTHS",
    90: "THREE_MONTHS",
    120: "FOUR_MONTHS",
    150: "FIVE_MONTHS",
    180: "SIX_MONTHS",
    365: "ONE_YEAR",
    400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS",
    731: "TWO_YEARS",
    1096: "THREE_YEARS",
    1827: "FIVE_YEARS",
    2192: "SIX_YEARS",
    2557: "SEVEN_YEARS",
    2922: "EIGHT_YEARS",
    3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}


def function_dir(name: str) -> Path:
    """The folder ``functions/<name>/`` deployed as the function's code: the packaged copy when there is one (the
    guard), so an installed passport_cdk needs no checkout."""
    packaged = PACKAGED_FUNCTIONS_DIR / name
    return packaged if (packaged / "handler.py").is_file() else FUNCTIONS_DIR / name


def retention(days: int) -> logs.RetentionDays:
    return getattr(logs.RetentionDays, _RETENTION[days])


def removal_policy(retain: bool) -> RemovalPolicy:
    return RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on a construct (and its children), always with the reason."""
    if not reason.strip():
        raise ValueError(f"an acknowledgement of {rule} needs a reason")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))
