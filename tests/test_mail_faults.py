"""A mail server that cannot be reached, or fails: staff are told the e-mail was not sent, nothing is half-created, and
sending again once the server works does the whole thing once.

The mail servers are real: Django's SMTP backend talks over a socket to a port on 127.0.0.1 where nothing listens, or
to a small SMTP server in a thread of the test that refuses, drops the connection, never answers, or works.
"""

import json
import logging
import re
import threading
import time

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from accounts.models import Invitation, User
from directory.models import PeerSupporter
from tests.servers import SMTPServer, free_port
from tests.test_settings import PRODUCTION, run_settings_import

# The admin has no language in its address: it follows the browser's Accept-Language, here English.
pytestmark = pytest.mark.usefixtures("english_admin")

CHANGELIST = reverse("admin:directory_peersupporter_changelist")
USERS = reverse("admin:accounts_user_changelist")
# Short, so that a server that never answers costs the test one second.
TIMEOUT = 1


@pytest.fixture
def smtp_server():
    """start(behaviour): a server on 127.0.0.1 that works, or is "busy" (421), "drops" the connection or is "silent"."""
    servers = []

    def start(behaviour="works"):
        server = SMTPServer(behaviour)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def use_mail_server(settings, port):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": TIMEOUT},
        }
    }


@pytest.fixture
def broken_mail(request, settings, smtp_server):
    """The mail server in each way it can fail: nothing listening, or a server that refuses, drops or never answers."""
    behaviour = request.param
    server = None if behaviour == "unreachable" else smtp_server(behaviour)
    # A port that was bound and let go: nothing listens on it.
    use_mail_server(settings, server.port if server else free_port())
    return server


FAILURES = ["unreachable", "busy", "drops", "silent"]


@pytest.fixture
def working_mail(settings, smtp_server):
    """Call it to bring the mail server back: a server that takes every message."""

    def start():
        server = smtp_server("works")
        use_mail_server(settings, server.port)
        return server

    return start


@pytest.fixture
def coordinator(roles):
    return roles.clients["oslo_coordinator"]


def run_action(client, action, rows, url=CHANGELIST):
    response = client.post(url, {"action": action, "_selected_action": [row.pk for row in rows]})
    assert response.status_code == 302
    return client.get(response["Location"])


def messages_of(response):
    return [(message.level_tag, str(message)) for message in response.context["messages"]]


NOT_SENT = re.compile(
    r"No invitation was sent to (?P<name>.+): the e-mail could not be sent \(.+\)\. Nothing was created or changed "
    r"for them; send the invitation again when the mail server works\."
)


def not_sent_to(response):
    """The names the page says got no invitation because the e-mail could not be sent, and the rest of what it says."""
    names, rest = [], []
    for level, message in messages_of(response):
        match = NOT_SENT.fullmatch(message)
        if match and level == "error":
            names.append(match["name"])
        else:
            rest.append((level, message))
    return names, rest


def invitation_link(message):
    return re.search(r"https?://[^/\s]+(/(?:nb|en)/accounts/invitation/[^/\s]+/)", message.get_content())[1]


def snapshot(supporter):
    """The supporter, their account and invitations as stored, to show that nothing changed."""
    supporter = PeerSupporter.objects.get(pk=supporter.pk)
    account = User.objects.filter(pk=supporter.account_id).values().first()
    return {
        "supporter": PeerSupporter.objects.filter(pk=supporter.pk).values().get(),
        "history": supporter.history.count(),
        "account": account,
        "invitations": list(Invitation.objects.filter(user_id=supporter.account_id).values()),
    }


# The invitation action on the supporter list


@pytest.mark.django_db
@pytest.mark.parametrize("broken_mail", FAILURES, indirect=True)
def test_an_invitation_the_mail_server_cannot_take_creates_no_account_and_sending_again_later_creates_one(
    coordinator, make_supporter, broken_mail, working_mail
):
    nina = make_supporter(name="Nina Ny", email="nina@example.org")
    users_before = User.objects.count()
    before = snapshot(nina)

    page = run_action(coordinator, "send_invitation", [nina])

    assert not_sent_to(page) == (["Nina Ny"], [("warning", "0 invitations sent.")])
    assert snapshot(nina) == before
    assert before["account"] is None
    assert User.objects.count() == users_before
    assert not Invitation.objects.exists()

    server = working_mail()
    page = run_action(coordinator, "send_invitation", [nina])

    assert messages_of(page) == [("success", "1 invitation sent.")]
    account = User.objects.get(email="nina@example.org")
    assert User.objects.count() == users_before + 1
    assert PeerSupporter.objects.get(pk=nina.pk).account == account
    assert Invitation.objects.get().user == account
    [(recipients, message)] = server.received
    assert recipients == ["nina@example.org"]
    assert Client().get(invitation_link(message)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("broken_mail", FAILURES, indirect=True)
def test_an_invitation_the_mail_server_cannot_take_leaves_an_existing_account_as_it_was(
    coordinator, make_supporter, django_user_model, broken_mail, working_mail
):
    account = django_user_model.objects.create_user("olav@example.org", name="Olav", language="en")
    olav = make_supporter(name="Olav Gammel", email="olav@example.org", account=account)
    earlier, _ = Invitation.issue(user=account)
    before = snapshot(olav)

    page = run_action(coordinator, "send_invitation", [olav])

    assert not_sent_to(page) == (["Olav Gammel"], [("warning", "0 invitations sent.")])
    assert snapshot(olav) == before
    assert list(Invitation.objects.all()) == [earlier]

    server = working_mail()
    run_action(coordinator, "send_invitation", [olav])

    assert PeerSupporter.objects.get(pk=olav.pk).account_id == account.pk
    assert User.objects.filter(email__iexact="olav@example.org").count() == 1
    assert Invitation.objects.filter(user=account).exclude(pk=earlier.pk).count() == 1
    assert [recipients for recipients, _ in server.received] == [["olav@example.org"]]


@pytest.mark.django_db
@pytest.mark.parametrize("behaviour", ["busy", "silent"])
def test_a_failing_mail_server_is_tried_once_for_a_whole_selection_and_each_supporter_is_named(
    coordinator, make_supporter, settings, smtp_server, behaviour
):
    server = smtp_server(behaviour)
    use_mail_server(settings, server.port)
    selected = [make_supporter(name=name, email=f"{name.lower()}@example.org") for name in ("Anne", "Bjorn", "Cecilie")]

    started = time.monotonic()
    page = run_action(coordinator, "send_invitation", selected)
    elapsed = time.monotonic() - started

    # One attempt: a server that never answers costs one timeout, not one per supporter.
    assert server.connections == 1
    assert elapsed < 3 * TIMEOUT
    assert not_sent_to(page) == (
        ["Anne"],
        [
            (
                "error",
                "The mail server is not working, so no invitation was sent to the 2 other selected people either: "
                "Bjorn, Cecilie.",
            ),
            ("warning", "0 invitations sent."),
        ],
    )
    assert not Invitation.objects.exists()
    assert not User.objects.filter(email__in=[f"{name.lower()}@example.org" for name in ("anne", "bjorn")]).exists()
    assert not PeerSupporter.objects.filter(pk__in=[s.pk for s in selected], account__isnull=False).exists()


@pytest.mark.django_db
def test_an_address_the_mail_server_refuses_fails_alone_and_the_others_are_sent(
    coordinator, make_supporter, settings, smtp_server
):
    server = smtp_server("works")
    server.unknown = {"anne@example.org"}
    use_mail_server(settings, server.port)
    selected = [make_supporter(name=name, email=f"{name.lower()}@example.org") for name in ("Anne", "Bjorn")]

    page = run_action(coordinator, "send_invitation", selected)

    assert not_sent_to(page) == (["Anne"], [("success", "1 invitation sent.")])
    assert [recipients for recipients, _ in server.received] == [["bjorn@example.org"]]
    assert list(Invitation.objects.values_list("user__email", flat=True)) == ["bjorn@example.org"]
    assert not User.objects.filter(email="anne@example.org").exists()


# The invitation action on the account list, and the command


@pytest.mark.django_db
@pytest.mark.parametrize("broken_mail", ["unreachable", "drops"], indirect=True)
def test_an_account_invitation_the_mail_server_cannot_take_is_not_kept(
    roles, django_user_model, broken_mail, working_mail
):
    staff = django_user_model.objects.create_user("new.coord@example.org", role="coordinator")
    client = roles.clients["administrator"]

    page = run_action(client, "send_invitation", [staff], url=USERS)

    assert not_sent_to(page) == (["new.coord@example.org"], [("warning", "0 invitations sent.")])
    assert not Invitation.objects.exists()

    working_mail()
    page = run_action(client, "send_invitation", [staff], url=USERS)
    assert messages_of(page) == [("success", "1 invitation sent.")]
    assert Invitation.objects.get().user == staff


@pytest.mark.django_db
@pytest.mark.parametrize("broken_mail", ["unreachable"], indirect=True)
def test_the_invitation_command_says_nothing_was_changed_when_the_mail_server_is_unreachable(
    make_supporter, broken_mail
):
    make_supporter(email="ola@example.org")

    with pytest.raises(CommandError, match=r"could not be sent .*; nothing was changed"):
        call_command("invite_supporter", "ola@example.org")

    assert not User.objects.filter(email="ola@example.org").exists()
    assert not Invitation.objects.exists()


# Setting a new password by e-mail


@pytest.mark.django_db
@pytest.mark.parametrize("broken_mail", FAILURES, indirect=True)
def test_a_password_reset_with_the_mail_server_down_looks_like_any_other_and_is_logged_without_the_address(
    client, django_user_model, broken_mail, caplog
):
    account = django_user_model.objects.create_user("kari@example.org", password="a long and unusual passphrase")

    with caplog.at_level(logging.ERROR):
        known = client.post("/en/accounts/password/reset/", {"email": "kari@example.org"})
        unknown = client.post("/en/accounts/password/reset/", {"email": "nobody@example.org"})

    # The same answer as for an address without an account: a different one would tell who has one.
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert known["Location"] == "/en/accounts/password/reset/sent/"
    [record] = [record for record in caplog.records if record.name == "accounts.forms"]
    assert record.getMessage().startswith(f"The password reset e-mail to account {account.pk} was not sent: ")
    assert "kari@example.org" not in caplog.text


# How long the site waits for the mail server


def mailer(**environment):
    """Import the production settings with environment in a fresh interpreter; the default mailer is printed."""
    code = "import json, config.settings as s; print(json.dumps(s.MAILERS['default']))"
    return run_settings_import(code, **PRODUCTION, **environment)


def test_the_site_waits_10_seconds_for_the_mail_server_unless_told_otherwise():
    default = mailer(EMAIL_HOST="mail.example.org")
    assert default.returncode == 0, default.stderr
    assert json.loads(default.stdout)["OPTIONS"]["timeout"] == 10

    shorter = mailer(EMAIL_URL="smtp://mail.example.org:587?tls=true", EMAIL_TIMEOUT="4")
    assert shorter.returncode == 0, shorter.stderr
    assert json.loads(shorter.stdout)["OPTIONS"]["timeout"] == 4

    console = mailer(EMAIL_TIMEOUT="4")
    assert json.loads(console.stdout) == {"BACKEND": "django.core.mail.backends.console.EmailBackend"}


@pytest.mark.parametrize("value", ["ten", "0", "-5", "60", "2.5"])
def test_a_mail_timeout_that_makes_no_sense_stops_the_start(value):
    result = mailer(EMAIL_HOST="mail.example.org", EMAIL_TIMEOUT=value)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "EMAIL_TIMEOUT" in result.stderr
