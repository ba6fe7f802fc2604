"""Never fails a doctor: with the database unreachable, every page answers 503 kindly, with the emergency numbers, in
the language of its address; when the database returns, the same server works again by itself.

The fault is real each time: the real gunicorn with production settings loses its PostgreSQL behind a TCP proxy that
the test cuts, or its SQLite file's folder is moved away; the test client's connection points at a port nothing
listens on or at a folder that does not exist. Nothing about the database is mocked.
"""

import contextlib
import logging
import re
import socket
import threading
import time
import uuid
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections
from django.db.utils import load_backend
from django.test import Client

from config import unavailable
from config.settings import database_settings
from tests.servers import (
    PROXY_ADDRESS,
    VISITOR_ADDRESS,
    Server,
    everything_written,
    free_port,
    production_site,
    unreachable_database,
)
from tests.test_privacy import LoadedResources, assert_privacy_headers, is_same_origin

MARKER = f"marker{uuid.uuid4().hex[:12]}"
HEADING = {"nb": "Oversikten er midlertidig utilgjengelig", "en": "The directory is briefly unavailable"}
LOG_LINE = b"ERROR config.unavailable: The database is unreachable ("
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs the PostgreSQL server")


def assert_unavailable_page(status, headers, html, language, path):
    """The kind 503 page: in the language asked for, with the emergency numbers, kept out of every cache."""
    assert status == 503, path
    assert f'<html lang="{language}"' in html, path
    assert HEADING[language] in html, path
    assert 'href="tel:113"' in html, path
    assert 'href="tel:116117"' in html, path
    assert headers["Retry-After"] == "30", path
    assert "no-store" in headers["Cache-Control"], path
    assert "Set-Cookie" not in headers, path
    assert MARKER not in html, path


# The real server, and a database it really loses


class DatabaseProxy:
    """A TCP proxy between gunicorn and PostgreSQL, on a port of its own, that a test can cut and restore.

    cut(): nothing listens on the port any more, and every connection through it is closed, as when the database
    server dies. start(silent=True): connections are accepted and never answered, as when its host hangs.
    """

    def __init__(self, upstream):
        self.upstream = upstream
        self.port = free_port()
        self.listener = None
        self.silent = False
        self.sockets = set()
        self.lock = threading.Lock()

    def start(self, *, silent=False):
        self.cut()
        self.silent = silent
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self.accept, args=(self.listener,), daemon=True).start()

    def restore(self):
        self.start()

    def accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            with self.lock:
                self.sockets.add(client)
            if self.silent:
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                self.close(client)
                continue
            with self.lock:
                self.sockets.add(server)
            threading.Thread(target=self.forward, args=(client, server), daemon=True).start()
            threading.Thread(target=self.forward, args=(server, client), daemon=True).start()

    def forward(self, source, target):
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        self.close(source, target)

    def close(self, *sockets):
        for sock in sockets:
            with self.lock:
                self.sockets.discard(sock)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def cut(self):
        # shutdown() wakes the thread waiting in accept() and stops the listening at once; close() alone would not.
        if self.listener is not None:
            self.close(self.listener)
            self.listener = None
        with self.lock:
            connected = list(self.sockets)
        self.close(*connected)


class FolderOutage:
    """The SQLite database's folder moved away from under the server, and put back."""

    def __init__(self, folder):
        self.folder = folder
        self.away = folder.with_name(f"{folder.name}-away")

    def cut(self):
        self.folder.rename(self.away)

    def restore(self):
        self.away.rename(self.folder)


@pytest.fixture(scope="module")
def site(tmp_path_factory, django_db_blocker):
    """A production site without page cache (it would hide the fault) whose database a test can take away."""
    directory = tmp_path_factory.mktemp("site")
    extra = {"PAGE_CACHE_SECONDS": "0", "CACHE_DIR": str(directory / "cache")}
    with production_site(directory, django_db_blocker, **extra) as environment:
        if connection.vendor != "postgresql":
            yield SimpleNamespace(
                directory=directory, environment=environment, database=FolderOutage(directory / "database")
            )
            return
        params = connection.settings_dict
        proxy = DatabaseProxy((params["HOST"] or "127.0.0.1", int(params["PORT"] or 5432)))
        proxy.start()
        # Through the proxy; a server that does not answer is given up on after 2 seconds (psycopg's least).
        url = urlsplit(environment["DATABASE_URL"])
        url = url._replace(netloc=f"{url.username}@127.0.0.1:{proxy.port}", query="connect_timeout=2")
        try:
            yield SimpleNamespace(
                directory=directory, environment={**environment, "DATABASE_URL": url.geturl()}, database=proxy
            )
        finally:
            proxy.cut()


def public_pages(server):
    """Home, a search, a profile and a county page in each language, found while the database answers."""
    _, listing = server.get("/en/search/?page=1")
    profile = re.search(rb'href="/en(/supporters/\d+/)"', listing)
    assert profile, "the demo roster shows no supporter"
    pages = []
    for language in ("nb", "en"):
        pages += [
            (language, f"/{language}/"),
            (language, f"/{language}/search/?q=lege+{MARKER}&county=03"),
            (language, f"/{language}{profile[1].decode()}?{MARKER}"),
            (language, f"/{language}/counties/03/"),
        ]
    return pages


# What someone holding a session cookie asks for: the cookie's session is read from the database.
LOGGED_IN_PAGES = ["/nb/accounts/", "/en/my/", "/admin/", "/admin/directory/peersupporter/"]
SESSION_COOKIE = {"Cookie": f"__Host-session={uuid.uuid4().hex}"}


def visit(server, pages):
    return {path: server.get(path) for _language, path in pages}


@pytest.fixture(scope="module")
def outage(site):
    """One server through a whole outage: the pages before, while the database is unreachable, after it returns."""
    server = Server(site.directory, site.environment)
    try:
        pages = public_pages(server)
        before = visit(server, pages)
        workers = server.workers()
        # The database restarts between two requests: the connections each worker keeps die while idle.
        site.database.cut()
        site.database.restore()
        after_restart = visit(server, pages)
        site.database.cut()
        try:
            during = visit(server, pages)
            health = server.get(f"/healthz?{MARKER}")
            logged_in = {path: server.get(path, SESSION_COOKIE) for path in LOGGED_IN_PAGES}
            stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]+\.css)"', during[pages[0][1]][1].decode())
            style = server.get(stylesheet[1]) if stylesheet else None
            hanging = None
            if isinstance(site.database, DatabaseProxy):
                # The database host hangs: connections are accepted and never answered.
                site.database.start(silent=True)
                started = time.monotonic()
                hanging = (*server.get(f"/en/search/?q={MARKER}"), time.monotonic() - started)
                site.database.cut()
        finally:
            site.database.restore()
        after = visit(server, pages)
        health_after = server.get("/healthz")
        workers_after = server.workers()
    finally:
        server.stop()
    return SimpleNamespace(
        server=server,
        pages=pages,
        before=before,
        after_restart=after_restart,
        during=during,
        health=health,
        logged_in=logged_in,
        style=style,
        hanging=hanging,
        after=after,
        health_after=health_after,
        workers=workers,
        workers_after=workers_after,
    )


def test_public_pages_answer_503_with_the_kind_page_in_their_language_while_the_database_is_unreachable(outage):
    assert {path: response.status for path, (response, _) in outage.before.items()} == dict.fromkeys(outage.before, 200)
    for language, path in outage.pages:
        response, body = outage.during[path]
        assert_unavailable_page(response.status, response.headers, body.decode(), language, path)
        # The privacy headers of every page, and production's HSTS.
        assert "default-src 'none'" in response.getheader("Content-Security-Policy"), path
        assert response.getheader("Strict-Transport-Security").startswith("max-age=63072000"), path
    # The page's own stylesheet still comes (static files need no database).
    assert outage.style is not None
    assert outage.style[0].status == 200


def test_healthz_says_503_while_the_database_is_unreachable_and_200_after(outage):
    assert outage.health[0].status == 503
    assert outage.health_after[0].status == 200


def test_logged_in_pages_and_the_admin_answer_503_not_500(outage):
    for path, (response, body) in outage.logged_in.items():
        language = "en" if path.startswith("/en/") else "nb"  # the admin speaks Bokmål to a browser that asks nothing
        assert_unavailable_page(response.status, response.headers, body.decode(), language, path)
        assert response.getheader("Cache-Control") == "private, no-store", path


def test_the_same_server_works_again_by_itself_when_the_database_returns(outage):
    assert {path: response.status for path, (response, _) in outage.after.items()} == dict.fromkeys(outage.after, 200)
    for path, (_, body) in outage.after.items():
        assert not any(heading.encode() in body for heading in HEADING.values()), path
    # No restart: the workers that served before the outage served during and after it.
    assert outage.workers
    assert outage.workers_after == outage.workers


def test_a_connection_that_died_between_requests_is_replaced_without_an_error_page(outage):
    statuses = {path: response.status for path, (response, _) in outage.after_restart.items()}
    assert statuses == dict.fromkeys(outage.after_restart, 200)


@postgresql_only
def test_a_database_host_that_does_not_answer_gets_503_within_the_connect_timeout(outage):
    response, body, seconds = outage.hanging

    assert_unavailable_page(response.status, response.headers, body.decode(), "en", "/en/search/ (hanging)")
    assert seconds < 10


def test_the_outage_is_logged_once_a_minute_per_process_without_the_request(outage, site):
    lines = outage.server.stderr.read_bytes().splitlines()

    assert outage.server.stdout.read_bytes() == b""  # no access log
    assert 1 <= len(lines) <= int(site.environment["WEB_CONCURRENCY"]), lines
    assert all(line.startswith(LOG_LINE) for line in lines), lines  # nothing else: no path, no 500, no traceback
    for path in ("/search/", "/supporters/", "/counties/", "/admin/", "/my/"):
        assert path.encode() not in outage.server.output(), path
    written = everything_written(site.directory)
    for secret in (MARKER, VISITOR_ADDRESS, PROXY_ADDRESS):
        assert secret.encode() not in written, secret


def test_a_cached_page_is_still_served_while_the_database_is_unreachable_and_the_503_is_never_cached(site, tmp_path):
    server = Server(tmp_path, {**site.environment, "PAGE_CACHE_SECONDS": "3600", "WEB_CONCURRENCY": "1"})
    try:
        stored, stored_html = server.get("/en/counties/03/")
        site.database.cut()
        try:
            cached, cached_html = server.get("/en/counties/03/")
            failing, _ = server.get(f"/en/search/?q={MARKER}")
        finally:
            site.database.restore()
        again, again_html = server.get(f"/en/search/?q={MARKER}")
    finally:
        server.stop()

    assert (stored.status, cached.status) == (200, 200)
    assert cached_html == stored_html
    assert failing.status == 503
    assert again.status == 200
    assert HEADING["en"].encode() not in again_html


# The test client, with its connection pointed at a database that cannot be reached


@contextlib.contextmanager
def connection_to_nowhere():
    """The default connection, meanwhile, to where no database can be reached (a port nothing listens on, a folder
    that does not exist); the test database itself is left as it was and comes back after."""
    real = connections[DEFAULT_DB_ALIAS]
    away = {**real.settings_dict, **database_settings(unreachable_database())}
    wrapper = load_backend(away["ENGINE"]).DatabaseWrapper(away, DEFAULT_DB_ALIAS)
    connections[DEFAULT_DB_ALIAS] = wrapper
    try:
        yield
    finally:
        connections[DEFAULT_DB_ALIAS] = real
        wrapper.close()


@pytest.fixture
def database_away(db):
    with connection_to_nowhere():
        yield


@pytest.fixture
def visitor():
    """A visitor's browser: the error reaches the page, as in production, instead of the test."""
    return Client(raise_request_exception=False)


@pytest.fixture
def log_records(monkeypatch):
    """Every record Django's loggers and config.unavailable pass on; the once-a-minute clock starts afresh."""
    monkeypatch.setitem(unavailable._last_logged, "at", None)
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    keeper = Keep(level=logging.DEBUG)
    loggers = [logging.getLogger("django"), logging.getLogger("config.unavailable")]
    for logger in loggers:
        logger.addHandler(keeper)
    yield records
    for logger in loggers:
        logger.removeHandler(keeper)


@pytest.mark.parametrize("language", ["nb", "en"])
@pytest.mark.parametrize(
    "page", ["", "search/?q=lege&county=03", "supporters/1/", "supporters/1/vcard/", "counties/03/"]
)
def test_the_503_page_speaks_the_language_of_the_address_and_keeps_every_promise(
    database_away, visitor, language, page
):
    path = f"/{language}/{page}".replace("?q=", f"?{MARKER}=1&q=")
    response = visitor.get(path)

    html = response.content.decode()
    assert_unavailable_page(response.status_code, response.headers, html, language, path)
    assert response["Content-Language"] == language
    assert f'href="/{language}/"' in html
    assert_privacy_headers(response, path)
    assert response.headers["Cache-Control"] == "no-store"
    resources = LoadedResources()
    resources.feed(html)
    assert resources.urls
    assert all(is_same_origin(url) for url in resources.urls)
    assert resources.inline == []
    assert not visitor.cookies


def test_open_data_answers_503_in_the_language_the_browser_asks_for(database_away, visitor):
    response = visitor.get("/api/roster.json", HTTP_ACCEPT_LANGUAGE="en")

    assert_unavailable_page(response.status_code, response.headers, response.content.decode(), "en", "/api/")


def test_healthz_answers_503_when_the_database_is_unreachable(database_away, visitor):
    response = visitor.get("/healthz")

    assert response.status_code == 503
    assert response.content == b"database unavailable\n"


def test_logged_in_pages_a_login_and_the_admin_answer_503_not_500(visitor, staff_client, django_user_model):
    staff_client.raise_request_exception = False
    supporter = django_user_model.objects.create_user("supporter@example.org", password="a long passphrase here")
    supporter_client = Client(raise_request_exception=False)
    supporter_client.force_login(supporter)
    with connection_to_nowhere():
        answers = {
            "/en/my/": supporter_client.get("/en/my/"),
            "/nb/my/counts/": supporter_client.get("/nb/my/counts/"),
            "/en/staff/": staff_client.get("/en/staff/"),
            "/admin/": staff_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en"),
            "/admin/directory/peersupporter/": staff_client.get(
                "/admin/directory/peersupporter/", HTTP_ACCEPT_LANGUAGE="en"
            ),
            "/en/accounts/login/ (POST)": visitor.post(
                "/en/accounts/login/", {"username": "supporter@example.org", "password": "a long passphrase here"}
            ),
        }

    for path, response in answers.items():
        language = "nb" if path.startswith("/nb/") else "en"
        assert_unavailable_page(response.status_code, response.headers, response.content.decode(), language, path)
        assert_privacy_headers(response, path)
    for path in ("/en/my/", "/nb/my/counts/", "/en/staff/", "/admin/"):
        assert answers[path].headers["Cache-Control"] == "private, no-store", path


def test_the_unreachable_database_is_logged_once_a_minute_without_the_request(database_away, visitor, log_records):
    for _ in range(3):
        assert visitor.get(f"/en/search/?q={MARKER}").status_code == 503
    first = [record.getMessage() for record in log_records]
    # A minute later it is said again.
    unavailable._last_logged["at"] -= unavailable.LOG_INTERVAL_SECONDS + 1
    assert visitor.get(f"/nb/?{MARKER}").status_code == 503

    assert len(first) == 1, first
    assert first[0].startswith("The database is unreachable (")
    assert [record.name for record in log_records] == ["config.unavailable"] * 2  # no "Service Unavailable: /path"
    for record in log_records:
        assert record.levelno == logging.ERROR
        assert not hasattr(record, "request")
        for secret in (MARKER, "/search/", "/nb/"):
            assert secret not in record.getMessage(), secret


def broken_search(sql):
    def results_context(*args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute(sql)

    return results_context


WRONG_QUERIES = [
    # SQLite calls this an OperationalError too: it is a bug, not an outage.
    pytest.param("SELECT * FROM no_such_table", id="missing-table"),
    pytest.param("SET LOCAL statement_timeout = 1; SELECT pg_sleep(1)", id="statement-timeout", marks=postgresql_only),
]


@pytest.mark.parametrize("sql", WRONG_QUERIES)
def test_a_wrong_query_stays_a_500_and_is_reported_as_before(db, monkeypatch, settings, visitor, log_records, sql):
    settings.ADMINS = ["operator@example.org"]
    monkeypatch.setattr("directory.views.results_context", broken_search(sql))
    response = visitor.get(f"/en/search/?q={MARKER}")

    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    assert "Retry-After" not in response.headers
    assert [record.getMessage() for record in log_records] == ["Internal Server Error: /en/search/"]
    assert len(mail.outbox) == 1
    assert "Internal Server Error: /en/search/" in mail.outbox[0].subject


@postgresql_only
def test_a_connection_the_server_ended_counts_as_unreachable(db):
    ended = load_backend(connection.settings_dict["ENGINE"]).DatabaseWrapper({**connection.settings_dict}, "ended")
    try:
        ended.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [ended.connection.info.backend_pid])
        time.sleep(0.2)
        with pytest.raises(OperationalError) as error, ended.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        ended.close()

    assert unavailable.database_unreachable(error.value)


def test_postgresql_connections_are_checked_before_reuse_and_give_up_on_a_server_that_does_not_answer():
    database = database_settings("postgres://directory@db.example.org:5432/directory")
    chosen = database_settings("postgres://directory@db.example.org:5432/directory?connect_timeout=2")

    assert database["CONN_HEALTH_CHECKS"] is True
    assert database["OPTIONS"]["connect_timeout"] == 5
    assert chosen["OPTIONS"]["connect_timeout"] == 2
