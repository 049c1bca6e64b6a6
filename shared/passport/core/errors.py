"""The server's errors: one root, and a base per surface that decides how a handler answers one.

=====================  ==================================  =====================================================
Surface                Base                                Answered as
=====================  ==================================  =====================================================
OAuth JSON             :class:`OAuthError`                 ``{"error", "error_description"}`` with its status and
                                                           headers (RFC 6749 5.2; RFC 7591 3.2.2 for
                                                           registration, :class:`~passport.core.registration.
                                                           RegistrationError`)
Bearer challenge       :class:`BearerError`                401/403 with ``WWW-Authenticate: Bearer`` (RFC 6750 3)
Page                   :class:`PageError`                  an HTML error page; :class:`~passport.core.
                                                           authorization.RedirectError` goes back to the client's
                                                           redirect URI instead
JSON-RPC               :class:`~passport.endpoints.        a JSON-RPC error object (the demo MCP server)
                       mcp_server.RpcError`
Any                    :class:`StorageUnavailable`         503 with ``Retry-After`` in the surface's own form
=====================  ==================================  =====================================================

Every exception class of the package derives from :class:`PassportError` (tests/unit/test_errors.py), so what can
escape a handler is ``PassportError`` (answered by its surface) or a bug (``apigw.serve``: a 500, logged).

The OAuth factories are named for the error code, as in the League server, so a grant reads
``raise invalid_scope("...")``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class PassportError(Exception):
    """The root of every exception this package raises on purpose."""


@dataclass
class OAuthError(PassportError):
    """An error answered as ``{"error", "error_description"[, "hint"]}``."""

    error: str
    description: str
    status: int = 400
    headers: dict[str, str] = field(default_factory=dict)
    hint: str | None = None

    def __str__(self) -> str:
        return f"{self.error}: {self.description}"

    def body(self) -> dict[str, str]:
        body = {"error": self.error, "error_description": self.description}
        if self.hint:
            body["hint"] = self.hint
        return body


def invalid_request(description: str, hint: str | None = None) -> OAuthError:
    """The request is missing a parameter, repeats one, or is otherwise malformed (RFC 6749 5.2)."""
    return OAuthError("invalid_request", description, hint=hint)


def invalid_client(description: str = "Client authentication failed.", *, used_basic: bool = False) -> OAuthError:
    """Client authentication failed: always 401; a client that tried HTTP Basic is told the scheme to use
    (RFC 6749 5.2: "MUST respond with an HTTP 401 ... and include the WWW-Authenticate response header")."""
    headers = {"WWW-Authenticate": 'Basic realm="oauth"'} if used_basic else {}
    return OAuthError("invalid_client", description, status=401, headers=headers)


def invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


def unauthorized_client(description: str) -> OAuthError:
    return OAuthError("unauthorized_client", description)


def unsupported_grant_type(grant_type: str) -> OAuthError:
    return OAuthError(
        "unsupported_grant_type", f"The grant type {grant_type!r} is not supported by this server."
    )


def invalid_scope(description: str) -> OAuthError:
    return OAuthError("invalid_scope", description)


def temporarily_unavailable(retry_after: int = 1) -> OAuthError:
    """Storage or the key store is throttled or down: 503 with ``Retry-After``, nothing issued."""
    return OAuthError(
        "temporarily_unavailable",
        "The server is temporarily unable to handle the request; try again shortly.",
        status=503,
        headers={"Retry-After": str(retry_after)},
    )


class BearerError(PassportError):
    """RFC 6750 3.1: ``error`` None is a request with no token at all, answered with the bare challenge."""

    def __init__(self, status: int, error: str | None, description: str = "", scope: str | None = None, *,
                 dpop: bool = False, nonce: str | None = None) -> None:
        super().__init__(description)
        self.status, self.error, self.description, self.scope = status, error, description, scope
        #: The error is DPoP's (RFC 9449 7.1): answered in a ``DPoP`` challenge, with ``nonce`` in ``DPoP-Nonce``.
        self.dpop, self.nonce = dpop, nonce


class DocumentRefused(PassportError):
    """A client ID metadata document that cannot describe a client, or its URL (passport.core.client_documents);
    the message says why in words a developer acts on, never the document's content. The authorization endpoint
    shows it on an error page, the token endpoint as ``invalid_client``."""


class PageError(PassportError):
    """Shown to the user as an HTML page; never redirected."""

    def __init__(self, title: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.title, self.message, self.status = title, message, status


class StorageUnavailable(PassportError):
    """Raised by storage adapters when DynamoDB (or the key store) is throttled, slow or unreachable."""
