"""Settings from the environment: safe defaults, loud failure on nonsense, and SQLite in WAL mode."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteDatabaseWrapper

from config.env import env_bool, env_list, env_str, mailer_settings
from config.settings import database_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VARIABLE = "PEER_DIRECTORY_TEST_VARIABLE"


def run_settings_import(code="import config.settings", **environment):
    """Import the settings in a fresh interpreter with only the given variables (plus PATH) set."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **environment}
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# --- env_bool -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["1", "true", "True", "YES", "on", " true "])
def test_env_bool_reads_true_words(monkeypatch, word):
    monkeypatch.setenv(VARIABLE, word)

    assert env_bool(VARIABLE, default=False) is True


@pytest.mark.parametrize("word", ["0", "false", "FALSE", "no", "Off", ""])
def test_env_bool_reads_false_words(monkeypatch, word):
    monkeypatch.setenv(VARIABLE, word)

    assert env_bool(VARIABLE, default=True) is False


@pytest.mark.parametrize("default", [True, False])
def test_env_bool_uses_the_default_when_unset(monkeypatch, default):
    monkeypatch.delenv(VARIABLE, raising=False)

    assert env_bool(VARIABLE, default=default) is default


@pytest.mark.parametrize("word", ["maybe", "2", "yes please", "tru"])
def test_env_bool_refuses_a_malformed_value(monkeypatch, word):
    monkeypatch.setenv(VARIABLE, word)

    with pytest.raises(ImproperlyConfigured, match=VARIABLE):
        env_bool(VARIABLE, default=False)


# --- env_str and env_list ----------------------------------------------------------------------------------------


def test_env_str_without_default_refuses_a_missing_variable(monkeypatch):
    monkeypatch.delenv(VARIABLE, raising=False)

    with pytest.raises(ImproperlyConfigured, match=VARIABLE):
        env_str(VARIABLE)


def test_env_str_returns_the_value_or_the_default(monkeypatch):
    monkeypatch.delenv(VARIABLE, raising=False)
    assert env_str(VARIABLE, default="fallback") == "fallback"

    monkeypatch.setenv(VARIABLE, "set value")
    assert env_str(VARIABLE) == "set value"
    assert env_str(VARIABLE, default="fallback") == "set value"


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv(VARIABLE, " example.org, www.example.org ,,")

    assert env_list(VARIABLE, default=["localhost"]) == ["example.org", "www.example.org"]


def test_env_list_uses_a_copy_of_the_default_when_unset(monkeypatch):
    monkeypatch.delenv(VARIABLE, raising=False)
    default = ["localhost"]

    hosts = env_list(VARIABLE, default=default)
    hosts.append("evil.example")

    assert default == ["localhost"]


# --- Importing the settings ---------------------------------------------------------------------------------------


def test_settings_import_fails_loudly_without_secret_key():
    result = run_settings_import()

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


PRODUCTION = {"SECRET_KEY": "a-secret-for-this-test-only", "ALLOWED_HOSTS": "peer.example.org"}


def test_settings_import_fails_loudly_without_allowed_hosts_in_production():
    result = run_settings_import(SECRET_KEY="a-secret-for-this-test-only")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "ALLOWED_HOSTS" in result.stderr


def test_settings_import_fails_loudly_on_an_empty_secret_key():
    result = run_settings_import(**{**PRODUCTION, "SECRET_KEY": ""})

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_settings_import_succeeds_with_a_secret_key_and_allowed_hosts():
    result = run_settings_import(**PRODUCTION)

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("variable", ["DJANGO_DEBUG", "DJANGO_HTTPS", "EMAIL_USE_TLS"])
def test_settings_import_fails_loudly_on_a_malformed_flag(variable):
    result = run_settings_import(**PRODUCTION, EMAIL_HOST="mail.example.org", **{variable: "maybe"})

    assert result.returncode != 0
    assert variable in result.stderr
    assert "'maybe'" in result.stderr


def test_settings_import_fails_loudly_on_a_malformed_number():
    result = run_settings_import(**PRODUCTION, EMAIL_HOST="mail.example.org", EMAIL_PORT="twenty-five")

    assert result.returncode != 0
    assert "EMAIL_PORT" in result.stderr


def test_production_is_the_default():
    result = run_settings_import(
        "import config.settings as s; print(s.DEBUG, s.ALLOWED_HOSTS, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_NAME)",
        **PRODUCTION,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False ['peer.example.org'] True __Host-session"


def test_debugging_on_ones_own_machine_needs_no_secret_key_or_hosts():
    result = run_settings_import("import config.settings as s; print(s.DEBUG, s.ALLOWED_HOSTS)", DJANGO_DEBUG="yes")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True ['localhost', '127.0.0.1', '[::1]']"


def test_plain_http_drops_the_https_only_cookie_names_and_redirect():
    result = run_settings_import(
        "import config.settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_NAME)",
        **PRODUCTION,
        DJANGO_HTTPS="false",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False 0 session"


def test_env_list_without_default_refuses_a_missing_or_empty_variable(monkeypatch):
    monkeypatch.setenv(VARIABLE, " , ")
    with pytest.raises(ImproperlyConfigured, match=VARIABLE):
        env_list(VARIABLE)

    monkeypatch.delenv(VARIABLE)
    with pytest.raises(ImproperlyConfigured, match=VARIABLE):
        env_list(VARIABLE)


# --- The database -------------------------------------------------------------------------------------------


def test_database_settings_put_a_sqlite_database_in_wal_mode():
    database = database_settings("sqlite:////tmp/directory.sqlite3")

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert "PRAGMA journal_mode=WAL" in database["OPTIONS"]["init_command"]
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_database_settings_leave_postgresql_options_alone():
    database = database_settings("postgres://directory@db.example.org:5432/directory")

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["NAME"] == "directory"
    assert "init_command" not in database.get("OPTIONS", {})
    assert database["CONN_MAX_AGE"] == 60


@pytest.mark.skipif(connection.vendor != "sqlite", reason="WAL journal mode only applies to SQLite")
@pytest.mark.django_db
def test_the_configured_sqlite_database_runs_in_wal_journal_mode(tmp_path):
    # The test database lives in memory, where WAL cannot apply; open a file with the configured settings instead.
    settings_dict = {**connection.settings_dict, "NAME": str(tmp_path / "directory.sqlite3")}
    wrapper = SQLiteDatabaseWrapper(settings_dict, alias="wal_check")
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            (mode,) = cursor.fetchone()
            cursor.execute("PRAGMA synchronous")
            (synchronous,) = cursor.fetchone()
    finally:
        wrapper.close()

    assert mode == "wal"
    assert synchronous == 1  # NORMAL


# --- E-mail ---------------------------------------------------------------------------------------------------


def test_mail_goes_to_the_console_when_no_server_is_configured(monkeypatch):
    monkeypatch.delenv("EMAIL_HOST", raising=False)

    assert mailer_settings("") == {"BACKEND": "django.core.mail.backends.console.EmailBackend"}


def test_mail_server_from_a_url():
    mailer = mailer_settings("smtp://directory%40example.org:p%40ss@mail.example.org:587?tls=true")

    assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert mailer["OPTIONS"] == {
        "host": "mail.example.org",
        "port": 587,
        "username": "directory@example.org",
        "password": "p@ss",
        "use_tls": True,
        "use_ssl": False,
        "timeout": 10,
    }


def test_mail_server_over_implicit_tls_defaults_to_port_465():
    options = mailer_settings("smtps://mail.example.org")["OPTIONS"]

    assert (options["port"], options["use_ssl"], options["use_tls"]) == (465, True, False)


def test_mail_server_from_the_standard_variables(monkeypatch):
    monkeypatch.setenv("EMAIL_HOST", "mail.example.org")
    monkeypatch.setenv("EMAIL_PORT", "2525")
    monkeypatch.setenv("EMAIL_USE_TLS", "yes")

    options = mailer_settings("")["OPTIONS"]

    assert (options["host"], options["port"], options["use_tls"]) == ("mail.example.org", 2525, True)


@pytest.mark.parametrize(
    "url", ["http://mail.example.org", "smtp://", "smtp://mail.example.org:port", "smtp://mail.example.org?tls=maybe"]
)
def test_a_malformed_mail_url_is_refused(url):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        mailer_settings(url)
