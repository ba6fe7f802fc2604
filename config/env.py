"""Reading settings from the environment: safe local defaults, loud failure on nonsense."""

import os
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name, default=None):
    """The variable's text; without a default, a missing or empty variable is an error."""
    value = os.environ.get(name)
    if value is None or (value == "" and default is None):
        if default is None:
            raise ImproperlyConfigured(f"The environment variable {name} must be set.")
        return default
    return value


def env_int(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {value!r}.") from None


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}.")


def env_list(name, default=None):
    """Comma-separated values; without a default, a missing or empty list is an error."""
    value = os.environ.get(name)
    items = [item.strip() for item in value.split(",") if item.strip()] if value is not None else []
    if items:
        return items
    if default is None:
        raise ImproperlyConfigured(f"The environment variable {name} must be set (comma-separated).")
    return list(default)


def mailer_settings(url):
    """The MAILERS entry for an smtp:// or smtps:// URL; without one, EMAIL_HOST and friends, else the console."""
    if not url:
        if "EMAIL_HOST" not in os.environ:
            return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
        return {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": env_str("EMAIL_HOST"),
                "port": env_int("EMAIL_PORT", default=25),
                "username": env_str("EMAIL_HOST_USER", default=""),
                "password": env_str("EMAIL_HOST_PASSWORD", default=""),
                "use_tls": env_bool("EMAIL_USE_TLS", default=False),
                "timeout": 10,
            },
        }
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ImproperlyConfigured("EMAIL_URL must look like smtp://user:password@host:587?tls=true.")
    query = parse_qs(parts.query)
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError:
        raise ImproperlyConfigured("EMAIL_URL has a malformed port.") from None
    tls = query.get("tls", ["false"])[-1].lower()
    if tls not in TRUE_WORDS | FALSE_WORDS:
        raise ImproperlyConfigured(f"EMAIL_URL's tls must be true or false; got {tls!r}.")
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": parts.hostname,
            "port": port,
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_tls": tls in TRUE_WORDS,
            "use_ssl": parts.scheme == "smtps",
            "timeout": 10,
        },
    }
