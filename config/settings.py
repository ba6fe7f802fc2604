"""Settings for the peer supporter directory, read from the environment.

Every variable is listed in README.md under "Configuration".
"""

import datetime
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.env import env_bool, env_int, env_list, env_str, mailer_settings

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
    "accounts.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "django_filters",
    "phonenumber_field",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "simple_history",
    "import_export",
    "accounts",
    "counties",
    "directory",
    "tallies",
    "training",
    "staff",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.PrivacyHeadersMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language comes from the address (/nb/, /en/) and never from a cookie.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    # Records who made each change to the roster, for its history.
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Last, so that it sees every login attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
# Form widgets are drawn by the project's templates (templates/django/forms/), in Designsystemet's markup.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
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
                "config.context_processors.language_switch",
            ],
        },
    },
]


def database_settings(url):
    """The default database from a URL; SQLite gets WAL mode so readers never wait for a writer."""
    # Connections are kept for a minute and checked before each request reuses one, so one that died while the
    # database was away is replaced by itself.
    database = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database["CONN_MAX_AGE"] = 0
        database["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
    elif database["ENGINE"] == "django.db.backends.postgresql":
        # A database server that does not answer at all (its host down or cut off) is given up on after 5 seconds,
        # so that pages answer 503 rather than wait until gunicorn kills the worker. ?connect_timeout= overrides it.
        database.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    return database


DATABASES = {
    "default": database_settings(env_str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Refuses a locked-out (account, address) pair before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "directory:home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Norwegian Bokmål first; every page also exists in English under /en/. E-mails go out in each account's own language.
LANGUAGE_CODE = "nb"
LANGUAGES = [("nb", "Norsk bokmål"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
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
# nothing from anywhere else. "same-origin", not "no-referrer": with no-referrer, browsers send "Origin: null"
# with a form, which the CSRF check must refuse; same-origin still sends nothing to any other site.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.NONE],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    # data: for the design system's icons, which are SVG images written into its stylesheet.
    "img-src": [CSP.SELF, "data:"],
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

# Brute-force protection: 5 failures for the same account from the same address lock that pair (only) for
# 15 minutes. The account is the address as typed, folded as login folds it (accounts/security.py), so no spelling
# of it counts apart. Counts live in the cache under HMACs of both halves keyed by SECRET_KEY: no client address or
# e-mail address is stored, nor anything that can be traced back to one without the key.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_CLIENT_IP_CALLABLE = "accounts.security.lockout_address"
AXES_USERNAME_CALLABLE = "accounts.security.lockout_username"
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# The database tables of axes stay empty with the cache handler: keep them out of the admin.
AXES_ENABLE_ADMIN = False
# Addresses of the reverse proxy whose X-Forwarded-For names the visitor (the same as gunicorn's).
TRUSTED_PROXIES = env_list("FORWARDED_ALLOW_IPS", default=["127.0.0.1", "::1"])

# Caches. "default" holds the rendered public pages (directory/cache.py): Redis, shared by every app server, when
# REDIS_URL is set, otherwise memory in each process. "roster_version" holds the version that makes those pages
# obsolete when the roster changes, so it must be shared by every process: the same Redis, or files in CACHE_DIR for
# the workers of a single machine. "axes" counts failed logins and must be shared by every worker, or a lockout
# would hold only in the worker that counted it: Redis, or a table in the database.
REDIS_URL = env_str("REDIS_URL", default="")
REDIS_CACHE = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
# Failed logins and rate limits in a database table must survive a flood of other entries: Django's file, memory and
# database caches drop a third of their entries, first by key, once they hold MAX_ENTRIES (300 by default), so anyone
# could wipe a lockout by failing 300 logins for other names. Each entry expires within an hour, and expired ones go
# first, so this many would take a flood of hundreds of requests a second, for an hour, to reach.
COUNTER_CACHE = {
    "BACKEND": "django.core.cache.backends.db.DatabaseCache",
    "LOCATION": "axes_cache",
    "OPTIONS": {"MAX_ENTRIES": 1_000_000},
}
CACHE_DIR = Path(env_str("CACHE_DIR", default=str(BASE_DIR / "var" / "cache")))
CACHES = {
    "default": REDIS_CACHE if REDIS_URL else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "roster_version": REDIS_CACHE
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": CACHE_DIR / "roster-version"},
    "axes": REDIS_CACHE if REDIS_URL else COUNTER_CACHE,
    # Rate limits (password reset e-mails per address), shared by every worker like the failed logins.
    "limits": {**(REDIS_CACHE if REDIS_URL else COUNTER_CACHE), "KEY_PREFIX": "limits"},
}
AXES_CACHE = "axes"
# How long a rendered public page is kept; 0 turns the page cache off. A change to the roster, the next day and a
# new release make cached pages obsolete at once; this only bounds how long unused entries take up room.
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", default=3600)
if PAGE_CACHE_SECONDS < 0:
    raise ImproperlyConfigured("PAGE_CACHE_SECONDS must be 0 (no page cache) or more.")

# Error reports by e-mail, if an operator names recipients; they never carry a visitor's query or address.
ADMINS = env_list("DJANGO_ADMINS", default=[])
SERVER_EMAIL = env_str("SERVER_EMAIL", default="root@localhost")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", default=SERVER_EMAIL)
# Mail through the SMTP server in EMAIL_URL (smtp://user:password@host:587?tls=true), or EMAIL_HOST and friends;
# printed to the console when neither is set.
MAILERS = {"default": mailer_settings(env_str("EMAIL_URL", default=""))}
# Seconds to wait for the mail server before giving up, so that a page sending mail (an invitation, a password reset)
# answers with a message rather than waiting until gunicorn ends the worker (after 30 seconds). The variable is named
# after Django's EMAIL_TIMEOUT, a setting Django refuses beside MAILERS: the value goes into the mailer's options.
MAIL_TIMEOUT_SECONDS = env_int("EMAIL_TIMEOUT", default=10)
if not 1 <= MAIL_TIMEOUT_SECONDS <= 25:
    raise ImproperlyConfigured("EMAIL_TIMEOUT must be a whole number of seconds from 1 to 25.")
if "OPTIONS" in MAILERS["default"]:
    MAILERS["default"]["OPTIONS"]["timeout"] = MAIL_TIMEOUT_SECONDS
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.logging.PrivateExceptionReporterFilter"

# Logging: errors only. Nothing about ordinary public requests (no "Not Found" lines with paths), never a
# query string or a client address.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
        "not_service_unavailable": {"()": "config.logging.NotServiceUnavailable"},
    },
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
        # A 503 means the database is unreachable: said once a minute by config.unavailable, not once per page.
        "django.request": {"filters": ["not_service_unavailable"]},
        # What a visitor sends that Django refuses for safety (a wrong Host header, too many parameters or files, too
        # large a body, a form without its CSRF token: every SuspiciousOperation) is answered with the 400 or 403
        # page. It is no error of the site: logging or mailing it would only write down what a visitor sent.
        "django.security": {"handlers": ["discard"], "propagate": False},
    },
}

PHONENUMBER_DEFAULT_REGION = "NO"
PHONENUMBER_DB_FORMAT = "E164"
PHONENUMBER_DEFAULT_FORMAT = "NATIONAL"

# Supporters attend the national training meeting at least this often.
TRAINING_INTERVAL_YEARS = 3
# A listing not confirmed for this long is out of date (staff see it; the supporter is reminded).
CONFIRMATION_MAX_AGE_DAYS = 180
# Roster import: all rows or none, inside one transaction.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# Work a request starts once its answer has gone (the password reset's look-up and e-mail) runs in a background thread
# (accounts/after_response.py), so that neither the closing of the connection nor the worker's next request tells how
# long it took.
WORK_AFTER_RESPONSE_IN_THREAD = True

# The admin shows no authenticator's secret, nor its QR code (accounts/admin.py).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# How long an invitation link stays valid.
INVITATION_VALID_DAYS = 7
# The address that links in e-mails point to, such as https://peer.example.org.
SITE_URL = env_str("SITE_URL", default="http://127.0.0.1:8000")

# How many supporters a page of search results shows.
DIRECTORY_PAGE_SIZE = 20
# How many supporters from other counties the "meets by phone or video" list shows.
DIRECTORY_REMOTE_LIST_SIZE = 10
