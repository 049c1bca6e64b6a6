"""The template against CloudFormation's linter, cdk-nag's AWS Solutions rules and CDK's own validation."""

from __future__ import annotations

import json
from pathlib import Path

from tests.infra.conftest import Synthesized

#: cfn-lint rules ignored, each with the reason.
CFN_LINT_IGNORED = {
    "W3005": "CDK gives each function an explicit DependsOn on its execution role so the role exists before the "
    "function; it is redundant with the role's GetAtt in the function, and harmless.",
}
REGIONS = ("us-east-1",)

#: The cdk-nag findings this stack acknowledges (each with its reason in infra/). A new one fails this test
#: until it is reviewed and added here.
ACKNOWLEDGED = {
    "AwsSolutions-SMG4",  # keys rotate with `passport keys rotate`, not a Secrets Manager rotation function
    "AwsSolutions-APIG2",  # handlers validate their own input, in their own error format
    "AwsSolutions-APIG3",  # WAF costs money when idle; optional
    "AwsSolutions-APIG4",  # the OAuth server's public endpoints (only on those methods)
    "AwsSolutions-APIG6",  # access logs instead of execution logs
    "AwsSolutions-COG4",  # the guard, not Cognito, authorizes
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
    "AwsSolutions-SNS2",  # the alarm topic: CloudWatch cannot publish to a topic under the AWS-managed key
}


def cfn_lint(template: Path) -> list[tuple[str, str]]:
    """Every cfn-lint finding on a template file, ignored rules included, as ``(rule, "message (path)")``."""
    from cfnlint.api import ManualArgs, lint

    matches = lint(template.read_text(), config=ManualArgs(regions=list(REGIONS)))
    return [(m.rule.id, f"{m.message} ({'/'.join(map(str, m.path))})") for m in matches]


def not_ignored(findings: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(rule, text) for rule, text in findings if rule not in CFN_LINT_IGNORED]


def test_cfn_lint_reports_nothing_beyond_the_ignored_rules(synthesized: Synthesized):
    findings = cfn_lint(synthesized.outdir / f"{synthesized.stack.stack_name}.template.json")
    assert not_ignored(findings) == []
    assert {rule for rule, _ in findings} == set(CFN_LINT_IGNORED)  # each ignored rule still earns its place


def test_cdk_nag_aws_solutions_checks_pass(synthesized: Synthesized):
    """The app was synthesized with cdk-nag's AwsSolutionsChecks (synthesis raises on a finding not acknowledged),
    and its report has no finding. (CDK's own CloudFormation validation runs in test_cdk_cli_synth.)"""
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    assert [p for p in report["pluginReports"] if p.get("violations") or p.get("conclusion") == "failure"] == []


def _acknowledgements(template: dict) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for name, resource in template["Resources"].items():
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            found.setdefault(rule["id"], []).append((name, rule["reason"]))
    return found


def test_every_acknowledged_finding_is_known_and_carries_a_reason(synthesized: Synthesized):
    found = _acknowledgements(synthesized.template)
    assert found, "cdk-nag did not run (its acknowledgements are written into the template)"
    iam5 = {rule for rule in found if rule.startswith("AwsSolutions-IAM5[")}
    assert set(found) - iam5 == ACKNOWLEDGED
    # The only wildcards: the Provider framework's grant to invoke the install-keys function's versions, and
    # X-Ray's two actions (which take no resource) in each function role's default policy, which holds only them.
    handler = synthesized.logical_id(synthesized.stack.install_keys.handler.function)
    assert iam5 == {f"AwsSolutions-IAM5[Resource::<{handler}.Arn>:*]", "AwsSolutions-IAM5[Resource::*]"}
    default_policies = {
        synthesized.logical_id(f.role.node.find_child("DefaultPolicy")) for f in synthesized.stack.functions.values()
    }
    assert {resource for resource, _ in found["AwsSolutions-IAM5[Resource::*]"]} == default_policies
    for rule, places in found.items():
        for resource, reason in places:
            assert len(reason.split()) >= 8, (rule, resource, reason)


def test_only_public_routes_are_acknowledged_as_unauthorized(synthesized: Synthesized):
    found = _acknowledgements(synthesized.template)
    methods = {synthesized.logical_id(m): key for key, m in synthesized.stack.api.methods.items()}
    unauthorized = {methods[resource] for resource, _ in found["AwsSolutions-APIG4"] if resource in methods}
    from passport.routes import route_table

    public = {r.key for r in route_table(synthesized.stack.settings) if r.rule is None}
    assert unauthorized == public
