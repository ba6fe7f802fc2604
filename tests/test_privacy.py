"""The promise: looking for help leaves no trace. Every public page is checked for each property."""

import contextlib
import logging
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve
from django.views.debug import ExceptionReporter

from config.logging import anonymous_request
from config.middleware import PERMISSIONS_POLICY
from directory import api_urls
from directory import urls as directory_urls

MARKER = "zebra-marker-4711"
CLIENT_ADDRESS = "198.51.100.23"
FORWARDED_ADDRESS = "203.0.113.77"
STATIC_DIR = Path(settings.BASE_DIR) / "static"
pytestmark = pytest.mark.django_db

WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|MERGE|CREATE|ALTER|DROP|TRUNCATE)\b", re.IGNORECASE)


@pytest.fixture
def public_requests(make_supporter):
    """(method, path, extra request arguments, expected status) for every kind of page a visitor can reach."""
    supporter = make_supporter(municipality="Bergen", specialties=["psychiatry"], note="Ring gjerne.")
    return [
        ("get", "/", {}, 302),
        ("get", "/nb/", {}, 200),
        ("get", f"/nb/search/?q=lege+{MARKER}&county=03", {}, 200),
        ("get", f"/nb/supporters/{supporter.pk}/", {}, 200),
        ("get", "/en/", {}, 200),
        ("get", "/en/search/", {}, 200),
        ("get", f"/en/search/?q=lege+{MARKER}&county=46&mode=phone&open=on&language=nb", {}, 200),
        ("get", "/en/search/?municipality=4601&specialty=psychiatry&page=2", {}, 200),
        ("get", f"/en/search/?county={MARKER}&page=abc", {}, 200),
        ("get", "/en/counties/46/", {}, 200),
        ("get", f"/en/supporters/{supporter.pk}/", {}, 200),
        ("get", f"/en/supporters/{supporter.pk}/vcard/", {}, 200),
        ("get", "/en/about/", {}, 200),
        ("get", "/en/privacy/", {}, 200),
        ("get", "/en/accessibility/", {}, 200),
        ("get", "/en/open-data/", {}, 200),
        ("get", f"/api/roster.json?q=lege+{MARKER}&county=46&mode=phone&page=2&per_page=5", {}, 200),
        ("get", f"/api/roster.json?county={MARKER}&page=abc", {}, 200),
        ("get", "/healthz", {}, 200),
        ("head", "/en/search/?q=oslo", {}, 200),
        ("get", "/static/css/site.css", {}, 200),
        ("get", f"/no-such-page-{MARKER}/", {}, 404),
        ("get", "/en/supporters/999999/", {}, 404),
        ("get", "/en/", {"HTTP_HOST": "not-this-site.example"}, 400),
        ("post", "/en/search/", {"data": {"q": MARKER}}, 403),
    ]


@pytest.fixture
def client():
    """A client that checks CSRF tokens, as a real browser visit would be checked."""
    return Client(enforce_csrf_checks=True)


def visit(client, method, path, extra, status=None):
    """Request path as a visitor behind a proxy would, reading a streamed body (static files) to the end."""
    extra = {"REMOTE_ADDR": CLIENT_ADDRESS, "HTTP_X_FORWARDED_FOR": FORWARDED_ADDRESS, **extra}
    response = getattr(client, method)(path, **extra)
    if status is not None:
        assert response.status_code == status, path
    if response.streaming:
        # Reading to the end closes the file (the test client closes the response after the last chunk).
        b"".join(response.streaming_content)
    return response


# The supporter's own listing lives beside the public pages but needs a login (tests/test_my_listing.py).
LOGGED_IN_VIEWS = {"directory:my_listing", "directory:my_listing_confirm"}


def test_every_public_view_is_among_the_checked_requests(public_requests):
    directory_views = {f"directory:{pattern.name}" for pattern in directory_urls.urlpatterns}
    api_views = {f"api:{pattern.name}" for pattern in api_urls.urlpatterns}
    public_views = directory_views - LOGGED_IN_VIEWS | api_views | {"healthz"}
    checked = set()
    for _method, path, _extra, _status in public_requests:
        with contextlib.suppress(Resolver404):
            checked.add(resolve(urlsplit(path).path).view_name)

    assert public_views - checked == set()


def test_public_pages_set_no_cookie(client, public_requests):
    for method, path, extra, status in public_requests:
        response = visit(client, method, path, extra, status)
        assert not response.cookies, (path, response.cookies)
        assert "Set-Cookie" not in response.headers, path
    assert not client.cookies


def test_public_pages_write_nothing_to_the_database(client, public_requests):
    for method, path, extra, status in public_requests:
        with CaptureQueriesContext(connection) as queries:
            visit(client, method, path, extra, status)
        writes = [query["sql"] for query in queries if WRITES.match(query["sql"])]
        assert writes == [], path


def test_a_page_that_fails_sets_no_cookie_and_writes_nothing(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the search broke")

    monkeypatch.setattr("directory.views.results_context", broken)
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    with CaptureQueriesContext(connection) as queries:
        response = visit(client, "get", f"/en/search/?q={MARKER}", {})

    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    assert not response.cookies
    assert [query["sql"] for query in queries if WRITES.match(query["sql"])] == []
    assert_privacy_headers(response, "/en/search/ (500)")
    assert response.headers["Cache-Control"] == "no-store"
    resources = LoadedResources()
    resources.feed(response.content.decode())
    assert resources.urls
    assert all(is_same_origin(url) for url in resources.urls)
    assert resources.inline == []


# Headers


def csp_directives(response):
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def assert_privacy_headers(response, path):
    directives = csp_directives(response)
    assert directives["default-src"] == ["'none'"], path
    for directive in ("script-src", "style-src", "font-src", "form-action"):
        assert directives[directive] == ["'self'"], (path, directive)
    # Images from this site, and the icons written into its stylesheets as data: addresses; nothing else.
    assert directives["img-src"] == ["'self'", "data:"], path
    for directive in ("frame-ancestors", "base-uri", "object-src"):
        assert directives[directive] == ["'none'"], (path, directive)
    assert "unsafe" not in response.headers["Content-Security-Policy"], path
    # The address of a page goes to no other site (and to this one only, so that forms pass the CSRF check).
    assert response.headers["Referrer-Policy"] == "same-origin", path
    assert response.headers["X-Content-Type-Options"] == "nosniff", path
    assert response.headers["X-Frame-Options"] == "DENY", path
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin", path
    assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin", path
    assert response.headers["Permissions-Policy"] == PERMISSIONS_POLICY, path
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in PERMISSIONS_POLICY
    assert "Server" not in response.headers, path


def test_public_pages_send_the_privacy_headers(client, public_requests):
    for method, path, extra, status in public_requests:
        response = visit(client, method, path, extra, status)
        assert_privacy_headers(response, path)


def test_pages_are_not_kept_in_the_browser_cache(client, public_requests):
    for method, path, extra, status in public_requests:
        response = visit(client, method, path, extra, status)
        if path.startswith(settings.STATIC_URL):
            continue
        assert response.headers["Cache-Control"] == "no-store", path


def test_static_files_keep_their_long_caching(client):
    response = visit(client, "get", "/static/css/site.css", {})

    assert response.status_code == 200
    assert "no-store" not in response.headers["Cache-Control"]
    assert "max-age=" in response.headers["Cache-Control"]
    assert "Access-Control-Allow-Origin" not in response.headers


def test_https_pages_tell_browsers_to_use_https_for_two_years_with_subdomains(client):
    response = client.get("/en/", secure=True)

    assert response.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains; preload"


def test_public_views_accept_only_get_and_head(client, make_supporter):
    supporter = make_supporter()
    csrf_exempt_client = Client(enforce_csrf_checks=False)
    for path in [
        "/en/",
        "/en/search/",
        "/en/counties/03/",
        supporter.get_absolute_url(),
        "/en/about/",
        "/en/privacy/",
        "/healthz",
    ]:
        assert csrf_exempt_client.post(path).status_code == 405, path
        assert client.head(path).status_code == 200, path


# Nothing from another origin


class LoadedResources(HTMLParser):
    """Everything a page makes the browser fetch or send to, and any inline script or style."""

    FETCHING = {"script": "src", "img": "src", "iframe": "src", "source": "src", "audio": "src", "video": "src",
                "embed": "src", "object": "data", "form": "action", "track": "src"}  # fmt: skip

    def __init__(self):
        super().__init__()
        self.urls, self.inline = [], []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.FETCHING and attrs.get(self.FETCHING[tag]):
            self.urls.append(attrs[self.FETCHING[tag]])
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])
        if tag == "script" and not attrs.get("src"):
            self.inline.append("<script> without src")
        if tag == "style":
            self.inline.append("<style>")
        if "style" in attrs:
            self.inline.append(f"style attribute on <{tag}>")
        self.inline += [f"{name} on <{tag}>" for name in attrs if name.startswith("on")]


def is_same_origin(url):
    return not re.match(r"^([a-z][a-z0-9+.-]*:|//)", url, re.IGNORECASE)


def test_public_pages_load_nothing_from_another_origin(client, public_requests):
    for method, path, extra, status in public_requests:
        response = visit(client, method, path, extra, status)
        if not response.get("Content-Type", "").startswith("text/html") or method == "head" or status == 302:
            continue
        resources = LoadedResources()
        resources.feed(response.content.decode())
        assert resources.urls, path
        assert [url for url in resources.urls if not is_same_origin(url)] == [], path
        assert resources.inline == [], path


def test_stylesheets_load_nothing_from_another_origin():
    for stylesheet in STATIC_DIR.rglob("*.css"):
        css = stylesheet.read_text()
        assert "@import" not in css, stylesheet
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", css):
            # A data: address is part of the stylesheet itself (the design system's icons): nothing is fetched.
            assert url.startswith("data:") or is_same_origin(url), (stylesheet, url[:80])


def test_the_origin_check_recognises_other_origins():
    assert not is_same_origin("https://cdn.example/x.js")
    assert not is_same_origin("//fonts.example/font.woff2")
    assert is_same_origin("/static/css/site.css")
    assert is_same_origin("?page=2")


# Logs and error reports


@pytest.fixture
def django_log_records():
    """Every record Django's loggers pass on to their handlers."""
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    keeper = Keep(level=logging.DEBUG)
    logger = logging.getLogger("django")
    logger.addHandler(keeper)
    yield records
    logger.removeHandler(keeper)


def test_not_found_pages_are_not_logged(client, django_log_records):
    response = visit(client, "get", f"/no-such-page-{MARKER}/?q={MARKER}", {})

    assert response.status_code == 404
    assert django_log_records == []


def test_a_failing_page_is_logged_by_path_only(monkeypatch, django_log_records):
    monkeypatch.setattr("directory.views.results_context", lambda *args: 1 / 0)
    response = visit(Client(raise_request_exception=False), "get", f"/en/search/?q={MARKER}", {})

    assert response.status_code == 500
    messages = [record.getMessage() for record in django_log_records]
    assert messages == ["Internal Server Error: /en/search/"]


def test_error_mail_carries_no_query_string_and_no_client_address(monkeypatch, settings):
    settings.ADMINS = ["operator@example.org"]

    def broken(request, data):
        search_text = data.get("q")  # a local variable holding the visitor's search
        raise RuntimeError(f"the search broke after {len(search_text)} characters")

    monkeypatch.setattr("directory.views.results_context", broken)
    response = visit(Client(raise_request_exception=False), "get", f"/en/search/?q={MARKER}&county=46", {})

    assert response.status_code == 500
    assert len(mail.outbox) == 1
    report = mail.outbox[0]
    text = "\n".join([report.subject, report.body, *(content for content, _ in report.alternatives)])
    assert "Internal Server Error: /en/search/" in report.subject
    assert "RuntimeError" in text
    for secret in (MARKER, "county=46", CLIENT_ADDRESS, FORWARDED_ADDRESS):
        assert secret not in text, secret


def test_error_reports_leave_out_local_variables(rf):
    def search_that_breaks(search_text):
        raise RuntimeError("the search broke")

    request = rf.get(f"/en/search/?q={MARKER}", REMOTE_ADDR=CLIENT_ADDRESS)
    try:
        search_that_breaks(MARKER)
    except RuntimeError:
        exc_info = sys.exc_info()
    reporter = ExceptionReporter(anonymous_request(request), *exc_info, is_email=True)

    html = reporter.get_traceback_html()
    assert "search_that_breaks" in html
    assert MARKER not in html
    assert CLIENT_ADDRESS not in html


# The privacy page tells the truth


def log_in_to_the_admin(django_user_model):
    """A browser-like client after a real login through the login form, CSRF token and all."""
    django_user_model.objects.create_superuser("staff@example.org", password="a long admin passphrase")
    browser = Client(enforce_csrf_checks=True)
    browser.get("/en/accounts/login/")
    response = browser.post(
        "/en/accounts/login/",
        {
            "username": "staff@example.org",
            "password": "a long admin passphrase",
            "csrfmiddlewaretoken": browser.cookies[settings.CSRF_COOKIE_NAME].value,
        },
    )
    assert response.status_code == 302
    return browser


def test_privacy_page_names_exactly_the_cookies_the_logged_in_area_sets(client, django_user_model):
    html = client.get("/en/privacy/").content.decode()
    named = set(re.findall(r'<code class="cookie-name">([^<]+)</code>', html))

    browser = log_in_to_the_admin(django_user_model)

    assert named == set(browser.cookies.keys())
    assert named == {"__Host-session", "__Host-csrftoken"}


def test_logged_in_cookies_are_secure_http_only_and_same_site(django_user_model):
    browser = log_in_to_the_admin(django_user_model)

    assert len(browser.cookies) == 2
    for cookie in browser.cookies.values():
        assert cookie["secure"] is True, cookie.key
        assert cookie["httponly"] is True, cookie.key
        assert cookie["samesite"] == "Strict", cookie.key
        assert cookie["path"] == "/", cookie.key
        assert not cookie["domain"], cookie.key
        # Gone when the browser closes: no lifetime of its own.
        assert not cookie["expires"], cookie.key
        assert not cookie["max-age"], cookie.key


def test_privacy_page_says_what_is_and_is_not_stored(client):
    html = client.get("/en/privacy/").content.decode()

    for statement in (
        "The public pages set no cookies",
        "Looking at the directory writes nothing to its database",
        "The web server keeps no access log",
        "There is no contact form",
        "The pages load nothing from other websites",
        "browser's own history",
        "private window",
    ):
        assert statement in html, statement


# The server-side page cache (directory/cache.py): it is only used outside a transaction, so these tests commit.


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_public_pages_answered_from_the_page_cache_keep_every_promise(client, public_requests):
    for method, path, extra, status in public_requests:
        visit(client, method, path, extra, status)
        with CaptureQueriesContext(connection) as queries:
            response = visit(client, method, path, extra, status)
        assert [query["sql"] for query in queries if WRITES.match(query["sql"])] == [], path
        assert not response.cookies, path
        assert "Set-Cookie" not in response.headers, path
        assert_privacy_headers(response, path)
        if not path.startswith(settings.STATIC_URL):
            assert response.headers["Cache-Control"] == "no-store", path
    assert not client.cookies


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_page_cache_keeps_no_search_text_in_its_keys_and_no_client_address_at_all(client, public_requests):
    from django.core.cache import caches

    for method, path, extra, status in public_requests:
        visit(client, method, path, extra, status)

    stored = dict(caches["default"]._cache)
    assert any(":page:" in key for key in stored)
    for key, value in stored.items():
        assert MARKER not in key
        assert ":page:" not in key or re.fullmatch(r":\d+:page:[0-9a-f]{64}", key), key
        assert CLIENT_ADDRESS.encode() not in value
        assert FORWARDED_ADDRESS.encode() not in value
