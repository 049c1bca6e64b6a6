"""What every construct here shares: the Lambda runtime, removal and retention, cdk-nag acknowledgements."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Acknowledgment, RemovalPolicy, Validations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import IConstruct

from infra.layer import LAMBDA_ARCH, LAMBDA_PYTHON

REPO = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO / "functions"
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


def retention(days: int) -> logs.RetentionDays:
    return getattr(logs.RetentionDays, _RETENTION[days])


def removal_policy(retain: bool) -> RemovalPolicy:
    return RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on a construct (and its children), always with the reason."""
    if not reason.strip():
        raise ValueError(f"an acknowledgement of {rule} needs a reason")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))
