"""The guard: a Lambda authorizer for API Gateway that accepts the access tokens this server issues
(docs/concepts.md). Its import set is kept lean: it runs on every API call of every user.

Nothing in this package imports boto3, pynamodb, Powertools' event handler or pydantic at import time; the
DynamoDB revocation lookup is imported on the first uncached decision.
"""
