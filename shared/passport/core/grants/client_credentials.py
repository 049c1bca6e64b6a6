"""The client credentials grant (RFC 6749 section 4.4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from passport.core.errors import unauthorized_client
from passport.core.grants.base import token_response
from passport.core.http import single
from passport.core.models import Client
from passport.core.resources import token_request_resources
from passport.core.scopes import ScopePolicy
from passport.core.tokens import AccessTokenIssuer


class ClientCredentialsGrant:
    GRANT_TYPE: ClassVar[str] = "client_credentials"

    def __init__(self, issuer: AccessTokenIssuer, scopes: ScopePolicy) -> None:
        self._issuer = issuer
        self._scopes = scopes

    def respond(
        self, client: Client, form: Mapping[str, list[str]], source_ip: str = "", jkt: str | None = None,
    ) -> dict[str, Any]:
        # 4.4: "The client credentials grant type MUST only be used by confidential clients."
        if client.public:
            raise unauthorized_client("A public client cannot use the client credentials grant.")
        scopes = self._scopes.resolve(single(form, "scope"), client.scopes)
        issued = self._issuer.issue(client_id=client.client_id, scopes=scopes, grant_type=self.GRANT_TYPE,
                                    resources=token_request_resources(form, self._issuer.resources), jkt=jkt)
        # 4.4.3: "A refresh token SHOULD NOT be included."
        return token_response(issued)
