"""The server-side cache of rendered public pages, and the roster version that makes them obsolete.

Public pages go to the browser with Cache-Control: no-store (nothing a visitor saw lingers on a shared computer), so
they are cached here, on the server: the whole answer a public view gives an anonymous GET or HEAD, under a key
hashed (SHA-256) from

- the code: a fingerprint of the project's code, templates, catalogues and static sources, so that after a deploy no
  server serves a page another release rendered;
- the roster version: a random token replaced whenever anything a public page shows is written (see below);
- today's date in Europe/Oslo: the daily order and the end of pauses change with it;
- the language, the scheme and host, and the full path with its query string.

The key is a hash, so no search text sits in it; the page it names holds what every visitor to that address sees
and nothing about who asked: requests that carry any cookie (a logged-in user, a message after logging out) are
neither served from the cache nor stored in it, and a stored answer never carries a cookie. Entries expire after
PAGE_CACHE_SECONDS.

The roster version lives in a cache every process shares (Redis with REDIS_URL, else files in var/cache), so a change
made through one worker or server makes every cached page obsolete on all of them at once. It changes on every
INSERT, UPDATE, DELETE or TRUNCATE that touches a roster table, whatever sent it (a form, an admin action, an import,
a queryset's update() or bulk_create(), a data migration, raw SQL): an execute wrapper installed on every database
connection watches the statements. Inside a transaction the version changes when it commits, never before, so
no other process can store the old roster under the new version; a request that read the version before the change
stores its page under the old one, which nobody asks for again. For the same reason a page is neither served from
nor stored in the cache while its request runs inside a transaction (which might still roll back).
"""

import contextlib
import functools
import hashlib
import logging
import re
import secrets
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.db import connection, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.translation import get_language

logger = logging.getLogger(__name__)

VERSION_KEY = "roster-version"
REFERENCE_VERSION_KEY = "reference-version"
# The cache that holds the roster version, when settings name one apart from "default" (settings.py always does;
# the test settings keep a single cache for everything).
VERSION_CACHE = "roster_version"
PAGE_CACHE = "default"
# What public pages show. A new model whose rows appear on a public page belongs here.
ROSTER_MODELS = ["directory.PeerSupporter", "directory.Specialty", "directory.Language", "counties.County",
                 "counties.Municipality"]  # fmt: skip
# The part of the roster that rarely changes, which processes may keep in memory under reference_version().
REFERENCE_MODELS = ["directory.Specialty", "directory.Language", "counties.County", "counties.Municipality"]
WRITE = re.compile(r"\s*(?:INSERT|UPDATE|DELETE|REPLACE|MERGE|TRUNCATE)\b", re.IGNORECASE)
# A cached answer is the view's own, whatever the request's conditions; the 304 or 412 is worked out afterwards.
CONDITIONAL_HEADERS = ["HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_UNMODIFIED_SINCE"]


def today():
    return timezone.localdate()


def version_cache():
    return caches[VERSION_CACHE if VERSION_CACHE in settings.CACHES else PAGE_CACHE]


def roster_changed(*, reference=True):
    """Make every cached public page obsolete, on every process that shares the version cache.

    reference: counties, municipalities, specialties or languages changed too (or may have).
    """
    keys = [VERSION_KEY, REFERENCE_VERSION_KEY] if reference else [VERSION_KEY]
    version_cache().set_many({key: secrets.token_hex(16) for key in keys}, timeout=None)


def current_token(key):
    """The token under key. A lost token (Redis restarted or evicted it) is replaced by a new one, never reused."""
    store = version_cache()
    token = store.get(key)
    if token is None:
        store.add(key, secrets.token_hex(16), timeout=None)
        token = store.get(key)
    return token


def roster_version():
    """A token that changes whenever anything a public page shows has changed (and committed)."""
    return current_token(VERSION_KEY)


def reference_version():
    """A token that changes whenever counties, municipalities, specialties or languages have changed (and committed),
    seen by every process at once; None when the shared cache cannot be read (then trust no copy)."""
    try:
        return current_token(REFERENCE_VERSION_KEY)
    except Exception:
        return None


@functools.cache
def code_fingerprint():
    """A hash of what renders the pages: the project's apps, settings, templates, catalogues and static sources."""
    base = Path(settings.BASE_DIR)
    # The project's own apps (installed packages are pinned in requirements/, hashed below).
    folders = {Path(config.path) for config in apps.get_app_configs() if Path(config.path).parent == base}
    folders |= {Path(folder) for template in settings.TEMPLATES for folder in template.get("DIRS", [])}
    folders |= {Path(folder) for folder in [*settings.LOCALE_PATHS, *settings.STATICFILES_DIRS]}
    folders |= {base / "config", base / "requirements"}
    digest = hashlib.sha256()
    for folder in sorted(folders):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(base)).encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def page_key(request):
    version = roster_version()
    if version is None:
        return None
    parts = [
        code_fingerprint(),
        version,
        today().isoformat(),
        get_language() or "",
        request.scheme,
        request.get_host(),
        request.get_full_path(),
    ]
    return "page:" + hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def stored_form(response):
    return response.status_code, response.content, list(response.headers.items())


def from_stored_form(stored):
    status, content, headers = stored
    return HttpResponse(content, status=status, headers=dict(headers))


def conditional(request, response):
    """The answer to a conditional request (304 Not Modified, 412), worked out from the response's ETag."""
    etag = response.headers.get("ETag")
    if response.status_code != 200 or not etag:
        return response
    answer = get_conditional_response(request, etag=etag, response=response)
    if answer is not response and "Access-Control-Allow-Origin" in response.headers:
        answer.headers["Access-Control-Allow-Origin"] = response.headers["Access-Control-Allow-Origin"]
    return answer


def cached_page(view):
    """Serve the public view's answers to anonymous GET and HEAD requests from the page cache."""

    @functools.wraps(view)
    def cached_view(request, *args, **kwargs):
        seconds = settings.PAGE_CACHE_SECONDS
        if (
            not seconds
            or request.method not in ("GET", "HEAD")
            or request.COOKIES
            or connection.in_atomic_block
            or not (key := cache_key_or_none(request))
        ):
            return view(request, *args, **kwargs)
        pages = caches[PAGE_CACHE]
        # The cache is there to save work: when it fails, the page is made as if it were not there.
        try:
            stored = pages.get(key)
        except Exception:
            return view(request, *args, **kwargs)
        if stored is not None:
            return conditional(request, from_stored_form(stored))
        conditions = {name: request.META.pop(name) for name in CONDITIONAL_HEADERS if name in request.META}
        try:
            response = view(request, *args, **kwargs)
        finally:
            request.META.update(conditions)
        if response.status_code == 200 and not response.streaming and not response.cookies:
            with contextlib.suppress(Exception):
                pages.set(key, stored_form(response), seconds)
        return conditional(request, response)

    return cached_view


def cache_key_or_none(request):
    try:
        return page_key(request)
    except Exception:
        return None


# Watching the roster tables


@functools.cache
def watched_tables():
    """The tables of ROSTER_MODELS and of their many-to-many relations as one pattern, and those of REFERENCE_MODELS."""
    tables = set()
    for model in map(apps.get_model, ROSTER_MODELS):
        tables.add(model._meta.db_table)
        tables |= {field.remote_field.through._meta.db_table for field in model._meta.local_many_to_many}
    names = "|".join(map(re.escape, sorted(tables, key=len, reverse=True)))
    reference = {apps.get_model(label)._meta.db_table for label in REFERENCE_MODELS}
    return re.compile(rf"\b(?:{names})\b"), reference


def after_commit_roster_changed():
    roster_changed(reference=False)


def after_commit_reference_changed():
    roster_changed(reference=True)


def roster_written(db, *, reference):
    """A statement changed a roster table on the connection db: the version changes once the change is committed."""
    if not db.in_atomic_block:
        # Autocommit: the change is committed already. (Django never writes the roster with autocommit off outside
        # an atomic block; there the version would change before the commit.)
        try:
            roster_changed(reference=reference)
        except Exception:
            # The change stands; cached pages expire within PAGE_CACHE_SECONDS in any case.
            logger.exception("The roster changed but the page cache could not be told.")
        return
    if pending_bump(db, reference):
        return
    callback = after_commit_reference_changed if reference else after_commit_roster_changed
    # Robust: the data is committed whatever happens here; a failure is logged, and pages expire in any case.
    transaction.on_commit(callback, using=db.alias, robust=True)
    db.roster_bump_pending = (db.run_on_commit, len(db.run_on_commit) - 1)


def pending_bump(db, reference):
    """Whether this transaction will already change the version (and the reference version, if asked) on commit.

    Checked where the callback was put, not by searching the whole list: an import or a seed may add many callbacks.
    """
    callbacks, index = getattr(db, "roster_bump_pending", (None, 0))
    if callbacks is not db.run_on_commit or index >= len(callbacks):
        return False
    pending = callbacks[index][1]
    return pending is after_commit_reference_changed or (pending is after_commit_roster_changed and not reference)


def watch_roster_writes(execute, sql, params, many, context):
    """An execute wrapper (Django's database instrumentation) on every connection."""
    result = execute(sql, params, many, context)
    if isinstance(sql, str) and WRITE.match(sql):
        pattern, reference = watched_tables()
        if tables := set(pattern.findall(sql)):
            roster_written(context["connection"], reference=not tables.isdisjoint(reference))
    return result


def install_roster_watch(connection, **kwargs):
    """Receiver of connection_created. First in the list, so that another wrapper's context manager never pops it."""
    if watch_roster_writes not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, watch_roster_writes)
