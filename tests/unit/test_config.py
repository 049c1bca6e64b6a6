"""Settings (docs/configuration.md): one file, every key overridable by PASSPORT_* from the environment."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from passport.config import ConfigError, Settings, load_settings

SHIPPED = Path(__file__).resolve().parents[2] / "passport.toml"


@pytest.fixture
def config(tmp_path: Path):
    """Write a settings file and load it with an explicit environment (never the process's)."""

    def load(text: str = "", **environ: str) -> Settings:
        path = tmp_path / "passport.toml"
        path.write_text(text, encoding="utf-8")
        return load_settings(path, environ=environ)

    return load


def refused(load, text: str = "", **environ: str) -> str:
    with pytest.raises(ConfigError) as raised:
        load(text, **environ)
    return str(raised.value)


# --- defaults ------------------------------------------------------------------------------------------------


def test_defaults_equal_the_shipped_settings_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ./passport.toml: only the built-in defaults apply
    defaults = load_settings(None, environ={})
    shipped = load_settings(SHIPPED, environ={})
    assert defaults.base_dir == "."
    assert dataclasses.replace(shipped, base_dir=".") == defaults
    assert defaults == Settings()


def test_an_empty_file_gives_the_defaults(config):
    assert dataclasses.replace(config(""), base_dir=".") == Settings()


def test_the_file_is_found_through_passport_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "elsewhere.toml"
    path.write_text('issuer = "https://auth.example.com"\n')
    assert load_settings(None, environ={"PASSPORT_CONFIG": str(path)}).issuer == "https://auth.example.com"


def test_relative_paths_are_anchored_at_the_files_folder(config, tmp_path):
    settings = config('data_dir = "state"\n')
    assert settings.data_path == tmp_path / "state"
    assert settings.keys_path == tmp_path / "state" / "keys"
    assert config('[keys]\npath = "my-keys"\n').keys_path == tmp_path / "my-keys"


def test_an_unreadable_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "missing.toml", environ={})


def test_a_file_that_is_not_toml_is_a_config_error(config):
    assert "cannot read" in refused(config, "issuer = \n")


# --- environment overrides -----------------------------------------------------------------------------------


def test_section_key_override_takes_an_int(config):
    settings = config("[lifetimes]\naccess = 100\n", PASSPORT_LIFETIMES_ACCESS="600")
    assert settings.lifetimes.access == 600


@pytest.mark.parametrize("text", ["true", "TRUE", "1", "yes", "on", " true "])
def test_section_key_override_takes_a_true_bool(config, text):
    assert config(PASSPORT_GRANTS_PASSWORD=text).grants.password is True


@pytest.mark.parametrize("text", ["false", "0", "no", "off"])
def test_section_key_override_takes_a_false_bool(config, text):
    assert config("[grants]\nimplicit = true\n", PASSPORT_GRANTS_IMPLICIT=text).grants.implicit is False


def test_top_level_key_override_takes_a_string(config):
    settings = config('issuer = "https://file.example"\n', PASSPORT_ISSUER="https://env.example")
    assert settings.issuer == "https://env.example"


def test_section_key_override_takes_a_string(config):
    assert config(PASSPORT_KEYS_ALGORITHM="ES256").keys.algorithm == "ES256"
    assert config(PASSPORT_STORAGE_TOKENS_TABLE="t").storage.tokens_table == "t"


def test_list_override_is_comma_separated(config):
    settings = config(PASSPORT_DEFAULT_SCOPES="orders:read, orders:write")
    assert settings.default_scopes == ("orders:read", "orders:write")


def test_list_override_may_be_a_json_array(config):
    assert config(PASSPORT_DEFAULT_SCOPES='["orders:write"]').default_scopes == ("orders:write",)


def test_an_empty_list_override_empties_the_list(config):
    assert config('default_scopes = ["orders:read"]\n', PASSPORT_DEFAULT_SCOPES="").default_scopes == ()


def test_table_override_is_json(config):
    settings = config(PASSPORT_SCOPES='{"photos": "See your photos", "photos:edit": "Edit them"}')
    assert settings.scopes == {"photos": "See your photos", "photos:edit": "Edit them"}


def test_list_of_tables_override_is_json(config):
    settings = config(PASSPORT_DEMO_API_ROUTES='[{"method": "GET", "path": "/api/x", "any_scopes": ["orders:read"]}]')
    (route,) = settings.demo_api.routes
    assert (route.method, route.path, route.any_scopes, route.subject) == ("GET", "/api/x", ("orders:read",), "any")


def test_the_environment_wins_over_the_file(config):
    settings = config("[guard]\nleeway_seconds = 10\n", PASSPORT_GUARD_LEEWAY_SECONDS="20")
    assert settings.guard.leeway_seconds == 20


# --- bad values ----------------------------------------------------------------------------------------------


def test_a_bad_int_override_names_the_variable(config):
    assert "PASSPORT_LIFETIMES_ACCESS" in refused(config, PASSPORT_LIFETIMES_ACCESS="an hour")


def test_a_bad_bool_override_names_the_variable(config):
    assert "PASSPORT_GRANTS_PASSWORD" in refused(config, PASSPORT_GRANTS_PASSWORD="maybe")


def test_a_bad_json_list_override_names_the_variable(config):
    assert "PASSPORT_DEFAULT_SCOPES" in refused(config, PASSPORT_DEFAULT_SCOPES='["orders:read"')


def test_a_json_list_of_non_strings_names_the_variable(config):
    assert "PASSPORT_DEFAULT_SCOPES" in refused(config, PASSPORT_DEFAULT_SCOPES="[1, 2]")


def test_a_table_override_that_is_not_json_names_the_variable(config):
    assert "PASSPORT_SCOPES" in refused(config, PASSPORT_SCOPES="photos=See your photos")


def test_a_table_override_with_non_string_values_names_the_variable(config):
    assert "PASSPORT_SCOPES" in refused(config, PASSPORT_SCOPES='{"photos": 1}')


@pytest.mark.parametrize(
    ("text", "setting"),
    [
        ('[lifetimes]\naccess = "an hour"\n', r"lifetimes[._]access"),
        ("[lifetimes]\naccess = true\n", r"lifetimes[._]access"),
        ('[grants]\npassword = "yes"\n', r"grants[._]password"),
        ("issuer = 42\n", r"issuer"),
        ('default_scopes = "orders:read"\n', r"default_scopes"),
        ('scopes = ["orders:read"]\n', r"scopes"),
        ("lifetimes = 3600\n", r"lifetimes"),
    ],
)
def test_a_bad_value_in_the_file_names_the_setting(config, text, setting):
    assert re.search(setting, refused(config, text))


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ('isuer = "https://x"\n', "isuer"),
        ("[lifetimes]\naccesss = 60\n", "accesss"),
        ("[nonsense]\nx = 1\n", "nonsense"),
        ('[[demo_api.routes]]\nmethod = "GET"\npath = "/x"\nscope = ["orders:read"]\n', "scope"),
    ],
)
def test_unknown_keys_in_the_file_are_refused(config, text, name):
    message = refused(config, text)
    assert "unknown setting" in message and name in message


@pytest.mark.parametrize("seconds", [61, 3600, -1])
def test_leeway_outside_zero_to_sixty_seconds_is_refused(config, seconds):
    assert "leeway" in refused(config, f"[guard]\nleeway_seconds = {seconds}\n")


@pytest.mark.parametrize("seconds", [0, 60])
def test_leeway_up_to_sixty_seconds_is_accepted(config, seconds):
    assert config(PASSPORT_GUARD_LEEWAY_SECONDS=str(seconds)).guard.leeway_seconds == seconds


def test_leeway_over_sixty_is_refused_from_the_environment_too(config):
    assert "leeway" in refused(config, PASSPORT_GUARD_LEEWAY_SECONDS="61")


def test_default_scopes_naming_an_undefined_scope_are_refused(config):
    message = refused(config, 'default_scopes = ["orders:read", "photos"]\n')
    assert "default_scopes" in message and "photos" in message


def test_default_scopes_naming_defined_scopes_are_accepted(config):
    assert config('default_scopes = ["orders:read"]\n').default_scopes == ("orders:read",)


def test_an_unsupported_signing_algorithm_is_refused(config):
    assert "keys.algorithm" in refused(config, PASSPORT_KEYS_ALGORITHM="HS256")


def test_an_rsa_length_other_than_2048_3072_4096_is_refused(config):
    assert "rsa_bits" in refused(config, PASSPORT_KEYS_RSA_BITS="1024")


def test_a_lifetime_that_is_not_positive_is_refused(config):
    assert "lifetimes.code" in refused(config, PASSPORT_LIFETIMES_CODE="0")


def test_a_route_subject_outside_user_client_any_is_refused(config):
    assert "subject" in refused(config, '[[demo_api.routes]]\nmethod = "GET"\npath = "/x"\nsubject = "admin"\n')


def test_a_route_method_in_lower_case_is_refused_or_normalized(config):
    """The guard looks rules up by the upper-case method of the request (``GET /api/orders``); a rule written
    ``method = "get"`` would never match, and the route would fall back to "any valid token", dropping its scopes.
    Either refusing the setting or upper-casing it closes that gap."""
    text = '[[demo_api.routes]]\nmethod = "get"\npath = "/api/orders"\nscopes = ["orders:read"]\n'
    try:
        settings = config(text)
    except ConfigError as error:
        assert "method" in str(error)
    else:
        assert settings.demo_api.routes[0].method == "GET"


def test_a_route_method_that_is_not_an_http_method_is_refused(config):
    assert "method" in refused(config, '[[demo_api.routes]]\nmethod = "FETCH"\npath = "/api/x"\n')


@pytest.mark.parametrize("name", ["two words", 'say"hi"', "back\\slash", ""])
def test_a_scope_name_that_is_not_a_scope_token_is_refused(config, name):
    assert "scope" in refused(config, PASSPORT_SCOPES=json.dumps({name: "x"}))


def test_a_scope_name_outside_the_rfc6749_charset_is_refused(config):
    """RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). A non-ASCII name could be defined but never
    requested (parse_scope refuses it), so the settings must refuse it too."""
    assert "scope" in refused(config, PASSPORT_SCOPES='{"commandes:lire\u00e9": "x"}')


# --- derived values ------------------------------------------------------------------------------------------


def test_issuer_url_follows_host_and_port_when_unset(config, monkeypatch):
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "9123")
    assert config().issuer_url == "http://0.0.0.0:9123"


def test_issuer_url_defaults_to_the_local_server(config, monkeypatch):
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    assert config().issuer_url == "http://127.0.0.1:8000"


def test_a_configured_issuer_ignores_host_and_port(config, monkeypatch):
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "9123")
    assert config('issuer = "https://auth.example.com/"\n').issuer_url == "https://auth.example.com"


def test_token_audience_defaults_to_the_issuers_api(config, monkeypatch):
    monkeypatch.setenv("HOST", "localhost")
    monkeypatch.setenv("PORT", "8080")
    assert config().token_audience == "http://localhost:8080/api"
    assert config(PASSPORT_ISSUER="https://auth.example.com").token_audience == "https://auth.example.com/api"


def test_a_configured_audience_is_used_as_is(config):
    assert config(PASSPORT_AUDIENCE="https://api.example.com").token_audience == "https://api.example.com"
