"""What a visitor sends that Django refuses for safety is answered with the plain 400 or 403 page: it is no error of
the site, so nothing is logged and nobody is mailed. Errors of the site itself still are."""

import logging

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import (
    DisallowedHost,
    RequestDataTooBig,
    SuspiciousFileOperation,
    SuspiciousMultipartForm,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponseRedirect
from django.test import Client
from django.utils.crypto import get_random_string

from tests.servers import through_the_application

pytestmark = pytest.mark.django_db

MARKER = "refusal-marker-5813"
BAD_REQUEST_PAGE = "The request could not be understood"
NOT_ALLOWED_PAGE = "The form could not be sent"


@pytest.fixture
def written_to_logs(monkeypatch):
    """Every record that a handler configured in LOGGING writes or sends, whatever its level: the loggers, their
    levels, filters and propagation as settings.LOGGING sets them up."""
    records = []
    loggers = [logging.getLogger(), *map(logging.getLogger, settings.LOGGING["loggers"])]
    handlers = {
        handler for logger in loggers for handler in logger.handlers if handler.name in settings.LOGGING["handlers"]
    }
    assert {handler.name for handler in handlers} >= {"console", "mail_admins"}
    for handler in handlers:

        def emit(record, emit=handler.emit):
            records.append(record)
            emit(record)

        monkeypatch.setattr(handler, "emit", emit)
    return records


@pytest.fixture
def admins(settings):
    settings.ADMINS = ["operator@example.org"]


def written(records):
    return [f"{record.levelname} {record.name}: {record.getMessage()}" for record in records]


# Refusals a visitor can cause through the site's own pages


def too_many_fields(client):
    query = "&".join(["q"] * settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + [MARKER])
    return client.get(f"/en/search/?{query}")


def too_many_files(client):
    files = [SimpleUploadedFile(f"{number}.txt", b"x") for number in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)]
    return client.post("/en/accounts/login/", {"username": MARKER, "attachment": files})


def too_much_data(client):
    body = f"username={MARKER}&password=" + "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return client.post("/en/accounts/login/", body, content_type="application/x-www-form-urlencoded")


def another_host(client):
    return client.get(f"/en/search/?q={MARKER}", headers={"host": f"{MARKER}.example"})


REFUSED_WITH_400 = [too_many_fields, too_many_files, too_much_data, another_host]


@pytest.mark.parametrize("refusal", REFUSED_WITH_400, ids=lambda refusal: refusal.__name__)
def test_a_refused_request_is_a_plain_bad_request_logged_nowhere(refusal, written_to_logs, admins):
    response = refusal(Client())

    assert response.status_code == 400
    assert BAD_REQUEST_PAGE in response.content.decode()
    assert written(written_to_logs) == []
    assert mail.outbox == []


def test_a_form_without_its_csrf_token_is_a_plain_403_logged_nowhere(written_to_logs, admins):
    browser = Client(enforce_csrf_checks=True)
    browser.get("/en/accounts/login/")

    response = browser.post("/en/accounts/login/", {"username": MARKER, "password": get_random_string(20)})

    assert response.status_code == 403
    assert NOT_ALLOWED_PAGE in response.content.decode()
    assert written(written_to_logs) == []
    assert mail.outbox == []


def test_a_form_from_another_origin_is_a_plain_403_logged_nowhere(written_to_logs, admins):
    browser = Client(enforce_csrf_checks=True)
    browser.get("/en/accounts/login/")
    token = browser.cookies[settings.CSRF_COOKIE_NAME].value

    response = browser.post(
        "/en/accounts/login/",
        {"username": MARKER, "csrfmiddlewaretoken": token},
        headers={"origin": f"https://{MARKER}.example"},
    )

    assert response.status_code == 403
    assert written(written_to_logs) == []
    assert mail.outbox == []


# Every kind of SuspiciousOperation, raised where a page is made


def redirect_elsewhere():
    # HttpResponseRedirect refuses a scheme other than http, https and ftp.
    return HttpResponseRedirect(f"javascript:alert('{MARKER}')")


SUSPICIOUS = {
    "SuspiciousOperation": lambda: SuspiciousOperation(MARKER),
    "DisallowedHost": lambda: DisallowedHost(f"Invalid HTTP_HOST header: '{MARKER}.example'."),
    "DisallowedRedirect": redirect_elsewhere,
    "SuspiciousFileOperation": lambda: SuspiciousFileOperation(f"Detected path traversal attempt in '../{MARKER}'"),
    "SuspiciousMultipartForm": lambda: SuspiciousMultipartForm(MARKER),
    "TooManyFieldsSent": lambda: TooManyFieldsSent(MARKER),
    "TooManyFilesSent": lambda: TooManyFilesSent(MARKER),
    "RequestDataTooBig": lambda: RequestDataTooBig(MARKER),
}


@pytest.mark.parametrize("kind", SUSPICIOUS)
def test_every_suspicious_operation_is_a_plain_bad_request_logged_nowhere(kind, monkeypatch, written_to_logs, admins):
    def refuse(*args, **kwargs):
        raise SUSPICIOUS[kind]()

    monkeypatch.setattr("directory.views.results_context", refuse)

    response = Client(raise_request_exception=False).get(f"/en/search/?q={MARKER}")

    assert response.status_code == 400
    assert BAD_REQUEST_PAGE in response.content.decode()
    assert written(written_to_logs) == []
    assert mail.outbox == []


# The site's own errors are still logged and mailed


def test_an_error_of_the_site_is_still_logged_and_mailed(monkeypatch, written_to_logs, admins):
    monkeypatch.setattr("directory.views.results_context", lambda *args: 1 / 0)

    response = Client(raise_request_exception=False).get(f"/en/search/?q={MARKER}")

    assert response.status_code == 500
    errors = [record for record in written_to_logs if record.levelno >= logging.ERROR]
    # Once to the console, once to the administrators.
    assert written(errors) == ["ERROR django.request: Internal Server Error: /en/search/"] * 2
    assert errors[0].exc_info[0] is ZeroDivisionError
    assert len(mail.outbox) == 1
    assert "ZeroDivisionError" in mail.outbox[0].body


# A form in another charset than UTF-8, which Django refuses to read while it checks the CSRF token


def post_through_the_server(path, content_type, body=b"a=b"):
    """POST as gunicorn hands it to the application, with a CSRF cookie: (status, body)."""
    status, _headers, content = through_the_application(
        path,
        method="POST",
        body=body,
        CONTENT_TYPE=content_type,
        HTTP_COOKIE=f"{settings.CSRF_COOKIE_NAME}=abcdefghijklmnopqrstuvwxyzABCDEF",
    )
    return status, content


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded; charset=latin-1",
        "application/x-www-form-urlencoded; charset=ISO-8859-1",
        "application/x-www-form-urlencoded; charset=utf8",
        "application/x-www-form-urlencoded; charset=utf-16",
    ],
)
@pytest.mark.parametrize("path", ["/en/search/", "/en/", "/en/accounts/login/", "/en/accounts/password/reset/"])
def test_a_form_in_another_charset_is_refused_plainly(written_to_logs, admins, path, content_type):
    status, _body = post_through_the_server(path, content_type)

    assert status in (403, 405), status
    assert written(written_to_logs) == []
    assert mail.outbox == []


def test_a_utf8_form_is_still_read(written_to_logs):
    status, body = post_through_the_server(
        "/en/accounts/login/", "application/x-www-form-urlencoded; charset=UTF-8", b"username=a&password=b"
    )

    # Read, and refused for its missing CSRF token, as any form without one.
    assert status == 403
    assert NOT_ALLOWED_PAGE in body.decode()


# A body Django cannot read, sent to an address that is none of the site's: the 404 page is the first to read it


def multipart_with_too_many_files():
    boundary = "xyz"
    parts = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="f{number}"; filename="f{number}.txt"\r\n'
        "Content-Type: text/plain\r\n\r\nx\r\n"
        for number in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 20)
    )
    return f"multipart/form-data; boundary={boundary}", f"{parts}--{boundary}--\r\n".encode()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"a=b"),
        ("multipart/form-data; boundary=", b"a=b"),
        ("multipart/form-data; boundary=\u00e6", b"a=b"),
        ("multipart/form-data; charset=latin-1", b"a=b"),
        multipart_with_too_many_files(),
    ],
    ids=["no boundary", "empty boundary", "non-ASCII boundary", "charset, no boundary", "too many files"],
)
@pytest.mark.parametrize("path", ["/", "/en/nowhere/", "/en/search/extra", "/static/nothing.css"])
def test_an_unreadable_body_sent_to_no_page_is_a_plain_bad_request(written_to_logs, admins, path, content_type, body):
    status, content = post_through_the_server(path, content_type, body)

    assert status == 400, status
    # In the address's language; Norwegian Bokmål where it has none.
    assert (BAD_REQUEST_PAGE if path.startswith("/en/") else "Forespørselen ble ikke forstått") in content.decode()
    assert written(written_to_logs) == []
    assert mail.outbox == []


def test_a_post_to_no_page_with_a_readable_body_is_still_not_found(written_to_logs):
    status, _content = post_through_the_server("/en/nowhere/", "application/x-www-form-urlencoded", b"a=b")

    assert status == 404
    assert written(written_to_logs) == []
