"""Reminder e-mails to supporters, sent by the daily `manage.py send_reminders`.

Three kinds, each to listed supporters with an active account, in the account's language:

- confirm: the listing has not been confirmed for CONFIRM_AFTER_DAYS days (or never). Sent the day it becomes
  due, then again every CONFIRM_REPEAT_DAYS days for as long as it stays unconfirmed.
- pause_ended: a pause ended (its last day was yesterday, or up to PAUSE_ENDED_WITHIN_DAYS days ago), so the
  supporter is shown as open again. Once per pause, keyed on its last day.
- counts: in the first COUNTS_WITHIN_DAYS days of a month, last month has no counts and is not closed. Once
  per month.

Each reminder sent is recorded (supporter, kind, key) in Reminder, whose unique constraint makes a second run,
even one running at the same time, send nothing twice. The record is written in the same transaction as the
e-mail is sent: if the mail server fails, nothing is recorded and the next run tries again.
"""

import datetime
from dataclasses import dataclass, field

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from accounts.emails import email_user
from directory.models import PeerSupporter, Reminder
from tallies.models import ClosedMonth, MonthlyTally, month_start

CONFIRM_AFTER_DAYS = 180
CONFIRM_REPEAT_DAYS = 30
PAUSE_ENDED_WITHIN_DAYS = 7
COUNTS_WITHIN_DAYS = 7
# Records are only needed for a month or two; after this they are deleted.
KEEP_RECORDS_DAYS = 400


def previous_month(today):
    return month_start(month_start(today) - datetime.timedelta(days=1))


def recipients():
    """Listed supporters whose account is active, with the account (address, language) in the same query."""
    # An account whose invitation has not been taken up yet has no password: it cannot act on a reminder.
    return (
        PeerSupporter.objects.filter(listed=True, account__is_active=True)
        .exclude(account__password__startswith=UNUSABLE_PASSWORD_PREFIX)
        .select_related("account")
        .order_by("pk")
    )


def reminded(kind, **key_lookup):
    return Exists(Reminder.objects.filter(supporter=OuterRef("pk"), kind=kind, **key_lookup))


def confirmation_due(today):
    cutoff = today - datetime.timedelta(days=CONFIRM_AFTER_DAYS)
    recently = today - datetime.timedelta(days=CONFIRM_REPEAT_DAYS)
    return (
        recipients()
        .filter(Q(last_confirmed__isnull=True) | Q(last_confirmed__lt=cutoff))
        .exclude(reminded(Reminder.Kind.CONFIRM, key__gt=recently))
    )


def pause_ended_due(today):
    return (
        recipients()
        .filter(
            availability=PeerSupporter.Availability.PAUSED,
            availability_until__lt=today,
            availability_until__gte=today - datetime.timedelta(days=PAUSE_ENDED_WITHIN_DAYS),
        )
        .exclude(reminded(Reminder.Kind.PAUSE_ENDED, key=OuterRef("availability_until")))
    )


def counts_not_due_because(today):
    """Why no one is reminded of last month's counts today, or None if they may be."""
    month = previous_month(today)
    if today.day > COUNTS_WITHIN_DAYS:
        return f"only on days 1-{COUNTS_WITHIN_DAYS} of a month"
    if ClosedMonth.objects.filter(month=month).exists():
        return f"{month:%Y-%m} is closed"
    return None


def counts_due(today):
    """Supporters without counts for last month, in the first days of a month while last month is open."""
    month = previous_month(today)
    if counts_not_due_because(today):
        return PeerSupporter.objects.none()
    return (
        recipients()
        .exclude(Exists(MonthlyTally.objects.filter(supporter=OuterRef("pk"), month=month)))
        # Someone appointed this month was not a supporter last month.
        .exclude(appointed__gte=month_start(today))
        .exclude(reminded(Reminder.Kind.COUNTS, key=month))
    )


@dataclass
class Kind:
    """How one kind of reminder is chosen and written."""

    kind: Reminder.Kind
    due: object  # today -> queryset of supporters
    key: object  # (supporter, today) -> date
    context: object  # (supporter, today) -> dict for the template
    url_name: str

    @property
    def template(self):
        return f"reminder_{self.kind}"


KINDS = [
    Kind(
        Reminder.Kind.CONFIRM,
        due=confirmation_due,
        key=lambda supporter, today: today,
        context=lambda supporter, today: {"last_confirmed": supporter.last_confirmed},
        url_name="directory:my_listing",
    ),
    Kind(
        Reminder.Kind.PAUSE_ENDED,
        due=pause_ended_due,
        key=lambda supporter, today: supporter.availability_until,
        context=lambda supporter, today: {"last_day": supporter.availability_until},
        url_name="directory:my_listing",
    ),
    Kind(
        Reminder.Kind.COUNTS,
        due=counts_due,
        key=lambda supporter, today: previous_month(today),
        context=lambda supporter, today: {"month": previous_month(today)},
        url_name="tallies:index",
    ),
]


@dataclass
class Outcome:
    kind: Reminder.Kind
    sent: int = 0
    # Supporter ids and the kind of error (never the error's text, which may quote an address).
    failed: list = field(default_factory=list)


def send_one(kind, supporter, today):
    """Record and send one reminder; True if sent, False if another run already sent it. Raises if mail fails."""
    try:
        with transaction.atomic():
            # Recorded first, so that a run going on at the same time waits here and then finds it taken;
            # the e-mail failing rolls the record back.
            Reminder.objects.create(supporter=supporter, kind=kind.kind, key=kind.key(supporter, today))
            email_user(
                supporter.account,
                template=kind.template,
                context={"supporter": supporter, "url_name": kind.url_name, **kind.context(supporter, today)},
            )
    except IntegrityError:
        return False
    return True


def send_reminders(today):
    """Send every reminder due today that has not been sent; one Outcome per kind."""
    Reminder.objects.filter(key__lt=today - datetime.timedelta(days=KEEP_RECORDS_DAYS)).delete()
    # Before anything is sent, so that a missing page stops the run at once rather than halfway.
    # (Each e-mail links to the page in its reader's language: the template builds the address.)
    for kind in KINDS:
        reverse(kind.url_name)
    outcomes = []
    for kind in KINDS:
        outcome = Outcome(kind.kind)
        for supporter in kind.due(today):
            try:
                if send_one(kind, supporter, today):
                    outcome.sent += 1
            except Exception as error:  # The mail server's errors come in many classes; report them all.
                outcome.failed.append((supporter.pk, type(error).__name__))
        outcomes.append(outcome)
    return outcomes
