"""Production settings pass Django's deployment checks, and nothing that tracks or phones home is installed."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

PROJECT = Path(settings.BASE_DIR)
LOCK_FILES = sorted((PROJECT / "requirements").glob("*.txt"))

# Every package the lock files may pin. A new one is reviewed before it is added here: it must not track
# visitors, report errors to a third party, or phone home in any other way.
ALLOWED_PACKAGES = {
    # The application.
    "asgiref", "dj-database-url", "django", "django-filter", "django-phonenumber-field", "gunicorn",
    "phonenumberslite", "psycopg", "psycopg-binary", "sqlparse", "whitenoise",
    "argon2-cffi", "argon2-cffi-bindings", "cffi", "pycparser", "django-axes", "django-otp", "segno", "redis",
    "django-simple-history", "django-import-export", "tablib", "diff-match-patch", "openpyxl", "et-xmlfile",
    # Tests and tools.
    "build", "click", "iniconfig", "packaging", "pip", "pip-tools", "pluggy", "pygments", "pyproject-hooks",
    "pytest", "pytest-django", "ruff", "setuptools", "wheel",
    # Real-browser and accessibility tests, translation catalogue checks.
    "playwright", "greenlet", "axe-playwright-python", "polib",
    # Property-based tests.
    "hypothesis", "sortedcontainers",
    # The audit of the locked dependencies against published advisories (pip-audit) and what it needs.
    "pip-audit", "boolean-py", "cachecontrol", "certifi", "charset-normalizer", "cyclonedx-python-lib", "defusedxml",
    "filelock", "idna", "license-expression", "markdown-it-py", "mdurl", "msgpack", "packageurl-python", "pip-api",
    "pip-requirements-parser", "platformdirs", "py-serializable", "pyparsing", "requests", "rich", "tomli",
    "tomli-w", "urllib3",
}  # fmt: skip
# Words that mark analytics, error tracking, monitoring agents and other trackers.
TRACKER_WORDS = (
    "analytics", "sentry", "newrelic", "datadog", "ddtrace", "rollbar", "bugsnag", "honeybadger", "raygun",
    "airbrake", "posthog", "mixpanel", "segment", "amplitude", "matomo", "piwik", "hotjar", "logrocket",
    "opentelemetry", "elasticapm", "elastic-apm", "scout-apm", "scout_apm", "appsignal", "instana", "tracking",
    "tracker", "telemetry", "heap", "fullstory",
)  # fmt: skip


def locked_packages():
    names = set()
    for lock_file in LOCK_FILES:
        names |= {match.lower() for match in re.findall(r"^([A-Za-z0-9_.-]+)==", lock_file.read_text(), re.M)}
    return names


def test_the_lock_files_pin_only_reviewed_packages():
    packages = locked_packages()

    assert packages, "no pinned packages found"
    assert packages - ALLOWED_PACKAGES == set(), "review these packages, then add them to ALLOWED_PACKAGES"


def test_no_tracker_is_locked_or_configured():
    configured = [
        *settings.INSTALLED_APPS,
        *settings.MIDDLEWARE,
        *(h["class"] for h in settings.LOGGING["handlers"].values()),
    ]
    names = [*locked_packages(), *ALLOWED_PACKAGES, *configured]

    assert [name for name in names for word in TRACKER_WORDS if word in name.lower()] == []


def test_the_tracker_check_would_notice_a_tracker():
    assert any(word in "sentry-sdk" for word in TRACKER_WORDS)
    assert any(word in "django-google-analytics-app" for word in TRACKER_WORDS)


def production(**overrides):
    return {
        "PATH": os.environ["PATH"],
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "peer.example.org",
        "EMAIL_URL": "smtp://directory:secret@mail.example.org:587?tls=true",
        **overrides,
    }


def run_deploy_check(environment):
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_the_deployment_checks():
    result = run_deploy_check(production())

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("overrides", "warning"),
    [({"DJANGO_HTTPS": "false"}, "security.W004"), ({"DJANGO_DEBUG": "true"}, "security.W018")],
)
def test_the_deployment_checks_notice_an_unsafe_setting(overrides, warning):
    result = run_deploy_check(production(**overrides))

    assert result.returncode != 0
    assert warning in result.stdout + result.stderr


@pytest.mark.django_db
def test_health_check_answers_ok_when_the_database_answers(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response.headers["Content-Type"] == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"
