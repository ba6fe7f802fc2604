"""Reading settings from the environment: safe local defaults, loud failure on nonsense."""

import os

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
