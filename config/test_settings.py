"""Test settings: what the tests must override, in one place."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1")

from config.settings import *  # noqa: F403

# The test client speaks plain HTTP; everything else about HTTPS stays as in production.
SECURE_SSL_REDIRECT = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "default"},
    "axes": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "axes"},
    "limits": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "limits"},
}
# Tests render templates without running collectstatic first.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Static files come straight from the app folders, without collectstatic.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True

# Several test runs may share one PostgreSQL server (two checkouts, CI beside a developer): each gets its own database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}  # noqa: F405

# Work after a response runs in the request's own thread, inside the test's transaction, done when the response is;
# tests/test_password_reset.py shows the real server's thread with production settings.
WORK_AFTER_RESPONSE_IN_THREAD = False
