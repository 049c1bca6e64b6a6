"""The OAuth core: grants, tokens, scopes, clients and errors.

Nothing here knows API Gateway events, boto3 or pynamodb: it speaks in the small request and response types of
:mod:`passport.core.http` and reaches storage through the ports of :mod:`passport.ports`.
"""
