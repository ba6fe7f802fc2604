"""A password reset tells nobody which addresses have accounts, by its answer or its timing, and sends one address at
most three e-mails an hour."""

import re
import threading
import time
import urllib.parse

import pytest
from django.core import mail
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.views import PasswordResetView
from tests.servers import Server, SMTPServer, manage, production_site

pytestmark = pytest.mark.django_db

PASSWORD = "a long and unusual passphrase"


@pytest.fixture
def account(django_user_model):
    return django_user_model.objects.create_user("kari@example.org", password=PASSWORD)


def ask_for_reset(email, client=None):
    return (client or Client()).post("/en/accounts/password/reset/", {"email": email})


@pytest.mark.parametrize("email", ["kari@example.org", "nobody@example.org"])
def test_nothing_that_depends_on_the_address_happens_before_the_answer(rf, account, email):
    request = rf.post("/en/accounts/password/reset/", {"email": email})
    request._dont_enforce_csrf_checks = True

    with CaptureQueriesContext(connection) as before_answer:
        response = PasswordResetView.as_view()(request)

    assert response.status_code == 302
    assert before_answer.captured_queries == []
    assert mail.outbox == []
    assert not caches["limits"]._cache

    response.close()  # what the WSGI server does once the answer has been sent

    assert len(mail.outbox) == (1 if email == "kari@example.org" else 0)


def test_the_answer_is_the_same_for_an_address_with_an_account_and_one_without(account):
    known = ask_for_reset("kari@example.org")
    unknown = ask_for_reset("nobody@example.org")

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert known.content == unknown.content
    assert sorted(known.headers) == sorted(unknown.headers)
    assert len(mail.outbox) == 1


def test_one_address_gets_three_reset_emails_an_hour_however_it_is_spelled(account, monkeypatch):
    for spelling in [
        "kari@example.org",
        "Kari@example.org",
        " KARI@EXAMPLE.ORG",
        "kari@Example.org",
        "kari@example.org",
    ]:
        assert ask_for_reset(spelling).status_code == 302

    assert len(mail.outbox) == 3

    # Another address is not held back by it.
    other = type(account).objects.create_user("ola@example.org", password=PASSWORD)
    ask_for_reset(other.email)
    assert len(mail.outbox) == 4

    # An hour later the address may have another.
    now = time.time()
    monkeypatch.setattr("django.core.cache.backends.locmem.time.time", lambda: now + 60 * 60 + 1)
    ask_for_reset("kari@example.org")
    assert len(mail.outbox) == 5


def test_the_limit_counts_without_keeping_the_address(account):
    for _ in range(2):
        ask_for_reset("Kari@example.org")

    stored = repr(caches["limits"]._cache)
    assert caches["limits"]._cache
    assert "kari" not in stored.lower()


def test_a_failure_after_the_answer_is_logged_without_the_address(rf, account, caplog, monkeypatch):
    def broken(email):
        raise RuntimeError(f"something about {email}")

    monkeypatch.setattr("accounts.forms.reset_mail_allowed", broken)
    request = rf.post("/en/accounts/password/reset/", {"email": "kari@example.org"})
    request._dont_enforce_csrf_checks = True

    response = PasswordResetView.as_view()(request)
    response.close()

    assert response.status_code == 302
    assert "RuntimeError" in caplog.text
    assert "kari" not in caplog.text


# The real server


@pytest.fixture
def slow_mail_server():
    """A mail server that does not even greet until the test lets it."""
    server = SMTPServer()
    server.hold.clear()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.hold.set()
    server.shutdown()
    server.server_close()


def test_the_real_server_answers_before_it_talks_to_the_mail_server(tmp_path, django_db_blocker, slow_mail_server):
    with production_site(
        tmp_path, django_db_blocker, EMAIL_URL=f"smtp://127.0.0.1:{slow_mail_server.port}", EMAIL_TIMEOUT="20"
    ) as environment:
        manage(
            environment,
            "shell",
            "-c",
            f"from accounts.models import User; User.objects.create_user('kari@example.org', password='{PASSWORD}')",
        )
        server = Server(tmp_path, environment)
        try:
            form, body = server.get("/en/accounts/password/reset/")
            cookie = form.getheader("Set-Cookie").split(";", 1)[0]
            token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)[1].decode()

            # The whole exchange, until the server closes the connection, while the mail server has not even said
            # hello. The 10 seconds are less than the 20 the site waits for the mail server: an answer, or a closing,
            # that waited for it times out.
            body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "email": "Kari@example.org"})
            request = (
                "POST /en/accounts/password/reset/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Proto: https\r\n"
                f"Origin: https://127.0.0.1\r\nCookie: {cookie}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n{body}"
            )
            answer = server.send_raw(request.encode(), until_closed=True)

            assert answer.startswith(b"HTTP/1.1 302")
            assert b"\r\nLocation: /en/accounts/password/reset/sent/\r\n" in answer
            assert slow_mail_server.received == []
            # The worker is free for the next visitor meanwhile.
            assert server.get("/en/accounts/password/reset/")[0].status == 200

            slow_mail_server.hold.set()
            deadline = time.monotonic() + 20
            while not slow_mail_server.received and time.monotonic() < deadline:
                time.sleep(0.1)
            assert [recipients for recipients, _message in slow_mail_server.received] == [["kari@example.org"]]
        finally:
            server.stop()


@pytest.fixture
def limits_in_the_database(settings):
    from config.settings import COUNTER_CACHE

    settings.CACHES = {**settings.CACHES, "limits": {**COUNTER_CACHE, "KEY_PREFIX": "limits"}}
    # What migration accounts/0003 makes where production settings are in force.
    call_command("createcachetable", verbosity=0)
    yield
    caches["limits"].clear()


def test_in_the_database_the_limit_holds_for_the_whole_hour(account, limits_in_the_database, monkeypatch):
    import datetime

    from django.utils import timezone

    def after(minutes):
        moment = timezone.now() + datetime.timedelta(minutes=minutes)
        monkeypatch.setattr("django.core.cache.backends.db.tz_now", lambda: moment)

    for _ in range(4):
        ask_for_reset("kari@example.org")
    assert len(mail.outbox) == 3

    after(6)
    ask_for_reset("kari@example.org")
    after(59)
    ask_for_reset("kari@example.org")
    assert len(mail.outbox) == 3

    after(61)
    ask_for_reset("kari@example.org")
    assert len(mail.outbox) == 4
