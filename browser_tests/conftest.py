"""Real-browser tests: Debian's Chromium, headless, driven by Playwright against Django's live test server.

Run with `make test-browser`. They need /usr/bin/chromium (`apt-get install chromium`); Playwright's own browser
download is not used. Pages are read in English (/en/...) and found by role, label and stable attributes.
"""

import contextlib
import os
import re
import threading
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

from counties.models import County
from tests import conftest as unit_tests

# Fixtures shared with the unit tests: make_supporter(...), and empty caches for every test.
make_supporter = unit_tests.make_supporter
fresh_caches = unit_tests.fresh_caches

CHROMIUM = "/usr/bin/chromium"
# Nothing of the browser's own: no background requests, no component updates, no sync. --no-sandbox because CI runs
# as root, where Chromium's sandbox refuses to start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOST = "127.0.0.1"
PASSWORD = "a long passphrase for the browser tests"


def pytest_configure(config):
    # The server listens on 127.0.0.1 itself, not "localhost", so "no request left 127.0.0.1" means what it says.
    if not config.getoption("liveserver"):
        config.option.liveserver = LOCAL_HOST
    # Playwright's synchronous API runs its event loop in this thread, which makes Django refuse ORM calls from the
    # test ("async context"). The test only sets up data; the server answers from its own thread.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    expect.set_options(timeout=10_000)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.is_relative_to(config.rootpath / "browser_tests"):
            # The server thread must see each test's data, so every test commits; the counties, municipalities,
            # specialties and languages seeded by the migrations are put back after each flush.
            item.add_marker(pytest.mark.django_db(transaction=True, serialized_rollback=True))


@pytest.fixture(scope="session")
def playwright():
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def django_db_setup(playwright, django_db_setup):
    """The test database is made after Playwright has started, and removed before it stops.

    Playwright's synchronous API keeps an event loop running in this thread, and while one runs, Django keeps this
    thread's database connections apart from those it had before. Everything (the test database, the copy of the
    seeded data that is put back after each test, the connection the live server shares) must be made on this side.
    """


@pytest.fixture(scope="session", autouse=True)
def test_database_before_live_server(django_db_setup):
    """The test database exists before the (session-wide) live server starts.

    Otherwise the server starts while the settings still name the real database, does not share the in-memory test
    database's connection with its threads, and each request opens a connection of its own that is never closed.
    """


@pytest.fixture(scope="session")
def browser(playwright, live_server):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does it).")
    # One browser for the session; each test gets a new context (below). Playwright starts the browser with a new,
    # empty temporary profile (--user-data-dir in a fresh temporary directory, removed at close), and a context is an
    # incognito-like profile of its own: no cookie, cache or storage is shared between contexts. A persistent context
    # per test would cost a browser start (~1 s) each, for no more isolation.
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    # The server answers each connection in a thread of its own, which closes the shared test database connection
    # when the browser hangs up. Those threads must be done before the server (which needs the browser, so stops
    # after it) hands that connection back, or they find it gone.
    for thread in threading.enumerate():
        if thread.name.endswith("(process_request_thread)"):
            thread.join(timeout=10)


class Visitor:
    """One person's browser: a fresh profile, with every request it makes recorded."""

    def __init__(self, browser, base_url):
        self.context = browser.new_context(
            base_url=base_url, locale="en-GB", timezone_id="Europe/Oslo", accept_downloads=True
        )
        self.context.set_default_timeout(10_000)
        # Every request any page of this profile makes, with the reason if it failed. A load that the
        # Content-Security-Policy stops is recorded too (failure "csp"): the page tried to reach elsewhere all the same.
        self.requests = []
        self.failures = {}
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.context.on("requestfailed", lambda request: self.failures.setdefault(request.url, request.failure))
        self.page = self.context.new_page()

    def assert_stayed_local(self):
        """Every request this browser made, or tried to make, went to 127.0.0.1."""
        assert self.requests, "no request was recorded at all"
        elsewhere = [
            f"{url} (failed: {self.failures[url]})" if url in self.failures else url
            for url in self.requests
            if urlsplit(url).scheme not in ("data", "blob") and not self.is_local(url)
        ]
        assert elsewhere == [], f"requests to other hosts than {LOCAL_HOST}: {elsewhere}"

    @staticmethod
    def is_local(url):
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and parts.hostname == LOCAL_HOST

    def assert_left_no_trace(self):
        """No cookie, and nothing in local or session storage: what a shared workstation would keep."""
        assert self.context.cookies() == []
        state = self.context.storage_state()
        assert state["origins"] == [], f"pages stored data in the browser: {state['origins']}"
        session_storage = self.page.evaluate("() => window.sessionStorage.length")
        assert session_storage == 0, "pages stored data in sessionStorage"

    def close(self):
        # A context the browser has already closed (after a crash) needs no closing.
        with contextlib.suppress(PlaywrightError):
            self.context.close()


@pytest.fixture
def visitors(browser, live_server):
    """Open a new browser profile per person in the test: visitors() -> Visitor."""
    opened = []

    def open_visitor():
        visitor = Visitor(browser, live_server.url)
        opened.append(visitor)
        return visitor

    yield open_visitor
    for visitor in opened:
        visitor.close()


@pytest.fixture
def doctor(visitors):
    """A help-seeking doctor's browser."""
    return visitors()


@pytest.fixture
def roster(make_supporter):
    """Two psychiatrists and a family doctor in Oslo, and a psychiatrist in Bergen who meets by video."""
    return {
        "per": make_supporter(
            name="Per Psykiater",
            municipality="Oslo",
            specialties=["psychiatry"],
            phone="+4791234567",
            email="per@example.org",
        ),
        "pia": make_supporter(name="Pia Psykiater", municipality="Oslo", specialties=["psychiatry"]),
        "anne": make_supporter(
            name="Anne Allmenn", municipality="Oslo", specialties=["general-practice-family-medicine"]
        ),
        "vera": make_supporter(
            name="Vera Vestland", municipality="Bergen", specialties=["psychiatry"], meets_by_video=True
        ),
    }


# People who log in. Each has a confirmed authenticator app, and gives its code at login.


def current_code(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.fixture
def supporter_account(make_supporter, django_user_model):
    user = django_user_model.objects.create_user("kari@example.org", password=PASSWORD, language="en")
    TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    make_supporter(
        name="Kari Nordmann",
        municipality="Oslo",
        email="kari@example.org",
        specialties=["psychiatry"],
        account=user,
        last_confirmed=timezone.localdate(),
    )
    return user


@pytest.fixture
def coordinator_account(django_user_model):
    user = django_user_model.objects.create_user(
        "oslo.coordinator@example.org", password=PASSWORD, role="coordinator", language="en"
    )
    user.counties.set([County.objects.get(number="03")])
    TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    return user


def submit(page, action):
    """Send a form by calling action (a click, a key press); a form refused by Django's CSRF check fails here."""
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        action()
    response = posted.value
    origin = response.request.header_value("origin")
    if response.status == 403 and origin == "null":
        pytest.fail(
            f"the form at {page.url} was refused (403): the browser sent 'Origin: null', which Django's CSRF check "
            "refuses. Chromium sends that with the forms of a page whose Referrer-Policy is no-referrer: pages with "
            "forms need Referrer-Policy same-origin (which still sends nothing to other sites)."
        )
    assert response.status != 403, f"the form at {page.url} was refused (403)"
    return response


def log_in(page, user):
    """Log in with e-mail and password, then the code of the account's authenticator app."""
    page.goto("/en/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    submit(page, page.get_by_role("button", name="Log in").click)
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/verify/"))
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    page.get_by_label("Code").fill(current_code(device))
    submit(page, page.get_by_role("button", name="Continue").click)
    expect(page).not_to_have_url(re.compile(r"/accounts/(login|two-factor)/"))
