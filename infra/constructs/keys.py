"""The Secrets Manager secret for the signing keys (docs/keys.md)."""

from __future__ import annotations

from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.constructs.common import acknowledge, removal_policy


class KeysSecret(Construct):
    """An empty secret: the install-keys custom resource puts the first key document in it.

    The template carries no value for it, neither a ``SecretString`` nor a ``GenerateSecretString``
    (CloudFormation then creates an empty secret). Either property would put a value in the template that
    CloudFormation writes again as a new secret version whenever the property changes: one edit of the
    template would replace the deployed keys. Encrypted with the AWS-managed key ``aws/secretsmanager``.
    """

    def __init__(self, scope: Construct, id: str, *, retain: bool) -> None:
        super().__init__(scope, id)
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            description="lambda-passport signing keys: the current private key and the retired public keys",
            removal_policy=removal_policy(retain),
        )
        resource = self.secret.node.default_child
        resource.add_property_deletion_override("GenerateSecretString")  # type: ignore[union-attr]
        acknowledge(
            self.secret,
            "AwsSolutions-SMG4",
            "Signing keys rotate with `passport keys rotate`, which keeps the retired public key in the JWKS until "
            "the tokens it signed expire; a Secrets Manager rotation function would replace the key document "
            "and break every token in flight.",
        )
