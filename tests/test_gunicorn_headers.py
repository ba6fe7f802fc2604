"""No request header changes the path the site sees, not even one from the trusted proxy: the real gunicorn, started
as production starts it, with the proxy's address in FORWARDED_ALLOW_IPS."""

import html
import re

import pytest

from tests.servers import Server, production_site

# Headers that gunicorn, left to its defaults, takes from the trusted proxy into the WSGI environment.
PATH_HEADERS = [
    {"SCRIPT_NAME": "/evil"},
    {"SCRIPT_NAME": "/en"},
    {"SCRIPT_NAME": ""},
    {"script_name": "/evil"},
    {"PATH_INFO": "/admin/"},
    {"PATH_INFO": "/en/about/"},
    {"SCRIPT_NAME": "/en", "PATH_INFO": "/admin/"},
]


@pytest.fixture(scope="module")
def server(tmp_path_factory, django_db_blocker):
    """The real gunicorn serving a production site with a small demo roster."""
    directory = tmp_path_factory.mktemp("site")
    with production_site(directory, django_db_blocker) as environment:
        server = Server(directory, {**environment, "WEB_CONCURRENCY": "1"})
        try:
            yield server
        finally:
            server.stop()


def the_page_as_the_site_saw_it(body):
    """What shows the path and script name Django worked with: the page's language, the language switch (rebuilt
    from the path) and a link the site reversed (which carries the script name)."""
    page = body.decode()
    return {
        "language": re.search(r'<html lang="(\w+)"', page)[1],
        "switch": html.unescape(re.search(r'class="ds-link language-switch" href="([^"]*)"', page)[1]),
        "about": html.unescape(re.search(r'href="([^"]*)">About the service<', page)[1]),
    }


@pytest.mark.parametrize("headers", PATH_HEADERS, ids=lambda headers: "+".join(f"{k}:{v}" for k, v in headers.items()))
def test_no_header_from_the_trusted_proxy_changes_the_path(server, headers):
    logged_before = len(server.stderr.read_bytes())
    # A query of its own for each request, so that no answer comes from the page cache.
    query = f"county=03&probe={re.sub(r'[^A-Za-z]', '', repr(headers))}"

    response, body = server.get(f"/en/search/?{query}", headers=headers)

    assert response.status == 200, body[:300]
    assert b"gunicorn" not in body.lower()
    assert the_page_as_the_site_saw_it(body) == {
        "language": "en",
        "switch": f"/nb/search/?{query}",
        "about": "/en/about/",
    }
    assert b"/evil" not in body
    # X-Forwarded-Proto from the proxy still counts: the request was secure, so HSTS is sent.
    assert response.getheader("Strict-Transport-Security").startswith("max-age=")
    assert server.stderr.read_bytes()[logged_before:] == b""  # gunicorn logs its own 500s


def test_the_proxy_still_tells_the_site_the_request_was_secure(server):
    secure, _ = server.get("/en/about/")
    plain, _ = server.get("/en/about/", headers={"X-Forwarded-Proto": "http"})

    assert secure.status == 200
    assert secure.getheader("Strict-Transport-Security").startswith("max-age=")
    # Plain HTTP is sent to HTTPS.
    assert plain.status == 301
    assert plain.getheader("Location") == "https://127.0.0.1/en/about/"
