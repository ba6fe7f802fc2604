"""The real server, with production settings, writes nothing that ties a visitor to what they looked at."""

import re
import sys
import uuid

import pytest
from django.conf import settings
from gunicorn.app.wsgiapp import WSGIApplication
from gunicorn.glogging import Logger

from tests.servers import (
    PROJECT,
    PROXY_ADDRESS,
    VISITOR_ADDRESS,
    Server,
    everything_written,
    production_site,
    scratch_database,
)

MARKER = f"marker{uuid.uuid4().hex[:12]}"
PATH_MARKER = f"pathmarker{uuid.uuid4().hex[:12]}"


# The resolved gunicorn configuration


def resolved_gunicorn_config(monkeypatch, **environment):
    """gunicorn's configuration exactly as `gunicorn -c gunicorn.conf.py config.wsgi` resolves it."""
    monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    monkeypatch.delenv("ACCESS_LOG", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(PROJECT)
    monkeypatch.setattr(sys, "argv", ["gunicorn", "-c", "gunicorn.conf.py", "config.wsgi"])
    return WSGIApplication().cfg


def test_gunicorn_keeps_no_access_log(monkeypatch):
    cfg = resolved_gunicorn_config(monkeypatch)

    assert cfg.accesslog is None
    # Any of these turns gunicorn's access log back on.
    assert cfg.logconfig is None
    assert cfg.logconfig_dict == {}
    assert cfg.logconfig_json is None
    assert cfg.syslog is False
    assert Logger(cfg).access_log_enabled is False


def test_gunicorn_logs_errors_only(monkeypatch):
    cfg = resolved_gunicorn_config(monkeypatch)

    assert cfg.loglevel == "error"
    assert cfg.errorlog == "-"


def test_an_access_log_an_operator_turns_on_leaves_out_address_query_referrer_and_browser(monkeypatch):
    cfg = resolved_gunicorn_config(monkeypatch, ACCESS_LOG="-")

    assert Logger(cfg).access_log_enabled is True
    atoms = set(re.findall(r"%\((.*?)\)s", cfg.access_log_format))
    assert atoms <= {"t", "m", "U", "s", "B", "b", "M", "D", "T", "L", "H"}, atoms


# The real server


@pytest.fixture(scope="module")
def site(tmp_path_factory, django_db_blocker):
    """A production site with a small demo roster, its database of the engine under test."""
    directory = tmp_path_factory.mktemp("site")
    with production_site(directory, django_db_blocker) as environment:
        yield directory, environment


def test_the_server_writes_no_query_string_and_no_client_address(site):
    directory, environment = site
    server = Server(directory, environment)
    try:
        home, home_html = server.get(f"/en/?{MARKER}")
        search, _ = server.get(f"/en/search/?q=lege+{MARKER}&county=03")
        listing, listing_html = server.get(f"/en/search/?page=1&{MARKER}=1")
        profile_path = re.search(rb'href="(/en/supporters/\d+/)"', listing_html)
        assert profile_path, "the demo roster shows no supporter"
        profile, _ = server.get(f"{profile_path[1].decode()}?{MARKER}")
        vcard, _ = server.get(f"{profile_path[1].decode()}vcard/?{MARKER}")
        county, _ = server.get(f"/en/counties/03/?page={MARKER}")
        missing, _ = server.get(f"/{PATH_MARKER}/?q={MARKER}")
        stylesheet = re.search(rb'href="(/static/css/site\.[0-9a-f]+\.css)"', home_html)[1].decode()
        static, _ = server.get(f"{stylesheet}?{MARKER}")
        health, _ = server.get(f"/healthz?{MARKER}")
        # More parameters than Django reads: refused with the 400 page, and no error of the site.
        too_many_fields, too_many_fields_html = server.get(
            "/en/search/?" + "&".join(["q"] * settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + [MARKER])
        )
        head = server.send_raw(
            f"HEAD /en/search/?q={MARKER} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "X-Forwarded-Proto: https\r\nConnection: close\r\n\r\n".encode()
        )
        wrong_host = server.send_raw(
            f"GET /en/?q={MARKER} HTTP/1.1\r\nHost: {MARKER}.example\r\nX-Forwarded-Proto: https\r\n\r\n".encode()
        )
        bad_header = server.send_raw(
            f"GET /en/search/?q={MARKER} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {MARKER}\r\n\r\n".encode()
        )
        not_http = server.send_raw(f"\x16\x03\x01 {MARKER} not http at all\r\n\r\n".encode())
        # A charset that is no text encoding: Django would fail on it before any middleware (config/wsgi.py).
        odd_charset = server.send_raw(
            f"GET /en/search/?q={MARKER} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Proto: https\r\n"
            "Content-Type: text/plain; charset=rot13\r\nConnection: close\r\n\r\n".encode()
        )
        # A form in a charset Django refuses to read, with a CSRF cookie: refused, and no error of the site.
        latin_form = server.send_raw(
            f"POST /en/search/?q={MARKER} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Proto: https\r\n"
            "Origin: https://127.0.0.1\r\nCookie: __Host-csrftoken=abcdefghijklmnopqrstuvwxyzABCDEF\r\n"
            "Content-Length: 3\r\n"
            "Content-Type: application/x-www-form-urlencoded; charset=latin-1\r\nConnection: close\r\n\r\na=b".encode()
        )
    finally:
        server.stop()

    responses = (home, search, listing, profile, vcard, county, missing, static, health, too_many_fields)
    assert [response.status for response in responses] == [200, 200, 200, 200, 200, 200, 404, 200, 200, 400]
    assert b"The request could not be understood" in too_many_fields_html
    assert head.startswith(b"HTTP/1.1 200")
    assert wrong_host.startswith(b"HTTP/1.1 400")
    assert bad_header.startswith(b"HTTP/1.1 400")
    assert not_http.startswith(b"HTTP/1.1 400")
    assert odd_charset.startswith(b"HTTP/1.1 200")
    assert latin_form.startswith((b"HTTP/1.1 403", b"HTTP/1.1 405"))
    # Production settings really are on: HSTS over the proxy's HTTPS, hashed static files cached for ever.
    assert home.getheader("Strict-Transport-Security").startswith("max-age=63072000")
    assert "immutable" in static.getheader("Cache-Control")
    for response in responses:
        assert response.getheader("Server") == "gunicorn"
        assert response.getheader("Set-Cookie") is None

    assert server.stdout.read_bytes() == b""  # no access log
    assert server.stderr.read_bytes() == b""  # and nothing went wrong
    written = everything_written(directory)
    for secret in (MARKER, PATH_MARKER, VISITOR_ADDRESS, PROXY_ADDRESS):
        assert secret.encode() not in written, secret


def test_a_failing_page_is_logged_without_query_string_or_client_address(site, tmp_path, django_db_blocker):
    _, environment = site
    # A database that answers but was never migrated: every page's query is wrong, a bug and not an outage.
    with django_db_blocker.unblock():
        database_url, remove_database = scratch_database(tmp_path)
    server = Server(tmp_path, {**environment, "DATABASE_URL": database_url, "WEB_CONCURRENCY": "1"})
    try:
        failing, failing_html = server.get(f"/en/search/?q={MARKER}")
    finally:
        server.stop()
        with django_db_blocker.unblock():
            remove_database()

    assert failing.status == 500
    assert b"Something went wrong" in failing_html
    written = everything_written(tmp_path)
    assert b"Internal Server Error: /en/search/" in written  # the failure is logged ...
    for secret in (MARKER, VISITOR_ADDRESS, PROXY_ADDRESS):  # ... without the visitor
        assert secret.encode() not in written, secret


def test_an_access_log_turned_on_by_an_operator_still_leaves_out_query_and_addresses(site, tmp_path):
    _, environment = site
    server = Server(tmp_path, {**environment, "ACCESS_LOG": "-", "WEB_CONCURRENCY": "1"})
    try:
        server.get(f"/{PATH_MARKER}/?q={MARKER}")
        server.get(f"/en/search/?q={MARKER}")
    finally:
        server.stop()

    access_log = server.stdout.read_bytes()
    assert f'"GET /{PATH_MARKER}/" 404'.encode() in access_log
    assert b'"GET /en/search/" 200' in access_log
    for secret in (MARKER, VISITOR_ADDRESS, PROXY_ADDRESS):
        assert secret.encode() not in access_log, secret
