"""Two app servers sharing one PostgreSQL: a roster change made through one shows through the other at once.

Both run the real gunicorn with production settings, once sharing Redis (REDIS_URL, as several machines would) and
once with the default caches (pages in each process's memory, the roster version in files both read, as the workers
of one machine do). The test makes its own PostgreSQL database at 127.0.0.1:5432, whatever database the rest of the
suite runs on.
"""

import http.client
import os
import re
import secrets
import subprocess
import sys
import uuid
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import psycopg
import pytest
import redis
from django.db import connection
from django.utils import timezone

from tests.servers import PROJECT, Server, manage

POSTGRES = "postgresql://postgres@127.0.0.1:5432"
# A Redis database of its own, emptied before and after: one for the run on each database engine, since CI runs the
# two side by side.
REDIS_URL = f"redis://127.0.0.1:6379/{15 if connection.vendor == 'postgresql' else 14}"
PASSWORD = "a long passphrase for Anne"


class Browser:
    """Just enough of a browser to log in and post a form: cookies and the CSRF token."""

    def __init__(self, server):
        self.server = server
        self.cookies = {}

    def request(self, method, path, form=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        headers = {"Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode({**form, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        content = response.read()
        conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response, content


def public_page(server, path):
    """A visitor's request: no cookie."""
    response, content = Browser(server).request("GET", path)
    assert response.status == 200, (path, response.status)
    assert response.getheader("Set-Cookie") is None
    assert response.getheader("Cache-Control") == "no-store"
    return content.decode()


def postgres(database, sql, *params):
    """SQL straight to PostgreSQL, past the application: nothing of the app learns of it."""
    with psycopg.connect(f"{POSTGRES}/{database}", autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A migrated PostgreSQL database with one supporter who has an account, and collected static files."""
    directory = tmp_path_factory.mktemp("scale-out")
    name = f"scale_out_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    environment = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_HTTPS": "false",
        "DATABASE_URL": f"{POSTGRES}/{name}",
        "STATIC_ROOT": str(directory / "static"),
        "WEB_CONCURRENCY": "1",
    }
    try:
        manage(environment, "migrate", "--no-input", "--verbosity", "0")
        manage(environment, "collectstatic", "--no-input", "--verbosity", "0")
        script = (
            "from accounts.models import User; from counties.models import Municipality; "
            "from directory.models import PeerSupporter; "
            f"account = User.objects.create_user('anne@example.org', password={PASSWORD!r}); "
            "print(PeerSupporter.objects.create(name='Anne Alvheim', email='anne@example.org', phone='+4722123456', "
            "municipality=Municipality.objects.get(number='4601'), account=account).pk)"
        )
        created = subprocess.run(
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
            cwd=PROJECT,
            env=environment,
            check=True,
            capture_output=True,
            text=True,
        )
        yield directory, environment, name, int(created.stdout.split()[-1])
    finally:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def shared_redis():
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield {"REDIS_URL": REDIS_URL}
    client.flushdb()


@pytest.fixture
def shared_files(tmp_path):
    return {"CACHE_DIR": str(tmp_path / "cache")}


@pytest.mark.parametrize("caches", ["shared_redis", "shared_files"])
def test_a_roster_change_through_one_server_shows_through_the_other_at_once(site, caches, request, tmp_path):
    _, environment, database, pk = site
    environment = {**environment, **request.getfixturevalue(caches)}
    postgres(
        database, "UPDATE directory_peersupporter SET name = %s, last_confirmed = %s", "Anne Alvheim", "2020-01-01"
    )
    profile = f"/en/supporters/{pk}/"
    a = Server(tmp_path, environment)
    b = Server(tmp_path, environment)
    try:
        for server in (a, b):
            page = public_page(server, profile)
            assert "Anne Alvheim" in page
            assert 'datetime="2020-01-01"' in page

        # Changed behind the application's back: both servers keep answering from the page cache.
        postgres(database, "UPDATE directory_peersupporter SET name = %s WHERE id = %s", "Astrid Aas", pk)
        for server in (a, b):
            assert "Anne Alvheim" in public_page(server, profile)

        # Through A, as the supporter does it: log in, then "My details are current".
        anne = Browser(a)
        anne.request("GET", "/en/accounts/login/")
        response, _ = anne.request(
            "POST", "/en/accounts/login/", {"username": "anne@example.org", "password": PASSWORD}
        )
        assert response.status == 302, "the login failed"
        response, _ = anne.request("POST", "/en/my/confirm/", {})
        assert response.status == 302

        today = timezone.localdate().isoformat()
        for server in (b, a):
            page = public_page(server, profile)
            assert "Astrid Aas" in page
            assert f'datetime="{today}"' in page
        search = public_page(b, "/en/search/?county=46")
        assert "Astrid Aas" in search
    finally:
        a.stop()
        b.stop()

    assert postgres(database, "SELECT last_confirmed::text FROM directory_peersupporter WHERE id = %s", pk) == [
        (today,)
    ]
    for server in (a, b):
        assert server.stderr.read_bytes() == b"", server.stderr.read_text()
        assert re.sub(rb"\s", b"", server.stdout.read_bytes()) == b""
