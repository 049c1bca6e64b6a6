"""One error hierarchy (passport/core/errors.py): every exception class of the package derives from PassportError,
and each surface a handler answers in has its documented base, so what can escape a handler is one ``except``."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import passport
from passport.core.authorization import RedirectError
from passport.core.errors import BearerError, OAuthError, PageError, PassportError, StorageUnavailable
from passport.core.registration import RegistrationError
from passport.endpoints.mcp_server import RpcError


def package_exceptions() -> list[type[BaseException]]:
    """Every exception class defined in a module of the package (private helpers included)."""
    found = []
    for info in pkgutil.walk_packages(passport.__path__, "passport."):
        if info.name.endswith("__main__"):  # runs the CLI when imported
            continue
        module = importlib.import_module(info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == module.__name__:
                found.append(value)
    return found


def test_every_exception_of_the_package_derives_from_passport_error():
    exceptions = package_exceptions()
    assert len(exceptions) >= 25  # the walk found the package's modules
    outside = sorted(f"{e.__module__}.{e.__qualname__}" for e in exceptions
                     if not issubclass(e, PassportError) and not e.__name__.startswith("_"))
    assert outside == []


def test_each_surface_has_its_base():
    """OAuth JSON (RFC 6749 5.2, RFC 7591 3.2.2), Bearer challenge (RFC 6750 3), page, JSON-RPC, and storage."""
    for base in (OAuthError, BearerError, PageError, RpcError, StorageUnavailable, RedirectError):
        assert issubclass(base, PassportError)
    assert issubclass(RegistrationError, OAuthError)
    registration = RegistrationError("invalid_redirect_uri", "No redirect URI.")
    assert (registration.status, registration.body()) == (
        400, {"error": "invalid_redirect_uri", "error_description": "No redirect URI."})
