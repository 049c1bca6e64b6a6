"""Deployment choices that are not OAuth settings: what happens to data when the stack goes, log retention,
throttling and where alarms go.

They come from the ``[deploy]`` section of the settings file, each key below by the same name, for the keys
``passport.config`` knows there (``alarm_topic_arn`` so far); for the others the defaults here apply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

REMOVAL_POLICIES = ("retain", "destroy")
#: The retention periods CloudWatch Logs accepts.
RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
#: arn:<partition>:sns:<region>:<account>:<topic>, a standard topic (a FIFO topic takes only messages with a
#: message group id, which alarm notifications do not have).
SNS_TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}")


@dataclass(frozen=True)
class DeployOptions:
    #: "retain": deleting the stack keeps the tables, the key secret and the logs (and the tables get deletion
    #: protection). "destroy" deletes them with the stack: for throw-away test deployments.
    removal_policy: str = "retain"
    #: Days CloudWatch keeps the functions' logs and the API's access logs.
    log_retention_days: int = 90
    access_log_retention_days: int = 365
    #: The API stage's steady-state requests per second and burst, for every method.
    throttle_rate: int = 500
    throttle_burst: int = 1000
    #: The SNS topic the CloudWatch alarms notify. Empty: the stack makes one and outputs its ARN (AlarmTopicArn).
    alarm_topic_arn: str = ""

    def __post_init__(self) -> None:
        if self.removal_policy not in REMOVAL_POLICIES:
            raise ValueError(f"deploy.removal_policy must be one of {', '.join(REMOVAL_POLICIES)}")
        for name in ("log_retention_days", "access_log_retention_days"):
            if getattr(self, name) not in RETENTION_DAYS:
                raise ValueError(f"deploy.{name} must be one of CloudWatch's periods: {RETENTION_DAYS}")
        for name in ("throttle_rate", "throttle_burst"):
            if int(getattr(self, name)) <= 0:
                raise ValueError(f"deploy.{name} must be positive")
        if self.alarm_topic_arn and not SNS_TOPIC_ARN.fullmatch(self.alarm_topic_arn):
            raise ValueError(
                f"deploy.alarm_topic_arn must be the ARN of a standard SNS topic "
                f"(arn:aws:sns:<region>:<account>:<name>), not {self.alarm_topic_arn!r}"
            )

    @property
    def retain(self) -> bool:
        return self.removal_policy == "retain"

    @classmethod
    def from_settings(cls, settings: Any) -> DeployOptions:
        section = getattr(settings, "deploy", None)
        if section is None:
            return cls()
        return cls(**{f.name: getattr(section, f.name) for f in fields(cls) if hasattr(section, f.name)})
