"""The signed JSON-protocol client (passport.aws_json: the guard's DynamoDB lookup, the key secret's read) against
botocore, its reference, with no I/O: the same SigV4 signature for the same request at the same time (AWS Signature
Version 4, docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html), the same request as botocore's own
DynamoDB and Secrets Manager clients send, and the same endpoint, region and credentials from the same environment,
or None (botocore then serves)."""

from __future__ import annotations

import calendar
import json
import string
import time
from pathlib import Path
from types import SimpleNamespace

import botocore.auth
import botocore.session
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from passport import aws_json
from passport.aws_json import (
    DYNAMODB,
    SECRETS_MANAGER,
    Configuration,
    Credentials,
    Endpoint,
    Service,
    SignedClient,
    Unsupported,
)

NO_CONFIG_FILE = "/nonexistent/aws-config"


def storage(region: str = "", timeout_seconds: int = 4, retries: int = 2) -> SimpleNamespace:
    return SimpleNamespace(region=region, timeout_seconds=timeout_seconds, retries=retries)


def client_for(url: str, region: str, credentials: Credentials, epoch: float,
               service: Service = DYNAMODB) -> SignedClient:
    configuration = Configuration(Endpoint.parse(url), region, credentials, timeout_seconds=4, retries=0)
    return SignedClient(service, configuration, clock=lambda: epoch)


def sigv4_timestamp(epoch: float) -> str:
    """SigV4's timestamp of ``epoch`` (botocore.auth.SIGV4_TIMESTAMP)."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))


def botocore_signed(url: str, region: str, credentials: Credentials, operation: str, body: bytes,
                    epoch: float, service: Service = DYNAMODB) -> AWSRequest:
    """The request as botocore's SigV4Auth signs it for the service at ``epoch``: add_auth's own steps (its
    canonical request, string to sign, signature, scope and signed headers), given the moment as add_auth sets it
    (``request.context["timestamp"]`` and ``X-Amz-Date``), so no clock needs stopping."""
    when = sigv4_timestamp(epoch)
    headers = {"Content-Type": service.content_type, "X-Amz-Target": f"{service.target_prefix}.{operation}",
               "X-Amz-Date": when}
    if credentials.token:
        headers["X-Amz-Security-Token"] = credentials.token
    request = AWSRequest(method="POST", url=url.rstrip("/") + "/", data=body, headers=headers)
    request.context["timestamp"] = when
    reference = BotocoreCredentials(credentials.access_key, credentials.secret_key, credentials.token)
    signer = botocore.auth.SigV4Auth(reference, service.name, region)
    signature = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    request.headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={signer.scope(request)}, "
        f"SignedHeaders={signer.signed_headers(signer.headers_to_sign(request))}, Signature={signature}"
    )
    return request


# -- the signature -----------------------------------------------------------------------------------------------

LABEL = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=12)
HOSTS = st.one_of(
    st.lists(LABEL, min_size=1, max_size=4).map(".".join),
    st.tuples(*[st.integers(0, 255)] * 4).map(lambda parts: ".".join(map(str, parts))),
    st.sampled_from(["[::1]", "[2001:db8::7]", "localhost", "dynamodb.eu-west-1.amazonaws.com"]),
)
ENDPOINTS = st.builds(
    lambda scheme, host, port: f"{scheme}://{host}" + ("" if port is None else f":{port}"),
    st.sampled_from(["http", "https"]), HOSTS, st.one_of(st.none(), st.sampled_from([80, 443]),
                                                          st.integers(1, 65535)),
).flatmap(lambda url: st.sampled_from([url, url + "/"]))
REGIONS = st.from_regex(r"\A[a-z]{2}(-gov)?-[a-z]{4,9}-[1-9]\Z")
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text()),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(), inner, max_size=4)),
    max_leaves=12,
)
PAYLOADS = st.dictionaries(st.text(), JSON, max_size=5)
CREDENTIALS = st.builds(
    Credentials,
    st.text(alphabet=string.ascii_uppercase + string.digits, min_size=16, max_size=20),
    st.text(min_size=1, max_size=40),  # any text: the key is UTF-8 encoded
    # base64 as on Lambda, and with runs of spaces inside and around, which SigV4's canonical form trims
    st.one_of(st.none(), st.from_regex(r"\A *[A-Za-z0-9+/=]{1,20}( +[A-Za-z0-9+/=]{1,20}){0,3} *\Z")),
)
# 2000 to 2100, with fractions of a second (both sides sign whole seconds) that a float holds exactly enough
EPOCHS = st.builds(lambda whole, part: whole + part, st.integers(946684800, 4102444800),
                   st.sampled_from([0, 0.25, 0.5, 0.999]))
OPERATIONS = st.sampled_from(["BatchGetItem", "GetItem", "PutItem", "Query", "TransactWriteItems",
                               "GetSecretValue"])
SERVICES = st.sampled_from([DYNAMODB, SECRETS_MANAGER])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(url=ENDPOINTS, region=REGIONS, credentials=CREDENTIALS, operation=OPERATIONS, payload=PAYLOADS,
       epoch=EPOCHS, service=SERVICES)
@example(url="http://h:1", region="us-east-1", credentials=Credentials("AK", "SK", " a  b "), operation="GetItem",
         payload={}, epoch=1e9, service=DYNAMODB)
def test_the_signature_is_botocores_for_any_request(url, region, credentials, operation, payload, epoch, service):
    """The whole Authorization header (credential scope, signed headers, signature) and the date and token
    headers equal botocore's SigV4Auth's for the same request at the same moment: any region, endpoint (ports,
    default ports, IPv6, upper case), session token or none (with spaces SigV4 trims), body with any Unicode."""
    body = json.dumps(payload).encode()
    ours = client_for(url, region, credentials, epoch, service).request_headers(operation, body)
    theirs = botocore_signed(url, region, credentials, operation, body, epoch, service)
    assert ours["Authorization"] == theirs.headers["Authorization"]
    assert ours["X-Amz-Date"] == theirs.headers["X-Amz-Date"]
    assert ours.get("X-Amz-Security-Token") == theirs.headers.get("X-Amz-Security-Token")
    assert ours["Host"] == botocore.auth._host_from_url(theirs.url)  # the Host sent is the host signed


def test_a_known_signature():
    """A fixed vector, so a change to both sides at once would still show."""
    client = client_for("https://dynamodb.us-east-1.amazonaws.com", "us-east-1",
                        Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), 1440938160)
    headers = client.request_headers("ListTables", b"{}")
    assert headers == {
        "Host": "dynamodb.us-east-1.amazonaws.com",
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Date": "20150830T123600Z",
        "X-Amz-Target": "DynamoDB_20120810.ListTables",
        "Authorization": botocore_signed("https://dynamodb.us-east-1.amazonaws.com", "us-east-1",
                                         client.configuration.credentials, "ListTables", b"{}",
                                         1440938160).headers["Authorization"],
    }
    assert headers["Authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="
    )


def sent_by_botocore(monkeypatch, region: str, endpoint: str | None, credentials: Credentials, operation: str,
                     params: dict, service: Service = DYNAMODB) -> tuple[str, dict[str, str], bytes]:
    """What botocore's own client of the service puts on the wire for ``params`` (URL, headers, body), not sent;
    signed at the moment its X-Amz-Date says."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_PROFILE",
                 "AWS_ACCOUNT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", NO_CONFIG_FILE)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", NO_CONFIG_FILE)
    client = botocore.session.Session().create_client(
        service.name, region_name=region, endpoint_url=endpoint, aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key, aws_session_token=credentials.token,
    )
    seen = {}

    class Sent(Exception):
        pass

    def capture(request, **_):
        seen.update(url=request.url, headers={k: v.decode() if isinstance(v, bytes) else v
                                              for k, v in request.headers.items()}, body=request.body)
        raise Sent

    client.meta.events.register("before-send", capture)
    with pytest.raises(Sent):
        getattr(client, botocore.xform_name(operation))(**params)
    return seen["url"], seen["headers"], seen["body"]


SECRET_REQUEST = ("GetSecretValue", {"SecretId": "passport-keys-é"})
BATCH_REQUEST = ("BatchGetItem", {"RequestItems": {
    "tokens": {"Keys": [{"pk": {"S": "access#jti-é-☃"}}], "ProjectionExpression": "pk, revoked, #ttl",
               "ExpressionAttributeNames": {"#ttl": "ttl"}},
    "clients": {"Keys": [{"client_id": {"S": "c1"}}]}}})


@pytest.mark.parametrize(("service", "request_"), [(DYNAMODB, BATCH_REQUEST), (SECRETS_MANAGER, SECRET_REQUEST)],
                         ids=["dynamodb", "secretsmanager"])
@pytest.mark.parametrize(("region", "endpoint", "token"), [
    ("eu-west-1", None, "FwoGZXIvYXdzEJr//////////wEaDOtoken="),
    ("cn-north-1", None, None),
    ("us-gov-west-1", None, "token"),
    ("us-east-1", "http://127.0.0.1:8000", None),
    ("ap-southeast-2", "https://ddb.internal.example:8443/", "t"),
])
def test_the_request_is_the_one_botocores_own_client_sends(monkeypatch, service, request_, region, endpoint, token):
    """Against botocore's own client (not only its signer): the same URL, the same body bytes, and the same
    value of every header botocore signs or needs, Authorization included."""
    operation, params = request_
    credentials = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", token)
    url, headers, body = sent_by_botocore(monkeypatch, region, endpoint, credentials, operation, params, service)
    epoch = calendar.timegm(time.strptime(headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")) + 0.75  # the moment it signed
    environ = {"AWS_ACCESS_KEY_ID": credentials.access_key, "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
               "AWS_DEFAULT_REGION": region, "AWS_CONFIG_FILE": NO_CONFIG_FILE}
    if token:
        environ["AWS_SESSION_TOKEN"] = token
    if endpoint:
        environ[f"AWS_ENDPOINT_URL_{service.endpoint_variable}"] = endpoint
    ours = SignedClient.configured(service, storage(), environ, clock=lambda: epoch)
    assert ours is not None
    assert Endpoint.parse(url) == ours.configuration.endpoint
    assert json.dumps(params).encode() == body
    signed = ours.request_headers(operation, body)
    for name in ("Authorization", "X-Amz-Date", "X-Amz-Target", "Content-Type", "X-Amz-Security-Token"):
        assert signed.get(name) == headers.get(name), name
    assert "X-Amz-Content-SHA256" not in headers


def test_each_services_protocol_is_its_botocore_models():
    """The JSON version, target prefix, signing and endpoint names as botocore's models of the two services say."""
    session = botocore.session.Session()
    for service in (DYNAMODB, SECRETS_MANAGER):
        metadata = session.get_service_model(service.name).metadata
        assert metadata["protocol"] == "json"
        assert metadata["jsonVersion"] == service.json_version
        assert metadata["targetPrefix"] == service.target_prefix
        assert metadata["signatureVersion"] == "v4"
        assert metadata.get("signingName", metadata["endpointPrefix"]) == metadata["endpointPrefix"] == service.name
        assert metadata["serviceId"].upper().replace(" ", "_") == service.endpoint_variable


# -- configuration ----------------------------------------------------------------------------------------------

LAMBDA = {
    "AWS_ACCESS_KEY_ID": "ASIAEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "secret",
    "AWS_SESSION_TOKEN": "token",
    "AWS_REGION": "eu-west-1",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_CONFIG_FILE": NO_CONFIG_FILE,
}


def resolved(region: str = "", **environ: str | None) -> Configuration:
    env = {k: v for k, v in {**LAMBDA, **environ}.items() if v is not None}
    return Configuration.from_environment(DYNAMODB, storage(region), env)


def unsupported(region: str = "", **environ: str | None) -> str:
    with pytest.raises(Unsupported) as raised:
        resolved(region, **environ)
    env = {k: v for k, v in {**LAMBDA, **environ}.items() if v is not None}
    assert SignedClient.configured(DYNAMODB, storage(region), env) is None
    return str(raised.value)


def test_on_lambda_the_regional_endpoint_the_environments_credentials_and_the_storage_limits():
    config = Configuration.from_environment(DYNAMODB, storage(timeout_seconds=3, retries=1), LAMBDA)
    assert config.endpoint == Endpoint("https", "dynamodb.eu-west-1.amazonaws.com", 443,
                                       "dynamodb.eu-west-1.amazonaws.com")
    assert config.region == "eu-west-1"
    assert config.credentials == Credentials("ASIAEXAMPLE", "secret", "token")
    assert (config.timeout_seconds, config.retries) == (3, 1)
    assert "secret" not in repr(config) and "token" not in repr(config)


@pytest.mark.parametrize(("region", "host"), [
    ("us-east-1", "dynamodb.us-east-1.amazonaws.com"),
    ("il-central-1", "dynamodb.il-central-1.amazonaws.com"),
    ("us-gov-east-1", "dynamodb.us-gov-east-1.amazonaws.com"),
    ("cn-northwest-1", "dynamodb.cn-northwest-1.amazonaws.com.cn"),
])
def test_the_regional_endpoint_of_each_partition_served(region, host):
    assert resolved(AWS_REGION=region, AWS_DEFAULT_REGION=region).endpoint.host_header == host


def test_the_region_is_the_storage_setting_else_botocores_variable_else_lambdas():
    assert resolved("ap-south-1").region == "ap-south-1"
    assert resolved(AWS_REGION="us-west-2", AWS_DEFAULT_REGION="eu-central-1").region == "eu-central-1"
    assert resolved(AWS_REGION="us-west-2", AWS_DEFAULT_REGION=None).region == "us-west-2"
    assert resolved(AWS_REGION="us-west-2", AWS_DEFAULT_REGION="").region == "us-west-2"


def test_the_configured_endpoint_the_dynamodb_one_first_unless_configured_endpoints_are_ignored():
    assert resolved(AWS_ENDPOINT_URL="http://127.0.0.1:4566").endpoint == Endpoint("http", "127.0.0.1", 4566,
                                                                                     "127.0.0.1:4566")
    both = resolved(AWS_ENDPOINT_URL="http://127.0.0.1:4566", AWS_ENDPOINT_URL_DYNAMODB="http://localhost:8000/")
    assert both.endpoint == Endpoint("http", "localhost", 8000, "localhost:8000")
    for value in ("true", "TRUE", "True"):
        ignored = resolved(AWS_ENDPOINT_URL="http://127.0.0.1:4566", AWS_ENDPOINT_URL_DYNAMODB="http://h:1",
                           AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=value)
        assert ignored.endpoint.host_header == "dynamodb.eu-west-1.amazonaws.com"
    kept = resolved(AWS_ENDPOINT_URL_DYNAMODB="http://h:1", AWS_IGNORE_CONFIGURED_ENDPOINT_URLS="false")
    assert kept.endpoint.host_header == "h:1"
    assert resolved(AWS_ENDPOINT_URL_DYNAMODB="").endpoint.host_header == "dynamodb.eu-west-1.amazonaws.com"


@pytest.mark.parametrize(("url", "endpoint"), [
    ("https://Example.COM", Endpoint("https", "example.com", 443, "example.com")),
    ("https://example.com:443/", Endpoint("https", "example.com", 443, "example.com")),
    ("http://example.com:80", Endpoint("http", "example.com", 80, "example.com")),
    ("http://example.com:443", Endpoint("http", "example.com", 443, "example.com:443")),
    ("https://10.0.0.7:8443", Endpoint("https", "10.0.0.7", 8443, "10.0.0.7:8443")),
    ("http://[::1]:8000", Endpoint("http", "::1", 8000, "[::1]:8000")),
    ("https://[2001:DB8::1]", Endpoint("https", "2001:db8::1", 443, "[2001:db8::1]")),
])
def test_plain_endpoint_urls_and_their_host_header_as_botocore_signs_it(url, endpoint):
    assert Endpoint.parse(url) == endpoint
    assert endpoint.host_header == botocore.auth._host_from_url(url)


def test_the_legacy_session_token_variable_and_no_token():
    assert resolved(AWS_SESSION_TOKEN=None, AWS_SECURITY_TOKEN="old").credentials.token == "old"
    assert resolved(AWS_SESSION_TOKEN=None).credentials.token is None
    assert resolved(AWS_SESSION_TOKEN="").credentials.token is None


def test_a_ca_bundle_is_honoured_as_botocore_honours_it():
    assert resolved(AWS_CA_BUNDLE="/etc/ssl/bundle.pem").ca_bundle == "/etc/ssl/bundle.pem"
    assert resolved(AWS_CA_BUNDLE=None).ca_bundle is None


@pytest.mark.parametrize(("environ", "region", "reason"), [
    ({"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_SESSION_TOKEN": None}, "", "credentials"),
    ({"AWS_SECRET_ACCESS_KEY": None}, "", "credentials"),
    ({"AWS_ACCESS_KEY_ID": ""}, "", "credentials"),
    ({"AWS_REGION": None, "AWS_DEFAULT_REGION": None}, "", "no region"),
    ({"AWS_USE_FIPS_ENDPOINT": "true"}, "", "FIPS"),
    ({"AWS_USE_DUALSTACK_ENDPOINT": "TRUE"}, "", "dual-stack"),
    ({"AWS_USE_FIPS_ENDPOINT": "true", "AWS_ENDPOINT_URL_DYNAMODB": "http://h:1"}, "", "FIPS"),
    ({"AWS_ENDPOINT_URL_DYNAMODB": "http://h:1/prefix"}, "", "more than"),
    ({"AWS_ENDPOINT_URL_DYNAMODB": "http://h:1/?x=1"}, "", "more than"),
    ({"AWS_ENDPOINT_URL_DYNAMODB": "http://h:1/#top"}, "", "more than"),
    ({"AWS_ENDPOINT_URL": "ftp://h"}, "", "more than"),
    ({"AWS_ENDPOINT_URL": "h:8000"}, "", "more than"),
    ({"AWS_ENDPOINT_URL_DYNAMODB": "http://user:pw@h:1"}, "", "user info"),
    ({"AWS_ENDPOINT_URL_DYNAMODB": "http://h:99999"}, "", "not a plain URL"),
    ({"AWS_ENDPOINT_URL_DYNAMODB": "http://under_score.example"}, "", "not a valid"),
    ({"AWS_ENDPOINT_URL_DYNAMODB": "http://[fe80::1%25eth0]:8000"}, "", "not a valid"),
    ({}, "us-iso-east-1", "partition"),
    ({}, "eu-isoe-west-1", "partition"),
    ({}, "local", "partition"),
    ({"AWS_REGION": "not a region", "AWS_DEFAULT_REGION": None}, "", "partition"),
    ({"AWS_PROFILE": "dev"}, "", "profile"),
    ({"AWS_ACCOUNT_ID": "123456789012"}, "", "account-ID"),
    ({"AWS_ACCOUNT_ID_ENDPOINT_MODE": "required"}, "", "account-ID"),
    ({"HTTPS_PROXY": "http://proxy:3128"}, "", "proxy"),
    ({"https_proxy": "http://proxy:3128"}, "", "proxy"),
    ({"AWS_ENDPOINT_URL_DYNAMODB": "http://h:1", "HTTP_PROXY": "http://proxy:3128"}, "", "proxy"),
])
def test_where_botocore_would_do_more_the_signed_client_declines(environ, region, reason):
    assert reason in unsupported(region, **environ)


def test_what_does_not_apply_does_not_decline():
    """An account ID with account endpoints disabled or an endpoint URL set, a proxy for the other scheme."""
    assert resolved(AWS_ACCOUNT_ID="123456789012", AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled")
    assert resolved(AWS_ACCOUNT_ID="123456789012", AWS_ENDPOINT_URL_DYNAMODB="http://h:1")
    assert resolved(HTTP_PROXY="http://proxy:3128")
    assert resolved(AWS_USE_FIPS_ENDPOINT="false", AWS_USE_DUALSTACK_ENDPOINT="no")


def test_a_shared_config_file_is_left_to_botocore(tmp_path: Path):
    config = tmp_path / "config"
    config.write_text("[default]\nendpoint_url = http://elsewhere:1\n")
    assert "config file" in unsupported(AWS_CONFIG_FILE=str(config))


@pytest.mark.parametrize("environ", [
    {},
    {"AWS_DEFAULT_REGION": "cn-north-1", "AWS_REGION": "cn-north-1"},
    {"AWS_DEFAULT_REGION": "us-gov-west-1"},
    {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"},
    {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_DYNAMODB": "https://ddb.example:8443/"},
    {"AWS_ENDPOINT_URL_DYNAMODB": "http://h:1", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"},
    {"AWS_DEFAULT_REGION": None, "AWS_REGION": None, "storage_region": "sa-east-1"},
    {"AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:4567"},
    {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://localhost:9/"},
])
@pytest.mark.parametrize("service", [DYNAMODB, SECRETS_MANAGER], ids=["dynamodb", "secretsmanager"])
def test_botocore_resolves_the_same_endpoint_and_region_from_the_same_environment(monkeypatch, environ, service):
    """Each service's own endpoint variable is its alone: DynamoDB's never points Secrets Manager elsewhere."""
    environ = dict(environ)
    region = environ.pop("storage_region", "")
    env = {k: v for k, v in {**LAMBDA, **environ}.items() if v is not None}
    ours = Configuration.from_environment(service, storage(region), env)
    for name in [n for n in __import__("os").environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    theirs = botocore.session.Session().create_client(service.name, region_name=region or None)
    assert Endpoint.parse(theirs.meta.endpoint_url) == ours.endpoint
    assert theirs.meta.region_name == ours.region
    frozen = theirs._request_signer._credentials.get_frozen_credentials()
    assert Credentials(frozen.access_key, frozen.secret_key, frozen.token) == ours.credentials


def test_the_connect_timeout_is_the_botocore_clients():
    from passport.storage import connection

    assert aws_json.CONNECT_TIMEOUT == connection.CONNECT_TIMEOUT


def test_the_retried_error_codes_include_botocores_standard_mode_lists():
    from botocore.retries.standard import ThrottledRetryableChecker, TransientRetryableChecker

    assert set(ThrottledRetryableChecker._THROTTLED_ERROR_CODES) <= aws_json.THROTTLING_CODES
    assert set(TransientRetryableChecker._TRANSIENT_ERROR_CODES) <= aws_json.TRANSIENT_CODES
    assert set(TransientRetryableChecker._TRANSIENT_STATUS_CODES) <= aws_json.TRANSIENT_STATUSES
