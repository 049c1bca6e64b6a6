"""The idle cost (infra/idle_cost.py) counted from the synthesized template: nothing in the template goes unpriced,
the counts are the template's, the totals come from the price table, and the docs quote what the script prints."""

from __future__ import annotations

import json
import re
from collections import Counter
from decimal import Decimal

import pytest

from infra import idle_cost
from infra.idle_cost import FREE, MONTHLY, PRICES, RULES, USAGE, UnpricedResource, estimate
from tests.infra.conftest import REPO, Synthesized


def counts_by_type(synthesized: Synthesized) -> Counter[str]:
    return Counter(r["Type"] for r in synthesized.resources.values())


def test_every_resource_type_of_the_template_is_classified(synthesized: Synthesized):
    """A resource type the rules do not know would be a silent zero in the total: it must be classified first."""
    unknown = set(counts_by_type(synthesized)) - set(RULES)
    assert not unknown, f"classify these in infra.idle_cost.RULES: {sorted(unknown)}"
    result = estimate(synthesized.template)
    assert {line.type: line.count for line in result.lines} == dict(counts_by_type(synthesized))
    assert all(rule.billing in (MONTHLY, USAGE, FREE) and rule.reason for rule in RULES.values())
    assert all(rule.price in PRICES for rule in RULES.values() if rule.billing == MONTHLY)


def test_an_unknown_resource_type_fails_rather_than_counting_as_free(synthesized: Synthesized):
    template = {"Resources": {**synthesized.resources, "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}}}}
    with pytest.raises(UnpricedResource, match="AWS::SQS::Queue"):
        estimate(template)


@pytest.mark.parametrize("kind, properties, why", [
    ("AWS::DynamoDB::Table", {"BillingMode": "PROVISIONED"}, "provisioned"),
    ("AWS::DynamoDB::Table", {}, "provisioned"),  # CloudFormation's default is provisioned capacity
    ("AWS::ApiGateway::Stage", {"CacheClusterEnabled": True}, "cache"),
    ("AWS::CloudWatch::Alarm", {"Period": 10}, "high-resolution"),
    ("AWS::CloudWatch::Alarm", {"ThresholdMetricId": "band"}, "anomaly"),
])
def test_a_setting_that_bills_by_the_hour_fails_rather_than_counting_as_idle_free(kind, properties, why):
    with pytest.raises(UnpricedResource, match=why):
        estimate({"Resources": {"Thing": {"Type": kind, "Properties": properties}}})


def test_the_monthly_counts_are_the_templates(synthesized: Synthesized):
    result = {line.type: line for line in estimate(synthesized.template).priced}
    alarms = synthesized.of_type("AWS::CloudWatch::Alarm")
    assert result["AWS::CloudWatch::Alarm"].count == len(alarms) > 0
    assert result["AWS::CloudWatch::Dashboard"].count == len(synthesized.of_type("AWS::CloudWatch::Dashboard")) == 1
    assert result["AWS::SecretsManager::Secret"].count == len(synthesized.of_type("AWS::SecretsManager::Secret")) == 1
    assert len(synthesized.of_type("AWS::KMS::Key")) == 0 and "AWS::KMS::Key" not in result
    # CloudWatch bills each metric an alarm reads: one for a plain alarm, one per MetricStat for metric math.
    metrics = sum(1 if "Metrics" not in a["Properties"] else
                  sum("MetricStat" in q for q in a["Properties"]["Metrics"]) for a in alarms.values())
    assert result["AWS::CloudWatch::Alarm"].units == metrics >= len(alarms)
    assert set(result) == {t for t in counts_by_type(synthesized) if RULES[t].billing == MONTHLY}


def test_the_totals_are_computed_from_the_price_table(synthesized: Synthesized):
    result = estimate(synthesized.template)
    by_key = Counter()
    for name, resource in synthesized.resources.items():
        rule = RULES[resource["Type"]]
        if rule.billing == MONTHLY:
            by_key[rule.price] += rule.units(resource.get("Properties", {}))
    assert result.total == sum((PRICES[k].usd * n for k, n in by_key.items()), Decimal(0))
    assert result.total_with_free_tier == sum(
        (PRICES[k].usd * max(0, n - PRICES[k].free_per_account) for k, n in by_key.items()), Decimal(0))
    # The published figures the brief of this module names, and the free tier of 10 alarm metrics and 3 dashboards.
    assert {k: (p.usd, p.free_per_account) for k, p in PRICES.items()} == {
        "alarm metric": (Decimal("0.10"), 10), "dashboard": (Decimal("3.00"), 3),
        "secret": (Decimal("0.40"), 0), "KMS key": (Decimal("1.00"), 0)}
    assert idle_cost.PRICES_SOURCE == "prices as published by AWS for us-east-1, read 2026-12-07"


def test_the_script_prints_a_table_and_json_from_a_template_file(synthesized: Synthesized, tmp_path, capsys):
    path = tmp_path / "template.json"
    path.write_text(json.dumps(synthesized.template))
    result = estimate(synthesized.template)
    assert idle_cost.main([str(path)]) == 0
    text = capsys.readouterr().out
    assert idle_cost.PRICES_SOURCE in text and str(path) in text
    assert f"Total, no free tier:   ${result.total:.2f} a month" in text
    assert f"Total, with free tier: ${result.total_with_free_tier:.2f} a month" in text
    assert idle_cost.main([str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert Decimal(data["total"]) == result.total and data["free_tier"] == {"alarm metric": 10, "dashboard": 3}
    assert {r["type"]: r["count"] for r in data["resources"]} == dict(counts_by_type(synthesized))


def test_the_docs_quote_what_the_script_prints_for_the_shipped_settings(synthesized_without_demos: Synthesized):
    """The README and docs/deploying.md state the figures for passport.toml as shipped (the demos off): they must be
    the script's, so a new alarm or a new price shows up here rather than in someone's bill."""
    result = estimate(synthesized_without_demos.template)
    printed = idle_cost.render_text(result, "PassportStack synthesized in-process from passport.toml")
    deploying = (REPO / "docs" / "deploying.md").read_text(encoding="utf-8")
    quoted = re.search(r"```text idle-cost\n(.*?)```", deploying, re.S)
    assert quoted, "docs/deploying.md no longer quotes the script's output in a ```text idle-cost block"
    assert quoted[1] == printed
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    totals = f"${result.total:.2f} a month when idle (${result.total_with_free_tier:.2f} within the free tier"
    assert totals in readme and totals in deploying
    assert idle_cost.PRICES_READ in deploying
