"""Settings for the peer supporter directory, read from the environment.

Every variable is listed in README.md under "Configuration".
"""

from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# Production is the default: debugging, and the local defaults that come with it, must be asked for.
DEBUG = env_bool("DJANGO_DEBUG", default=False)
if DEBUG:
    SECRET_KEY = env_str("SECRET_KEY", default="insecure-key-for-local-debugging-only")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
else:
    SECRET_KEY = env_str("SECRET_KEY")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_filters",
    "phonenumber_field",
    "accounts",
    "counties",
    "directory",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.PrivacyHeadersMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database_settings(url):
    """The default database from a URL; SQLite gets WAL mode so readers never wait for a writer."""
    database = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database["CONN_MAX_AGE"] = 0
        database["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
    return database


DATABASES = {
    "default": database_settings(env_str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English")]
TIME_ZONE = "Europe/Oslo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", default=str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Static files: hashed and compressed by the storage above, cached for ever by whitenoise, and without
# Access-Control-Allow-Origin: *.
WHITENOISE_ALLOW_ALL_ORIGINS = False

# Security headers. The promise: visitors leave no trail to the sites they go on to, and the pages load
# nothing from anywhere else.
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.NONE],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

# HTTPS. Off only for serving over plain HTTP on one's own machine (`make run` does that).
HTTPS = env_bool("DJANGO_HTTPS", default=True)
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 63_072_000 if HTTPS else 0  # two years
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
# Behind a reverse proxy that ends TLS, gunicorn itself takes X-Forwarded-Proto from the proxy's address only
# (FORWARDED_ALLOW_IPS) and tells Django the request was secure; see README, "Behind a reverse proxy".

# Cookies exist only in the logged-in area. __Host- names bind them to this host, over HTTPS, for the whole site.
SESSION_COOKIE_NAME = "__Host-session" if HTTPS else "session"
CSRF_COOKIE_NAME = "__Host-csrftoken" if HTTPS else "csrftoken"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Strict"
# Nothing outlives the browser on a shared workstation, and a login lasts a working day at most.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = 8 * 60 * 60
CSRF_COOKIE_AGE = None

# Error reports by e-mail, if an operator names recipients; they never carry a visitor's query or address.
ADMINS = env_list("DJANGO_ADMINS", default=[])
SERVER_EMAIL = env_str("SERVER_EMAIL", default="root@localhost")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", default=SERVER_EMAIL)
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": env_str("EMAIL_HOST", default="localhost"),
            "port": env_int("EMAIL_PORT", default=25),
            "username": env_str("EMAIL_HOST_USER", default=""),
            "password": env_str("EMAIL_HOST_PASSWORD", default=""),
            "use_tls": env_bool("EMAIL_USE_TLS", default=False),
            "timeout": 10,
        },
    },
}
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.logging.PrivateExceptionReporterFilter"

# Logging: errors only. Nothing about ordinary public requests (no "Not Found" lines with paths), never a
# query string or a client address.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "discard": {"class": "logging.NullHandler"},
        "mail_admins": {
            "class": "config.logging.PrivateAdminEmailHandler",
            "filters": ["require_debug_false"],
            "level": "ERROR",
        },
    },
    # Other libraries (gunicorn's HTTP layer among them) log through the root logger: errors only there too.
    "root": {"handlers": ["console"], "level": "ERROR"},
    "loggers": {
        "django": {"handlers": ["console", "mail_admins"], "level": "ERROR", "propagate": False},
        # A wrong Host header is answered with 400; logging it would only write down what a visitor sent.
        "django.security.DisallowedHost": {"handlers": ["discard"], "propagate": False},
    },
}

PHONENUMBER_DEFAULT_REGION = "NO"
PHONENUMBER_DB_FORMAT = "E164"
PHONENUMBER_DEFAULT_FORMAT = "NATIONAL"

# How many supporters a page of search results shows.
DIRECTORY_PAGE_SIZE = 20
# How many supporters from other counties the "meets by phone or video" list shows.
DIRECTORY_REMOTE_LIST_SIZE = 10
