"""Signing keys: generation, loading (files, environment, Secrets Manager), the JWKS and rotation."""
