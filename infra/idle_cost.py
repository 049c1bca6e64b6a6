"""What PassportStack costs a month when nobody calls it, counted from its CloudFormation template.

Run it as ``.venv/bin/python -m infra.idle_cost [TEMPLATE] [--json]``. Without TEMPLATE it reads
``cdk.out/PassportStack.template.json`` (left by ``make synth``) when there is one, and otherwise synthesizes the
stack in-process from ``passport.toml`` (or the file ``PASSPORT_CONFIG`` names), as the template tests do.

Every resource of the template is classified: billed by the month whether or not it is used (alarms, dashboards,
secrets, KMS keys), billed by use only (requests, GB ingested or stored: nothing while idle and empty), or not
billed at all. A resource type missing from ``RULES`` is an error, not a silent zero: a new kind of resource must
be looked at before the figure can be trusted again. So is a setting that would make a by-use resource bill by the
hour (provisioned DynamoDB capacity, an API Gateway cache, high-resolution alarms), which the table does not price.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CDK_OUT_TEMPLATE = REPO / "cdk.out" / "PassportStack.template.json"

REGION = "us-east-1"
PRICES_READ = "2026-12-07"
PRICES_SOURCE = f"prices as published by AWS for {REGION}, read {PRICES_READ}"

MONTHLY, USAGE, FREE = "monthly", "usage", "free"

Resource = Mapping[str, Any]


class UnpricedResource(ValueError):
    """The template has a resource this module cannot price: an unknown type, or a setting that bills by the hour."""


@dataclass(frozen=True)
class Price:
    unit: str
    usd: Decimal
    page: str  # the AWS pricing page the figure was read from, by its title
    free_per_account: int  # the account-level free tier, shared with everything else in the account


#: AWS's list prices, read on PRICES_READ. CloudWatch bills a standard-resolution alarm per metric it watches (an
#: alarm on a metric math expression over nine metrics is nine alarm metrics), and its free tier is 10 alarm metrics.
PRICES: dict[str, Price] = {
    "alarm metric": Price("alarm metric-month", Decimal("0.10"), "Amazon CloudWatch pricing", 10),
    "dashboard": Price("dashboard-month", Decimal("3.00"), "Amazon CloudWatch pricing", 3),
    "secret": Price("secret-month", Decimal("0.40"), "AWS Secrets Manager pricing", 0),
    "KMS key": Price("key-month", Decimal("1.00"), "AWS Key Management Service pricing", 0),
}


def one(_properties: Resource) -> int:
    return 1


def no_check(_name: str, _properties: Resource) -> None:
    return None


@dataclass(frozen=True)
class Rule:
    billing: str  # MONTHLY, USAGE or FREE
    reason: str
    price: str | None = None  # a key of PRICES, for MONTHLY
    units: Callable[[Resource], int] = one  # how many PRICES units one resource is
    check: Callable[[str, Resource], None] = no_check  # raises UnpricedResource on a setting that bills by the hour


# -- the checks that keep by-use resources by-use, and the alarm-metric count ---------------------------------------


def alarm_metrics(properties: Resource) -> int:
    """A plain alarm watches one metric; a metric math alarm is billed for each metric its expressions read."""
    if "Metrics" not in properties:
        return 1
    return sum(1 for query in properties["Metrics"] if "MetricStat" in query)


def standard_resolution_alarm(name: str, properties: Resource) -> None:
    # High-resolution, anomaly detection and Metrics Insights alarms cost more than PRICES["alarm metric"].
    periods = [properties.get("Period", 60)] + [
        q["MetricStat"].get("Period", 60) for q in properties.get("Metrics", []) if "MetricStat" in q
    ]
    if any(int(p) < 60 for p in periods):
        raise UnpricedResource(f"{name}: a high-resolution alarm (period under 60 s) is not priced here")
    if "ThresholdMetricId" in properties:
        raise UnpricedResource(f"{name}: an anomaly detection alarm is not priced here")
    if any(str(q.get("Expression", "")).lstrip().upper().startswith("SELECT") for q in properties.get("Metrics", [])):
        raise UnpricedResource(f"{name}: a Metrics Insights alarm is not priced here")


def on_demand_table(name: str, properties: Resource) -> None:
    # Provisioned capacity bills by the hour, idle or not.
    if properties.get("BillingMode") != "PAY_PER_REQUEST":
        raise UnpricedResource(f"{name}: a DynamoDB table with provisioned capacity is not priced here")


def stage_without_cache(name: str, properties: Resource) -> None:
    # An API Gateway cache cluster bills by the hour, idle or not.
    if properties.get("CacheClusterEnabled") in (True, "true"):
        raise UnpricedResource(f"{name}: an API Gateway stage cache is not priced here")


CONFIGURATION = "configuration, never billed"

#: Every resource type the stack has (with the demos on or off), and how AWS bills it.
RULES: dict[str, Rule] = {
    "AWS::CloudWatch::Alarm": Rule(
        MONTHLY, "billed per alarm metric per month, whether or not it ever fires", "alarm metric",
        alarm_metrics, standard_resolution_alarm,
    ),
    "AWS::CloudWatch::Dashboard": Rule(MONTHLY, "billed per dashboard per month, viewed or not", "dashboard"),
    "AWS::SecretsManager::Secret": Rule(
        MONTHLY, "billed per secret per month (and per 10,000 API calls, which an idle stack makes none of)",
        "secret",
    ),
    "AWS::KMS::Key": Rule(MONTHLY, "a customer-managed key is billed per key per month", "KMS key"),
    "AWS::KMS::Alias": Rule(FREE, "an alias is free"),
    "AWS::Lambda::Function": Rule(USAGE, "billed per request and GB-second: nothing while idle"),
    "AWS::Lambda::LayerVersion": Rule(FREE, "Lambda does not bill for code or layer storage (a quota, not a price)"),
    "AWS::Lambda::Permission": Rule(FREE, CONFIGURATION),
    "AWS::ApiGateway::RestApi": Rule(USAGE, "billed per request: nothing while idle"),
    "AWS::ApiGateway::Stage": Rule(USAGE, "billed per request (no cache cluster): nothing while idle",
                                   check=stage_without_cache),
    "AWS::ApiGateway::Deployment": Rule(FREE, CONFIGURATION),
    "AWS::ApiGateway::Resource": Rule(FREE, CONFIGURATION),
    "AWS::ApiGateway::Method": Rule(FREE, CONFIGURATION),
    "AWS::ApiGateway::GatewayResponse": Rule(FREE, CONFIGURATION),
    "AWS::ApiGateway::Account": Rule(FREE, CONFIGURATION),
    # Its function bills as a Lambda function; its result cache is free (unlike the stage's cache cluster).
    "AWS::ApiGateway::Authorizer": Rule(FREE, CONFIGURATION),
    "AWS::DynamoDB::Table": Rule(
        USAGE, "on-demand: billed per request and per GB stored (backups too): nothing while idle and empty",
        check=on_demand_table,
    ),
    "AWS::Logs::LogGroup": Rule(
        USAGE, "billed per GB ingested and per GB-month stored: nothing while idle (past logs until retention ends)",
    ),
    "AWS::SNS::Topic": Rule(USAGE, "billed per publish and delivery: nothing while no alarm fires"),
    "AWS::SNS::TopicPolicy": Rule(FREE, CONFIGURATION),
    "AWS::IAM::Role": Rule(FREE, "IAM is free"),
    "AWS::IAM::Policy": Rule(FREE, "IAM is free"),
    "Custom::PassportInstallKeys": Rule(FREE, "a custom resource: its function runs at deploy time only"),
    "AWS::CDK::Metadata": Rule(FREE, "CDK's version report, not a billed resource"),
}


# -- counting and pricing ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One resource type of the template: how many, how many billed units, and what they cost a month."""

    type: str
    count: int
    billing: str
    reason: str
    units: int = 0
    price: str | None = None

    @property
    def unit_price(self) -> Decimal:
        return PRICES[self.price].usd if self.price else Decimal(0)

    @property
    def monthly(self) -> Decimal:
        return self.unit_price * self.units


@dataclass(frozen=True)
class Estimate:
    lines: tuple[Line, ...]

    @property
    def priced(self) -> list[Line]:
        return [line for line in self.lines if line.billing == MONTHLY]

    @property
    def not_billed_idle(self) -> list[Line]:
        return [line for line in self.lines if line.billing != MONTHLY]

    def units(self, price: str) -> int:
        return sum(line.units for line in self.priced if line.price == price)

    @property
    def total(self) -> Decimal:
        return sum((line.monthly for line in self.priced), Decimal(0))

    @property
    def total_with_free_tier(self) -> Decimal:
        """The account-level free tier taken off, as if nothing else in the account used it."""
        return sum(
            (PRICES[key].usd * max(0, self.units(key) - PRICES[key].free_per_account) for key in PRICES),
            Decimal(0),
        )


def rule_for(kind: str) -> Rule:
    if kind not in RULES:
        raise UnpricedResource(f"{kind}: not classified in infra.idle_cost.RULES; say how AWS bills it")
    return RULES[kind]


def estimate(template: Mapping[str, Any]) -> Estimate:
    """Every resource of the template classified, checked and counted, by type (sorted: the output is stable)."""
    resources: Mapping[str, Resource] = template.get("Resources", {})
    counts: Counter[str] = Counter()
    units: Counter[str] = Counter()
    for name, resource in resources.items():
        kind = resource["Type"]
        rule = rule_for(kind)
        properties = resource.get("Properties", {})
        rule.check(name, properties)
        counts[kind] += 1
        units[kind] += rule.units(properties) if rule.billing == MONTHLY else 0
    lines = (Line(kind, counts[kind], RULES[kind].billing, RULES[kind].reason, units[kind], RULES[kind].price)
             for kind in sorted(counts))
    return Estimate(tuple(lines))


# -- the template ------------------------------------------------------------------------------------------------


def synthesized_template() -> tuple[dict[str, Any], str]:
    """PassportStack from the settings file, synthesized in-process without CDK's CloudFormation validation or the
    copy of the assets (neither changes the resources, and they take half of a synthesis); and where it came from."""
    # The jsii runtime warns at length about the Node version on every run; the tests silence it the same way.
    # Set before infra.app is imported: the import starts the runtime.
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from infra.app import build_app, settings_path

    with tempfile.TemporaryDirectory(prefix="idle-cost-") as outdir:
        app, stack = build_app(outdir=outdir, cloudformation_validation=False, stage_assets=False)
        template = dict(app.synth().get_stack_by_name(stack.stack_name).template)
    return template, f"PassportStack synthesized in-process from {settings_path().name}"


def load_template(path: Path | None) -> tuple[dict[str, Any], str]:
    """The template and where it came from (printed, so a stale cdk.out is visible)."""
    if path is None and CDK_OUT_TEMPLATE.is_file():
        path = CDK_OUT_TEMPLATE
    if path is None:
        return synthesized_template()
    return json.loads(path.read_text(encoding="utf-8")), str(path)


# -- output ------------------------------------------------------------------------------------------------------


def usd(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def counted(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def free_tier_text() -> str:
    return ", ".join(counted(p.free_per_account, key) for key, p in PRICES.items() if p.free_per_account)


def table(rows: Iterable[Sequence[str]], right: set[int]) -> list[str]:
    rows = list(rows)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    def cell(i: int, text: str) -> str:
        return text.rjust(widths[i]) if i in right else text.ljust(widths[i])

    return ["  ".join(cell(i, text) for i, text in enumerate(row)).rstrip() for row in rows]


def render_text(result: Estimate, source: str) -> str:
    header = ("resource type", "count", "billed units", "unit price", "monthly")
    priced = [(ln.type, str(ln.count), counted(ln.units, ln.price or ""), f"{usd(ln.unit_price)} a month",
               usd(ln.monthly)) for ln in result.priced]
    idle = [(ln.type, str(ln.count), ln.reason) for ln in result.not_billed_idle]
    lines = [
        f"PassportStack idle cost: {PRICES_SOURCE}",
        f"(pages: {', '.join(sorted({p.page for p in PRICES.values()}))})",
        f"template: {source}",
        "",
        "Billed every month, idle or not:",
        *table([header, *priced], right={1, 3, 4}),
        "",
        "Not billed while idle:",
        *table([("resource type", "count", "why"), *idle], right={1}),
        "",
        f"Total, no free tier:   {usd(result.total)} a month",
        f"Total, with free tier: {usd(result.total_with_free_tier)} a month",
        f"  assuming the account-level free tier ({free_tier_text()}) is not used by anything else in the account",
    ]
    return "\n".join(lines) + "\n"


def as_json(result: Estimate, source: str) -> dict[str, Any]:
    def line(ln: Line) -> dict[str, Any]:
        priced = {"units": ln.units, "unit": PRICES[ln.price].unit, "unit_price": str(ln.unit_price),
                  "monthly": str(ln.monthly), "pricing_page": PRICES[ln.price].page} if ln.price else {}
        return {"type": ln.type, "count": ln.count, "billing": ln.billing, "reason": ln.reason, **priced}

    return {
        "prices": PRICES_SOURCE,
        "region": REGION,
        "prices_read": PRICES_READ,
        "template": source,
        "resources": [line(ln) for ln in result.lines],
        "total": str(result.total),
        "free_tier": {key: p.free_per_account for key, p in PRICES.items() if p.free_per_account},
        "total_with_free_tier": str(result.total_with_free_tier),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.idle_cost", description=__doc__.splitlines()[0])
    parser.add_argument("template", nargs="?", type=Path,
                        help="a synthesized template (default: cdk.out's, else synthesize PassportStack)")
    parser.add_argument("--json", action="store_true", help="the estimate as JSON")
    args = parser.parse_args(argv)
    template, source = load_template(args.template)
    try:
        result = estimate(template)
    except UnpricedResource as error:
        print(f"idle_cost: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(as_json(result, source), indent=2))
    else:
        sys.stdout.write(render_text(result, source))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
