"""The ``passport`` command (docs/cli.md), mirroring Laravel Passport's artisan commands.

Every command takes ``--json`` and then prints one JSON object (a list for ``list``). Errors are one line on
stderr and exit status 1. Commands work on the local store: the running ``passport serve``'s if there is one,
else a local store of their own (DynamoDB Local) on the same data folder.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any

from passport.config import ALGORITHMS, ConfigError, Settings, load_settings
from passport.core.clients import (
    DEVICE_CODE,
    PERSONAL_ACCESS,
    InvalidClientMetadata,
    KeyRegistration,
    new_client,
    validate_profile,
)
from passport.core.errors import PassportError
from passport.core.models import Client
from passport.core.profile import PROFILES
from passport.remote import StackNotFound

GRANT_SHORTCUTS = {
    "client": ("client_credentials",),
    "personal": (PERSONAL_ACCESS,),
    "password": ("password", "refresh_token"),
    "device": (DEVICE_CODE, "refresh_token"),
    "implicit": ("implicit",),
}
DEFAULT_GRANTS = ("authorization_code", "refresh_token")
#: ``client update --profile server``: the client has no profile of its own and follows the server's
#: ``security_profile`` (passport.core.profile).
FOLLOWS_SERVER = "server"


class CommandError(PassportError):
    """A failure the user can act on: printed as one line, exit status 1."""


def client_json(client: Client, secret: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"client_id": client.client_id}
    if secret is not None:
        body["client_secret"] = secret
    body.update({
        "name": client.name, "redirect_uris": list(client.redirect_uris), "grant_types": list(client.grant_types),
        "scopes": list(client.scopes), "public": client.public, "first_party": client.first_party,
        "revoked": client.revoked, "post_logout_redirect_uris": list(client.post_logout_redirect_uris),
        "registered": client.registered, "introspection": client.introspection,
        "application_type": client.application_type, "require_par": client.require_par,
        "dpop_bound": client.dpop_bound, "profile": client.profile or None,
    })
    body["token_endpoint_auth_method"] = client.token_endpoint_auth_method
    if client.jwks is not None:
        body["key_ids"] = key_ids(client)
    if client.jwks_uri is not None:
        body["jwks_uri"] = client.jwks_uri
    return body


def key_ids(client: Client) -> list[str]:
    """The ``kid`` of each key a ``private_key_jwt`` client registered (``""`` for a key without one)."""
    keys = json.loads(client.jwks or '{"keys": []}')["keys"]
    return [key.get("kid", "") for key in keys]


def _authentication(client: Client) -> str:
    """How the client authenticates at the token endpoint (RFC 7591 2 ``token_endpoint_auth_method``)."""
    method = client.token_endpoint_auth_method
    if client.jwks is not None:
        return f"{method}, keys {' '.join(kid or '(no kid)' for kid in key_ids(client))}"
    if client.jwks_uri is not None:
        return f"{method}, keys fetched from {client.jwks_uri}"
    return method


def _security_profile(client: Client) -> str:
    """The security profile the client is held to (passport.core.profile), its own or the server's."""
    if client.profile == "fapi2":
        return "fapi2 (FAPI 2.0 Security Profile), its own"
    return f"{client.profile}, its own" if client.profile else "the server's (security_profile)"


class Output:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def emit(self, payload: Any, text: str) -> None:
        print(json.dumps(payload, indent=2) if self.as_json else text)

    def note(self, text: str) -> None:
        """Progress and hints: stderr under --json, so stdout stays one JSON document."""
        print(text, file=sys.stderr if self.as_json else sys.stdout)


READS_EVERY_TOKEN = ", introspects every client's tokens"
#: RFC 9126 6: its authorization requests must be pushed.
PUSHES_ONLY = ", pushed authorization requests only"
#: RFC 9449 5.2: a token request without a DPoP proof is refused.
DPOP_ONLY = ", DPoP-bound tokens only"


def describe_client(client: Client, secret: str | None = None) -> str:
    lines = [
        f"Client ID ........ {client.client_id}",
        *( [f"Client secret .... {secret}   (shown once: store it now)"] if secret else []),
        f"Name ............. {client.name}",
        f"Type ............. {'public' if client.public else 'confidential'} {client.application_type} app"
        f"{', first-party' if client.first_party else ''}{', registered dynamically' if client.registered else ''}"
        f"{READS_EVERY_TOKEN if client.introspection else ''}"
        f"{PUSHES_ONLY if client.require_par else ''}"
        f"{DPOP_ONLY if client.dpop_bound else ''}"
        f"{', REVOKED' if client.revoked else ''}",
        f"Grants ........... {' '.join(client.grant_types)}",
    ]
    lines.append(f"Authentication ... {_authentication(client)}")
    lines.append(f"Profile .......... {_security_profile(client)}")
    if client.redirect_uris:
        lines.append(f"Redirect URIs .... {' '.join(client.redirect_uris)}")
    if client.post_logout_redirect_uris:
        lines.append(f"After logout ..... {' '.join(client.post_logout_redirect_uris)}")
    lines.append(f"Scopes ........... {' '.join(client.scopes) or '(any defined scope)'}")
    return "\n".join(lines)


# -- commands ----------------------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace, settings: Settings, out: Output) -> None:
    from passport.local.serve import serve

    try:
        from passport.local import http_server  # noqa: F401 (the local extra's httptools, asked for up front)
    except ModuleNotFoundError as error:
        raise CommandError(f"passport serve needs {error.name}: run `make install`, or "
                           "`pip install 'lambda-passport[local]'`") from None

    serve(settings, host=args.host, port=args.port)


def cmd_keys(args: argparse.Namespace, settings: Settings, out: Output) -> None:
    from passport import admin

    if args.action == "rotate":
        kid = admin.rotate_keys(settings, alg=args.alg, bits=args.length)
        out.emit({"kid": kid, "rotated": True}, f"New signing key {kid}; the previous key stays in the JWKS.")
        return
    kid = admin.create_keys(settings, force=args.force, alg=args.alg, bits=args.length)
    where = settings.keys.secret_name or str(settings.keys_path)
    if kid is None:
        out.emit({"kid": None, "created": False, "location": where},
                 f"Keys already exist in {where}; use --force to replace them.")
    else:
        out.emit({"kid": kid, "created": True, "location": where}, f"Encryption keys generated in {where} ({kid}).")


def cmd_install(args: argparse.Namespace, settings: Settings, out: Output) -> None:
    from passport import admin
    from passport.storage.repositories import DynamoClientStore

    result = admin.install(settings, DynamoClientStore(), force=args.force)
    payload = {"kid": result.kid, "clients": [client_json(m.client, m.secret) for m in result.clients]}
    text = [f"Encryption keys {'generated' if result.kid else 'already present'}."]
    text += [describe_client(m.client, m.secret) for m in result.clients] or ["Default clients already present."]
    out.emit(payload, "\n\n".join(text))


def _client_store() -> Any:
    from passport.storage.repositories import DynamoClientStore

    return DynamoClientStore()


def cmd_client_create(args: argparse.Namespace, settings: Settings, out: Output) -> None:
    grants: list[str] = list(args.grant or [])
    for shortcut, implied in GRANT_SHORTCUTS.items():
        if getattr(args, shortcut):
            grants += implied
    if not grants:
        grants = list(DEFAULT_GRANTS)
    try:
        made = new_client(
            name=args.name, grant_types=grants, redirect_uris=args.redirect_uri or [], scopes=args.scope or [],
            public=args.public, first_party=args.first_party, defined_scopes=settings.scopes,
            post_logout_redirect_uris=args.post_logout_redirect_uri or [], introspection=args.introspection,
            application_type=args.application_type, keys=_keys_of(args),
        )
    except InvalidClientMetadata as error:
        raise CommandError(str(error)) from None
    try:
        profile = validate_profile(args.profile or "", made.client)
    except InvalidClientMetadata as error:
        raise CommandError(str(error)) from None
    made = replace(made, client=replace(made.client, require_par=args.require_par, dpop_bound=args.dpop_bound,
                                        profile=profile))
    _client_store().create(made.client)
    out.emit(client_json(made.client, made.secret), "New client created.\n" + describe_client(made.client, made.secret))


def _keys_of(args: argparse.Namespace) -> KeyRegistration | None:
    """``--jwks FILE`` (a JWK Set of public keys; ``-``: standard input) or ``--jwks-uri URL``: a client that
    authenticates with private_key_jwt (RFC 7523 2.2); None when neither is given."""
    from passport.core.clients import validate_client_keys

    if args.jwks is None and args.jwks_uri is None:
        return None
    jwks = None
    if args.jwks is not None:
        try:
            text = sys.stdin.read() if args.jwks == "-" else Path(args.jwks).read_text(encoding="utf-8")
        except (OSError, UnicodeError) as error:
            raise CommandError(f"cannot read the JWK Set {args.jwks}: {error}") from None
        try:
            jwks = json.loads(text)
        except ValueError:
            raise CommandError(f'{args.jwks} is not JSON: a JWK Set is {{"keys": [...]}} (RFC 7517 5)') from None
    try:
        return validate_client_keys(jwks, args.jwks_uri)
    except InvalidClientMetadata as error:
        raise CommandError(str(error)) from None


def cmd_client_list(args: argparse.Namespace, settings: Settings, out: Output) -> None:
    clients = [c for c in _client_store().all() if c.registered or not args.registered]
    rows = [f"{c.client_id}  {'revoked ' if c.revoked else ''}{'registered ' if c.registered else ''}{c.name}  "
            f"[{' '.join(c.grant_types)}]" for c in clients]
    out.emit([client_json(c) for c in clients], "\n".join(rows) or "No clients yet.")


def _get_client(client_id: str) -> Client:
    client = _client_store().get(client_id)
    if client is None:
        raise CommandError(f"no client with id {client_id}")
    return client


def cmd_client_show(args: argparse.Namespace, settings: Settings, out: Output) -> None:
    client = _get_client(args.client_id)
    out.emit(client_json(client), describe_client(client))


def cmd_client_revoke(args: argparse.Namespace, settings: Settings, out: Output) -> None:
    if not _client_store().revoke(args.client_id):
        raise CommandError(f"no client with id {args.client_id}")
    client = _get_client(args.client_id)
    out.emit(client_json(client), f"Client {client.client_id} revoked: its tokens stop working at the guard.")


def cmd_client_update(args: argparse.Namespace, settings: Settings, out: Output) -> None:
    from passport.core.clients import changed_client

    current = _get_client(args.client_id)
    profile = None if args.profile is None else "" if args.profile == FOLLOWS_SERVER else args.profile
    try:
        client = changed_client(
            current, name=args.name, redirect_uris=args.redirect_uri, scopes=args.scope,
            first_party=args.first_party, defined_scopes=settings.scopes,
            post_logout_redirect_uris=args.post_logout_redirect_uri, introspection=args.introspection,
            application_type=args.application_type, keys=_keys_of(args),
        )
        if profile is not None:
            client = replace(client, profile=validate_profile(profile, client))
    except InvalidClientMetadata as error:
        raise CommandError(str(error)) from None
    if args.require_par is not None:
        client = replace(client, require_par=args.require_par)
    if args.dpop_bound is not None:
        client = replace(client, dpop_bound=args.dpop_bound)
    if not _client_store().update(client.client_id, None, name=client.name, redirect_uris=client.redirect_uris,
                                  scopes=client.scopes, first_party=client.first_party,
                                  post_logout_redirect_uris=client.post_logout_redirect_uris,
                                  introspection=client.introspection, application_type=client.application_type,
                                  require_par=args.require_par, dpop_bound=args.dpop_bound, profile=profile):
        raise CommandError(f"the client {client.client_id} is revoked or gone")
    # New keys replace the old at once: an assertion signed with a key no longer listed is refused.
    new_keys = args.jwks is not None or args.jwks_uri is not None
    if new_keys and not _client_store().set_keys(client.client_id, client.jwks, client.jwks_uri,
                                                 client.auth_signing_alg):
        raise CommandError(f"the client {client.client_id} is revoked or gone")
    out.emit(client_json(client), "Client updated.\n" + describe_client(client))


def cmd_client_registration_token(args: argparse.Namespace, settings: Settings, out: Output) -> None:
    """A new initial access token for ``registration.policy = "token"`` (RFC 7591 3): shown once; the settings
    keep only its SHA-256."""
    import hashlib

    from passport.core.hashing import new_secret

    token = new_secret()
    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
    out.emit({"initial_access_token": token, "initial_access_token_sha256": digest},
             f"Initial access token (shown once): {token}\nPut its hash in the settings:\n\n[registration]\n"
             f'policy = "token"\ninitial_access_token_sha256 = "{digest}"')


def cmd_client_rotate_secret(args: argparse.Namespace, settings: Settings, out: Output) -> None:
    from passport.core.hashing import hash_secret, new_secret

    client = _get_client(args.client_id)
    if client.public:
        raise CommandError("a public client has no secret")
    if client.has_keys:
        raise CommandError("this client has no secret: it authenticates with private_key_jwt (replace its keys with "
                           "passport client update --jwks or --jwks-uri)")
    secret = new_secret()
    if not _client_store().set_secret(client.client_id, hash_secret(secret)):
        raise CommandError(f"the client {client.client_id} is revoked or gone")
    out.emit(client_json(client, secret), f"New secret for {client.client_id} (shown once): {secret}")


def cmd_user_create(args: argparse.Namespace, settings: Settings, out: Output) -> None:
    from passport.core.users import EmailTaken, create_user
    from passport.storage.repositories import DynamoUserStore

    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty() and not args.json:
        import getpass

        password = getpass.getpass("Password (empty for none): ") or None
    try:
        user = create_user(DynamoUserStore(), email=args.email, name=args.name, password=password,
                           email_verified=args.email_verified, profile=_profile_of(args))
    except (EmailTaken, ValueError) as error:
        raise CommandError(str(error)) from None
    out.emit(user_json(user), f"User {user.email} created ({user.id}).")


def user_json(user: Any) -> dict[str, Any]:
    from passport.core.oidc.claims import PROFILE_FIELDS

    return {"id": user.id, "email": user.email, "name": user.name, "email_verified": user.email_verified,
            **{name: value for name in PROFILE_FIELDS if (value := getattr(user, name))}}


def _profile_of(args: argparse.Namespace) -> dict[str, str | None]:
    """The profile claims given on the command line (OpenID Connect Core 1.0 5.1); "" removes one."""
    from passport.core.oidc.claims import PROFILE_FIELDS

    return {name: getattr(args, name) for name in PROFILE_FIELDS if getattr(args, name, None) is not None}


def cmd_user_update(args: argparse.Namespace, settings: Settings, out: Output) -> None:
    from passport.core.users import update_profile
    from passport.storage.repositories import DynamoUserStore

    users = DynamoUserStore()
    user = users.find_by_email(args.email)
    if user is None:
        raise CommandError(f"no user with the email {args.email}")
    changes = {**({"name": args.name} if args.name is not None else {}), **_profile_of(args)}
    if not changes:
        raise CommandError("nothing to change: give --name or a profile claim such as --given-name")
    try:
        user = update_profile(users, user, changes)
    except (LookupError, ValueError) as error:
        raise CommandError(str(error)) from None
    out.emit(user_json(user), f"User {user.email} updated.")


def cmd_token_create(args: argparse.Namespace, settings: Settings, out: Output) -> None:
    from passport import compose
    from passport.core.errors import OAuthError
    from passport.core.personal_access import NoPersonalAccessClient
    from passport.storage.repositories import DynamoUserStore

    user = DynamoUserStore().find_by_email(args.user)
    if user is None:
        raise CommandError(f"no user with the email {args.user}")
    try:
        issued = compose.personal_access_tokens().create(user.id, args.name, args.scope or [])
    except (OAuthError, NoPersonalAccessClient) as error:
        raise CommandError(getattr(error, "description", None) or str(error)) from None
    payload = {"access_token": issued.access_token, "token_id": issued.record.jti, "name": issued.record.name,
               "scopes": list(issued.scopes), "expires_at": issued.record.expires_at}
    out.emit(payload, f"Personal access token '{args.name}' for {user.email} (shown once):\n{issued.access_token}")


def cmd_scopes(args: argparse.Namespace, settings: Settings, out: Output) -> None:
    payload = [{"name": name, "description": text, "default": name in settings.default_scopes}
               for name, text in settings.scopes.items()]
    width = max((len(n) for n in settings.scopes), default=0)
    out.emit(payload, "\n".join(f"{n.ljust(width)}  {t}" for n, t in settings.scopes.items()) or "No scopes defined.")


def cmd_purge(args: argparse.Namespace, settings: Settings, out: Output) -> None:
    """Thin: the work is passport.storage.purge. Progress on stderr (only on a TTY), then a summary line."""
    import time

    from passport.storage import models
    from passport.storage.connection import dynamodb_client
    from passport.storage.purge import PurgeProgress, purge

    if args.hours < 0:
        raise CommandError("--hours must not be negative")
    both = not (args.revoked or args.expired)
    tty = sys.stderr.isatty()

    def show(progress: PurgeProgress) -> None:
        if tty:
            print(f"\rscanned {progress.scanned:,} items, purged {progress.purged:,}", end="", file=sys.stderr,
                  flush=True)

    tokens = models.TokenModel.Meta
    counts = purge(
        dynamodb_client(getattr(tokens, "region", None)), tokens.table_name, now=time.time(), window=args.hours * 3600,
        revoked=both or args.revoked, expired=both or args.expired,
        checkpoint=settings.data_path / "purge.checkpoint.json", restart=args.restart, progress=show,
    )
    if tty:
        print(file=sys.stderr)
    line = (f"scanned {counts.scanned:,} items, purged {counts.purged:,} "
            f"({counts.revoked:,} revoked, {counts.expired:,} expired)")
    if args.json:
        out.note(line)  # stderr: stdout stays one JSON document
    out.emit(counts.summary(), line)


# -- parser ------------------------------------------------------------------------------------------------

Command = Callable[[argparse.Namespace, Settings, Output], None]
#: Commands that need the store (the rest need only settings, or run their own).
NEEDS_STORE = {
    cmd_install, cmd_client_create, cmd_client_list, cmd_client_show, cmd_client_revoke, cmd_client_rotate_secret,
    cmd_client_update,
    cmd_user_create, cmd_user_update,
    cmd_token_create, cmd_purge,
}


def _profile_arguments(parser: argparse.ArgumentParser) -> None:
    """--given-name, --family-name ... --locale: OpenID Connect Core 1.0 5.1's profile claims ("" removes one)."""
    from passport.core.oidc.claims import PROFILE_FIELDS

    shapes = {"profile": " (an https URL)", "picture": " (an https URL)", "website": " (an https URL)",
              "birthdate": " (YYYY-MM-DD or YYYY)", "zoneinfo": " (such as Europe/Paris)", "locale": " (such as en-US)"}
    for name in PROFILE_FIELDS:
        parser.add_argument("--" + name.replace("_", "-"), dest=name, metavar="VALUE",
                            help=f"the {name} claim{shapes.get(name, '')}")


def build_parser() -> argparse.ArgumentParser:
    # The common options are accepted before or after the command. SUPPRESS keeps a subcommand's parser from
    # resetting what was given before it (argparse applies subparser defaults over the parent's values).
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print one JSON document")
    common.add_argument("--config", help="settings file (default: $PASSPORT_CONFIG or ./passport.toml)")
    common.add_argument("--stack", metavar="NAME",
                        help="work on a deployed stack (its tables and key secret; AWS credentials as usual)")
    common.add_argument("--aws", action="store_true", default=argparse.SUPPRESS,
                        help="work on AWS with the table and secret names of the settings (PASSPORT_STORAGE_*...)")

    parser = argparse.ArgumentParser(prog="passport", description="lambda-passport: an OAuth 2.0 server",
                                     parents=[common])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", parents=[common], help="run the local server")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.set_defaults(func=cmd_serve)

    keys = commands.add_parser("keys", parents=[common], help="create (or rotate) the signing keys")
    keys.add_argument("action", nargs="?", choices=["rotate"], help="rotate: a new current key")
    keys.add_argument("--force", action="store_true", help="replace existing keys")
    keys.add_argument("--alg", choices=ALGORITHMS)
    keys.add_argument("--length", type=int, choices=[2048, 3072, 4096], help="RSA key size")
    keys.set_defaults(func=cmd_keys)

    install = commands.add_parser("install", parents=[common], help="keys and the default clients")
    install.add_argument("--force", action="store_true")
    install.set_defaults(func=cmd_install)

    client = commands.add_parser("client", parents=[common], help="manage clients")
    client_commands = client.add_subparsers(dest="client_command", required=True, metavar="ACTION")
    create = client_commands.add_parser("create", parents=[common], help="create a client")
    create.add_argument("--name", required=True)
    create.add_argument("--redirect-uri", action="append", metavar="URI")
    create.add_argument("--public", action="store_true", help="no secret (SPAs, native apps, CLIs)")
    create.add_argument("--grant", action="append", metavar="GRANT")
    create.add_argument("--scope", action="append", metavar="SCOPE",
                        help="limit the client to these scopes (API ones; openid, profile, email, offline_access)")
    create.add_argument("--application-type", choices=("web", "native"), default="web",
                        help="native: a desktop, mobile or command-line app, whose redirect URIs may use a "
                             "private-use scheme (cursor://..., com.example.app:/cb) (default: web)")
    create.add_argument("--first-party", action="store_true", help="skip the consent screen")
    create.add_argument("--introspection", action="store_true",
                        help="a resource server: may introspect every client's tokens (RFC 7662)")
    create.add_argument("--post-logout-redirect-uri", action="append", metavar="URI",
                        help="where OpenID Connect logout may return the browser (repeat for several)")
    create.add_argument("--jwks", metavar="FILE",
                        help="a confidential client without a secret: it authenticates with private_key_jwt, "
                             "signing with a private key whose public key is in this JWK Set (- for stdin)")
    create.add_argument("--jwks-uri", metavar="URL",
                        help="as --jwks, the JWK Set fetched from this https URL (the client may rotate keys there)")
    create.add_argument("--require-par", action="store_true",
                        help="its authorization requests must be pushed first (RFC 9126)")
    create.add_argument("--dpop-bound", action="store_true",
                        help="its access tokens are always DPoP-bound: a token request without a proof is refused "
                             "(RFC 9449 5.2)")
    create.add_argument("--profile", choices=PROFILES,
                        help="hold it to this security profile whatever the server's security_profile (fapi2: the "
                             "FAPI 2.0 Security Profile, for a client with --jwks or --jwks-uri)")
    for shortcut, implied in GRANT_SHORTCUTS.items():
        create.add_argument(f"--{shortcut}", action="store_true", help=f"grants: {' '.join(implied)}")
    create.set_defaults(func=cmd_client_create)
    client_list = client_commands.add_parser("list", parents=[common], help="list clients")
    client_list.add_argument("--registered", action="store_true",
                             help="only clients registered dynamically (RFC 7591)")
    client_list.set_defaults(func=cmd_client_list)
    registration = client_commands.add_parser(
        "registration-token", parents=[common],
        help="a new initial access token for dynamic registration (registration.policy token)")
    registration.set_defaults(func=cmd_client_registration_token)
    for name, func, text in (("show", cmd_client_show, "show a client"),
                             ("revoke", cmd_client_revoke, "revoke a client and so all its tokens"),
                             ("rotate-secret", cmd_client_rotate_secret, "a new secret (the old one stops working)")):
        sub = client_commands.add_parser(name, parents=[common], help=text)
        sub.add_argument("client_id")
        sub.set_defaults(func=func)
    update = client_commands.add_parser("update", parents=[common], help="change a client's name, redirect URIs, "
                                        "scopes, first-party or introspection flag (what is not given is kept)")
    update.add_argument("client_id")
    update.add_argument("--name")
    update.add_argument("--redirect-uri", action="append", metavar="URI", help="replaces the list (repeat for several)")
    update.add_argument("--scope", action="append", metavar="SCOPE", help="replaces the list (repeat for several)")
    update.add_argument("--application-type", choices=("web", "native"), help="web or native (see create)")
    update.add_argument("--first-party", action=argparse.BooleanOptionalAction, default=None,
                        help="skip (or, with --no-first-party, show) the consent screen")
    update.add_argument("--post-logout-redirect-uri", action="append", metavar="URI",
                        help="replaces the list (repeat for several)")
    update.add_argument("--introspection", action=argparse.BooleanOptionalAction, default=None,
                        help="let (or, with --no-introspection, stop) it introspect every client's tokens")
    update.add_argument("--jwks", metavar="FILE", help="replaces a private_key_jwt client's keys (- for stdin)")
    update.add_argument("--jwks-uri", metavar="URL", help="replaces a private_key_jwt client's keys with this URL's")
    update.add_argument("--require-par", action=argparse.BooleanOptionalAction, default=None,
                        help="accept only pushed authorization requests (RFC 9126), or, with --no-require-par, "
                             "plain ones too")
    update.add_argument("--dpop-bound", action=argparse.BooleanOptionalAction, default=None,
                        help="refuse its token requests without a DPoP proof (RFC 9449 5.2), or, with "
                             "--no-dpop-bound, take them again")
    update.add_argument("--profile", choices=(*PROFILES, FOLLOWS_SERVER),
                        help="hold it to this security profile (see create), or, with server, to the server's "
                             "security_profile again")
    update.set_defaults(func=cmd_client_update)

    user = commands.add_parser("user", parents=[common], help="manage users")
    user_commands = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    user_create = user_commands.add_parser("create", parents=[common], help="create a user")
    user_create.add_argument("--email", required=True)
    user_create.add_argument("--name", required=True)
    user_create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    user_create.add_argument("--email-verified", action="store_true",
                             help="the address is known to be the user's (OpenID Connect's email_verified)")
    _profile_arguments(user_create)
    user_create.set_defaults(func=cmd_user_create)
    user_update = user_commands.add_parser("update", parents=[common], help="change a user's name or profile claims "
                                           "(what is not given is kept)")
    user_update.add_argument("email")
    user_update.add_argument("--name")
    _profile_arguments(user_update)
    user_update.set_defaults(func=cmd_user_update)

    token = commands.add_parser("token", parents=[common], help="personal access tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    token_create = token_commands.add_parser("create", parents=[common], help="issue a personal access token")
    token_create.add_argument("--user", required=True, metavar="EMAIL")
    token_create.add_argument("--name", required=True)
    token_create.add_argument("--scope", action="append", metavar="SCOPE")
    token_create.set_defaults(func=cmd_token_create)

    purge = commands.add_parser("purge", parents=[common], help="delete revoked and expired tokens")
    purge.add_argument("--revoked", action="store_true", help="only revoked tokens")
    purge.add_argument("--expired", action="store_true", help="only expired tokens")
    purge.add_argument("--hours", type=float, default=168, help="keep what ended within this many hours")
    purge.add_argument("--restart", action="store_true", help="ignore the checkpoint of an interrupted purge")
    purge.set_defaults(func=cmd_purge)

    scopes = commands.add_parser("scopes", parents=[common], help="list the defined scopes")
    scopes.set_defaults(func=cmd_scopes)
    return parser


#: The common options' values when not given (set after parsing: see build_parser).
COMMON_DEFAULTS = {"json": False, "config": None, "stack": None, "aws": False}


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    for name, value in COMMON_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, value)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    out = Output(args.json)
    try:
        config = args.config or os.environ.get("PASSPORT_CONFIG")
        if config:
            os.environ["PASSPORT_CONFIG"] = str(Path(config).resolve())
        elif Path("passport.toml").is_file():
            os.environ["PASSPORT_CONFIG"] = str(Path("passport.toml").resolve())
        remote = bool(args.stack or args.aws)
        if args.stack:
            from passport.remote import target_stack

            target_stack(args.stack)
        settings = load_settings()
        store: AbstractContextManager[Any] = nullcontext()
        if remote:
            if not settings.keys.secret_name and args.func in (cmd_keys, cmd_install):
                raise CommandError("on AWS the keys live in a secret: set keys.secret_name or use --stack")
            from passport.storage.models import bind

            bind(settings.storage)
        elif args.func in NEEDS_STORE or (args.func is cmd_keys and settings.keys.secret_name):
            from passport.local.store import local_store

            store = local_store(settings)
        with store:
            args.func(args, settings, out)
    except KeyboardInterrupt:
        return 130
    except (CommandError, ConfigError, StackNotFound) as error:
        print(f"passport: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # one clear line, never a traceback
        from passport.core.errors import StorageUnavailable

        reason = "the store is unavailable" if isinstance(error, StorageUnavailable) else type(error).__name__
        print(f"passport: {reason}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
