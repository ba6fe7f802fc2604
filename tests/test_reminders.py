"""The daily reminder e-mails: who gets which, in which language, and never the same one twice."""

import datetime
import io
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.core.management import CommandError, base, call_command, load_command_class
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from directory.models import PeerSupporter, Reminder
from directory.reminders import KINDS, send_one
from tallies.models import ClosedMonth, MonthlyTally

Kind = Reminder.Kind
PAUSED = PeerSupporter.Availability.PAUSED
# A Thursday late in the month: no counts reminders are due.
MID_MONTH = datetime.date(2026, 11, 26)
# The third of a month: last month's (November's) counts are due.
MONTH_START = datetime.date(2026, 12, 3)
NOVEMBER = datetime.date(2026, 11, 1)
SUBJECTS = {
    Kind.CONFIRM: ("Is your listing still up to date?", "Er oppføringen din fortsatt riktig?"),
    Kind.PAUSE_ENDED: ("Your pause has ended", "Pausen din er over"),
    Kind.COUNTS: ("Your conversation counts for", "Antall samtaler i"),
}
REFUSED_ADDRESS = "refused@example.org"


class RefusingBackend(locmem.EmailBackend):
    """The test outbox, behind a mail server that refuses one address."""

    def send_messages(self, messages):
        for message in messages:
            if REFUSED_ADDRESS in message.to:
                raise smtplib.SMTPRecipientsRefused({REFUSED_ADDRESS: (550, b"5.1.1 No such user")})
        return super().send_messages(messages)


@pytest.fixture
def supporter(make_supporter):
    """A listed supporter with an active account, who confirmed on MID_MONTH and is not paused, unless told otherwise.

    account: None for no account, or a dict of User fields (email, language, is_active, password).
    """
    numbers = iter(range(1, 1000))

    def make(*, account=(), last_confirmed=MID_MONTH, **fields):
        user = None
        if account is not None:
            values = {
                "email": f"account{next(numbers)}@example.org",
                "language": "en",
                "password": "a long passphrase",
                **dict(account),
            }
            user = User.objects.create_user(values.pop("email"), **values)
        return make_supporter(account=user, last_confirmed=last_confirmed, **fields)

    return make


def run(today):
    """Run the command as if on today; its stdout and stderr."""
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("send_reminders", "--today", today.isoformat(), stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def sent(kind=None):
    """Addresses the outbox holds mail for, of one kind (by its subject) or of any kind."""
    return sorted(
        address
        for message in mail.outbox
        if kind is None or message.subject.startswith(SUBJECTS[kind])
        for address in message.to
    )


def address(supporter):
    return supporter.account.email


# Confirming the listing


def test_confirmation_reminder_goes_to_listed_supporters_not_confirmed_for_180_days(supporter):
    never = supporter(last_confirmed=None)
    stale = supporter(last_confirmed=MID_MONTH - datetime.timedelta(days=181))
    supporter(last_confirmed=MID_MONTH - datetime.timedelta(days=180))
    supporter(last_confirmed=MID_MONTH - datetime.timedelta(days=3))
    supporter(last_confirmed=None, listed=False)
    supporter(last_confirmed=None, account=None)
    supporter(last_confirmed=None, account={"is_active": False})
    supporter(last_confirmed=None, account={"password": None})  # invited, no password chosen yet

    run(MID_MONTH)

    assert sent() == sorted([address(never), address(stale)])
    assert sent(Kind.CONFIRM) == sent()


def test_confirmation_reminder_goes_to_the_accounts_address_not_the_public_one(supporter):
    someone = supporter(last_confirmed=None, email="public@example.org", account={"email": "private@example.org"})

    run(MID_MONTH)

    assert sent() == ["private@example.org"]
    assert someone.email == "public@example.org"


def test_confirmation_reminder_repeats_every_30_days_while_the_listing_stays_unconfirmed(supporter):
    supporter(last_confirmed=None)
    first = MID_MONTH

    for offset in (0, 1, 2, 15, 29):
        run(first + datetime.timedelta(days=offset))
    assert len(mail.outbox) == 1

    run(first + datetime.timedelta(days=30))
    run(first + datetime.timedelta(days=31))
    assert len(mail.outbox) == 2

    run(first + datetime.timedelta(days=60))
    assert len(mail.outbox) == 3


def test_confirmation_reminder_stops_when_the_listing_is_confirmed_and_comes_back_180_days_later(supporter):
    someone = supporter(last_confirmed=None)
    run(MID_MONTH)
    confirmed = MID_MONTH + datetime.timedelta(days=5)
    PeerSupporter.objects.filter(pk=someone.pk).update(last_confirmed=confirmed)

    for offset in (30, 60, 180):
        run(confirmed + datetime.timedelta(days=offset))
    assert len(mail.outbox) == 1

    run(confirmed + datetime.timedelta(days=181))
    assert len(mail.outbox) == 2


# A pause that has ended


def test_pause_ended_reminder_goes_to_those_whose_pause_ended_in_the_last_week(supporter):
    def paused(last_day, **fields):
        return supporter(availability=PAUSED, availability_until=last_day, **fields)

    yesterday = paused(MID_MONTH - datetime.timedelta(days=1))
    week_ago = paused(MID_MONTH - datetime.timedelta(days=7))
    paused(MID_MONTH - datetime.timedelta(days=8))  # ended long ago
    paused(MID_MONTH)  # today is the last day of the pause
    paused(MID_MONTH + datetime.timedelta(days=10))
    paused(None)  # paused until further notice
    supporter(availability=PeerSupporter.Availability.FEW_PLACES, availability_until=MID_MONTH - datetime.timedelta(1))
    paused(MID_MONTH - datetime.timedelta(days=1), listed=False)
    paused(MID_MONTH - datetime.timedelta(days=1), account=None)
    paused(MID_MONTH - datetime.timedelta(days=1), account={"is_active": False})

    run(MID_MONTH)

    assert sent() == sorted([address(yesterday), address(week_ago)])
    assert sent(Kind.PAUSE_ENDED) == sent()


def test_pause_ended_reminder_is_sent_once_per_pause(supporter):
    someone = supporter(availability=PAUSED, availability_until=MID_MONTH - datetime.timedelta(days=1))
    for offset in range(8):
        run(MID_MONTH + datetime.timedelta(days=offset))
    assert len(sent(Kind.PAUSE_ENDED)) == 1

    # A new pause, ending a month later, is a new occasion.
    next_last_day = MID_MONTH + datetime.timedelta(days=40)
    PeerSupporter.objects.filter(pk=someone.pk).update(availability_until=next_last_day, last_confirmed=next_last_day)
    run(next_last_day)
    assert len(sent(Kind.PAUSE_ENDED)) == 1
    run(next_last_day + datetime.timedelta(days=1))
    run(next_last_day + datetime.timedelta(days=2))
    assert len(sent(Kind.PAUSE_ENDED)) == 2


# Last month's counts


def test_counts_reminder_goes_to_listed_supporters_without_last_months_counts(supporter):
    missing = supporter()
    older_only = supporter()
    MonthlyTally.objects.create(supporter=older_only, month=datetime.date(2026, 10, 1), phone=2)
    entered = supporter()
    MonthlyTally.objects.create(supporter=entered, month=NOVEMBER, in_person=1)
    entered_none = supporter()
    MonthlyTally.objects.create(supporter=entered_none, month=NOVEMBER)
    appointed_last_month = supporter(appointed=datetime.date(2026, 11, 20))
    supporter(appointed=datetime.date(2026, 12, 1))  # was not a supporter in November
    supporter(listed=False)
    supporter(account=None)
    supporter(account={"is_active": False})

    run(MONTH_START)

    assert sent() == sorted([address(missing), address(older_only), address(appointed_last_month)])
    assert sent(Kind.COUNTS) == sent()


@pytest.mark.parametrize(("day", "reminded"), [(1, True), (7, True), (8, False), (20, False)])
def test_counts_reminder_is_sent_only_on_days_1_to_7_so_a_missed_day_still_catches_up(supporter, day, reminded):
    supporter()

    stdout, _ = run(datetime.date(2026, 12, day))

    assert len(sent(Kind.COUNTS)) == (1 if reminded else 0)
    if not reminded:
        assert "0 monthly-counts reminders sent (only on days 1-7 of a month)." in stdout


def test_no_counts_reminder_once_last_month_is_closed(supporter):
    supporter()
    ClosedMonth.objects.create(month=NOVEMBER)

    stdout, _ = run(MONTH_START)

    assert mail.outbox == []
    assert "0 monthly-counts reminders sent (2026-11 is closed)." in stdout


def test_counts_reminder_is_sent_once_per_month(supporter):
    supporter()
    for day in range(1, 8):
        run(datetime.date(2026, 12, day))
    assert len(mail.outbox) == 1

    run(datetime.date(2027, 1, 2))
    assert len(mail.outbox) == 2
    assert "December 2026" in mail.outbox[1].subject


# Language and links


def due_for(kind, supporter, language):
    """A supporter due for kind on MONTH_START (and for nothing else), with an account in language."""
    account = {"language": language}
    if kind == Kind.CONFIRM:
        return supporter(last_confirmed=None, account=account, appointed=MONTH_START)
    if kind == Kind.PAUSE_ENDED:
        return supporter(
            availability=PAUSED, availability_until=datetime.date(2026, 12, 1), account=account, appointed=MONTH_START
        )
    return supporter(account=account)


LINKS = {Kind.CONFIRM: "directory:my_listing", Kind.PAUSE_ENDED: "directory:my_listing", Kind.COUNTS: "tallies:index"}


@pytest.mark.parametrize("kind", list(Kind))
def test_reminder_is_in_the_accounts_language_with_an_absolute_link_to_the_page(supporter, settings, kind):
    settings.SITE_URL = "https://peer.example.org/"
    due_for(kind, supporter, "nb")
    due_for(kind, supporter, "en")

    run(MONTH_START)

    links = {}
    for language in ("nb", "en"):
        with translation.override(language):
            links[language] = "https://peer.example.org" + reverse(LINKS[kind])
    english, norwegian = SUBJECTS[kind]
    by_language = {message.to[0]: message for message in mail.outbox}
    assert len(by_language) == 2
    for message in mail.outbox:
        user = User.objects.get(email=message.to[0])
        subject = english if user.language == "en" else norwegian
        assert message.subject.startswith(subject)
        assert "\n" not in message.subject
        assert links[user.language] in message.body.split()
        assert "example.org//" not in message.body
        if user.language == "en":
            assert "Hello" in message.body
            assert "Hei" not in message.body
        else:
            assert "Hei" in message.body
            assert "Hello" not in message.body


def test_dates_in_reminders_are_written_in_the_accounts_language(supporter):
    supporter(account={"language": "nb"}, last_confirmed=datetime.date(2026, 1, 5))
    supporter(account={"language": "en"}, last_confirmed=datetime.date(2026, 1, 5))

    run(MONTH_START)

    bodies = {message.subject.split()[0]: message.body for message in mail.outbox if "2026" not in message.subject}
    assert "5. januar 2026" in bodies["Er"]
    assert "5 January 2026" in bodies["Is"]
    subjects = sorted(message.subject for message in mail.outbox if "2026" in message.subject)
    assert subjects == ["Antall samtaler i november 2026", "Your conversation counts for November 2026"]


def test_names_are_written_as_they_are_not_escaped_for_html(supporter):
    supporter(name="Åse O'Brien & Co", last_confirmed=None)

    run(MID_MONTH)

    assert "Hello Åse O'Brien & Co," in mail.outbox[0].body


# Never twice


def all_kinds_due(supporter):
    return [
        supporter(last_confirmed=None),
        supporter(availability=PAUSED, availability_until=MONTH_START - datetime.timedelta(days=1)),
        supporter(account={"language": "nb"}),
    ]


def test_running_twice_the_same_day_sends_nothing_twice(supporter):
    all_kinds_due(supporter)

    first, _ = run(MONTH_START)
    count = len(mail.outbox)
    second, _ = run(MONTH_START)
    third, _ = run(MONTH_START)

    # The confirmation and the paused supporter also lack November's counts.
    assert count == 1 + 1 + 3
    assert len(mail.outbox) == count
    assert first.splitlines() == [
        "1 confirmation reminder sent.",
        "1 pause-ended reminder sent.",
        "3 monthly-counts reminders sent.",
    ]
    assert (
        second
        == third
        == "0 confirmation reminders sent.\n0 pause-ended reminders sent.\n0 monthly-counts reminders sent.\n"
    )


def test_what_was_sent_is_remembered_in_the_database_so_a_new_process_sends_nothing_twice(supporter):
    confirm, pause, counts = all_kinds_due(supporter)
    run(MONTH_START)

    assert set(Reminder.objects.values_list("supporter", "kind", "key")) == {
        (confirm.pk, Kind.CONFIRM, MONTH_START),
        (pause.pk, Kind.PAUSE_ENDED, MONTH_START - datetime.timedelta(days=1)),
        (confirm.pk, Kind.COUNTS, NOVEMBER),
        (pause.pk, Kind.COUNTS, NOVEMBER),
        (counts.pk, Kind.COUNTS, NOVEMBER),
    }
    # The database is the only memory: without the records, everything would go out again.
    mail.outbox.clear()
    run(MONTH_START + datetime.timedelta(days=1))
    assert mail.outbox == []
    Reminder.objects.all().delete()
    run(MONTH_START + datetime.timedelta(days=1))
    assert len(mail.outbox) == 5


def test_a_reminder_another_run_has_just_sent_is_not_sent_again(supporter):
    someone = supporter(last_confirmed=None)
    confirm = next(kind for kind in KINDS if kind.kind == Kind.CONFIRM)
    Reminder.objects.create(supporter=someone, kind=Kind.CONFIRM, key=MID_MONTH)

    assert send_one(confirm, someone, MID_MONTH) is False
    assert mail.outbox == []
    assert Reminder.objects.count() == 1


def test_records_are_deleted_after_400_days(supporter):
    someone = supporter()
    old = Reminder.objects.create(supporter=someone, kind=Kind.COUNTS, key=datetime.date(2025, 10, 1))
    kept = Reminder.objects.create(supporter=someone, kind=Kind.COUNTS, key=datetime.date(2025, 11, 1))

    run(datetime.date(2026, 11, 10))

    assert list(Reminder.objects.all()) == [kept]
    assert not Reminder.objects.filter(pk=old.pk).exists()


# When the mail server fails


def test_a_refused_reminder_is_not_recorded_others_still_go_out_and_the_command_fails(supporter, settings):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.RefusingBackend"}}
    before = supporter(last_confirmed=None)
    refused = supporter(last_confirmed=None, account={"email": REFUSED_ADDRESS})
    after = supporter(last_confirmed=None)

    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="1 reminder could not be sent"):
        call_command("send_reminders", "--today", MID_MONTH.isoformat(), stdout=stdout, stderr=stderr)

    assert sent() == sorted([address(before), address(after)])
    assert set(Reminder.objects.values_list("supporter", flat=True)) == {before.pk, after.pk}
    assert stdout.getvalue().splitlines()[0] == (
        "2 confirmation reminders sent, 1 could not be sent and will be tried again on the next run."
    )
    assert stderr.getvalue() == (
        f"Could not send the confirmation reminder to supporter #{refused.pk}: SMTPRecipientsRefused.\n"
    )

    # Once the address works again, the next run sends the refused one, and only that one.
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    mail.outbox.clear()
    run(MID_MONTH + datetime.timedelta(days=1))
    assert sent() == [REFUSED_ADDRESS]


def test_the_command_exits_with_status_1_when_a_reminder_could_not_be_sent(supporter, settings, capsys, monkeypatch):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.RefusingBackend"}}
    supporter(last_confirmed=None, account={"email": REFUSED_ADDRESS})
    # As run from the shell, but keeping the test's database connection open.
    monkeypatch.setattr(base.connections, "close_all", lambda: None)
    command = load_command_class("directory", "send_reminders")

    with pytest.raises(SystemExit) as exit_:
        command.run_from_argv(["manage.py", "send_reminders", "--today", MID_MONTH.isoformat()])

    assert exit_.value.code == 1
    assert REFUSED_ADDRESS not in capsys.readouterr().err


def test_the_command_exits_with_status_0_when_everything_was_sent(supporter):
    supporter(last_confirmed=None)

    call_command("send_reminders", "--today", MID_MONTH.isoformat(), stdout=io.StringIO())

    assert len(mail.outbox) == 1


# What it prints and how it queries


def test_output_names_no_one(supporter):
    people = [*all_kinds_due(supporter), supporter(last_confirmed=None, account={"language": "nb"})]

    stdout, stderr = run(MONTH_START)

    assert len(mail.outbox) == 7
    assert stderr == ""
    for person in people:
        for detail in (person.name, person.email, person.account.email):
            assert detail not in stdout
    assert "@" not in stdout


def test_queries_do_not_grow_with_the_number_of_supporters(supporter):
    def selects(today):
        with CaptureQueriesContext(connection) as queries:
            run(today)
        return [query["sql"] for query in queries.captured_queries if query["sql"].lstrip().startswith("SELECT")]

    all_kinds_due(supporter)
    few = selects(MONTH_START)
    Reminder.objects.all().delete()
    for _ in range(5):
        all_kinds_due(supporter)
    many = selects(MONTH_START)

    assert len(mail.outbox) == 5 + 5 * 6
    assert len(many) == len(few)


def test_today_must_be_a_date():
    with pytest.raises(CommandError, match="--today must be a date"):
        call_command("send_reminders", "--today", "26.11.2026")
