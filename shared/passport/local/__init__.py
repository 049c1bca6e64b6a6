"""Running locally (``passport serve`` and the CLI): the local store (AWS's DynamoDB Local, started and found) and
the local gateway (API Gateway's twin, on an httptools HTTP server). The only package that knows it is not on
AWS; never part of the Lambda layer."""
