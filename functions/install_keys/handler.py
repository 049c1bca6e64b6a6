"""The install-keys custom resource (docs/keys.md), called by the CDK Provider framework for CloudFormation.

- Create: the signing keys into the secret and the default clients, as ``passport install``. What exists is
  kept, so a repeated Create (a retry, a replacement) changes nothing.
- Update: the same: creates what is missing (the password grant client once that grant is on), never replaces
  a key. New keys come only from ``passport keys rotate``.
- Delete: nothing. The secret and the tables follow their own removal policy (retained by default), and a
  replacement deletes the old resource after creating the new one: it must not take the keys with it.

The answer is ``{"PhysicalResourceId", "Data": {"Kid", "CreatedClients"}}``; no secret is ever in it or in a log.

A failure raises :class:`InstallKeysFailed`, and the framework reports it to CloudFormation. CloudFormation
refuses a custom resource response over 4,096 bytes ("Response object is too long"), and the framework
(aws-cdk-lib ``custom-resources/lib/provider-framework/runtime/framework.js``, ``invokeUserFunction``, and
``cfn-response.js``, ``submitResponse``) puts this function's ``errorMessage`` in the ``Reason`` as it is, with
the log group and a Node.js stack added. So whatever failed, the message raised here is short, one line and
bounded (``passport.custom_resource``): the cause's type and the start of its text, and where the full log is.
The full detail goes to the log first, with any private key taken out.
"""

import json
import logging

from passport.config import load_settings
from passport.custom_resource import REQUEST_TYPES, failure_message, log_failure
from passport.observability import instrumented

log = logging.getLogger("passport.install_keys")
log.setLevel(logging.INFO)


class InstallKeysFailed(RuntimeError):
    """The failure as CloudFormation is told it: one bounded line (the full detail is in the function's log)."""


@instrumented
def handler(event, context):
    try:
        return serve(event)
    except Exception as error:
        log_failure(log, event, context, error)
        # ``from None``: the Lambda runtime reports this error alone; the cause is in the log just written.
        raise InstallKeysFailed(failure_message(event, context, error)) from None


def serve(event):
    request = event.get("RequestType")
    if request not in REQUEST_TYPES:
        raise ValueError(f"unknown RequestType {request!r}; CloudFormation sends {', '.join(REQUEST_TYPES)}")
    settings = load_settings()
    secret_name = settings.keys.secret_name
    if not secret_name:
        raise RuntimeError("PASSPORT_KEYS_SECRET_NAME is not set: the keys have nowhere to go")
    physical_id = event.get("PhysicalResourceId") or f"passport-install-keys:{secret_name}"
    if request == "Delete":
        log.info(json.dumps({"request": request, "action": "kept the keys and the clients"}))
        return {"PhysicalResourceId": physical_id}
    # Imported here, not at cold start: key generation and storage serve Create and Update only, once a deploy.
    from passport import admin
    from passport.keys.secret import read_secret
    from passport.storage.models import bind
    from passport.storage.repositories import DynamoClientStore

    bind(settings.storage)
    result = admin.install(settings, DynamoClientStore())
    document = read_secret(secret_name) or {}
    kid = (document.get("current") or {}).get("kid")
    if not kid:
        raise RuntimeError(f"the secret {secret_name} holds no current key after install")
    created = [made.client.client_id for made in result.clients]
    log.info(
        json.dumps({"request": request, "kid": kid, "key_created": result.kid is not None, "created_clients": created})
    )
    return {"PhysicalResourceId": physical_id, "Data": {"Kid": kid, "CreatedClients": ",".join(created)}}
