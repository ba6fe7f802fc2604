import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from directory.models import Reminder
from directory.reminders import (
    CONFIRM_AFTER_DAYS,
    CONFIRM_REPEAT_DAYS,
    COUNTS_WITHIN_DAYS,
    PAUSE_ENDED_WITHIN_DAYS,
    counts_not_due_because,
    send_reminders,
)

NAMES = {
    Reminder.Kind.CONFIRM: ("confirmation reminder", "confirmation reminders"),
    Reminder.Kind.PAUSE_ENDED: ("pause-ended reminder", "pause-ended reminders"),
    Reminder.Kind.COUNTS: ("monthly-counts reminder", "monthly-counts reminders"),
}


def day(text):
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--today must be a date such as 2026-11-26; got {text!r}.") from None


class Command(BaseCommand):
    help = f"""Send the day's reminder e-mails to peer supporters; meant to run once a day from cron.

Only listed supporters with an active account get them, at their account's address and in its language:
(1) confirm your listing: when it has not been confirmed for {CONFIRM_AFTER_DAYS} days (or never), then again every
{CONFIRM_REPEAT_DAYS} days while it stays unconfirmed; (2) your pause has ended: once per pause, within
{PAUSE_ENDED_WITHIN_DAYS} days after its last day; (3) enter last month's counts: on days 1-{COUNTS_WITHIN_DAYS} of
a month, if last month has no counts and is not closed, once per month.
Each reminder sent is recorded, so running it again (the same day, or at the same time) sends nothing twice;
a reminder the mail server refused is not recorded and goes out on the next run. Prints one line per kind,
without names or addresses; exits with status 1 if any e-mail could not be sent."""

    def add_arguments(self, parser):
        parser.add_argument(
            "--today",
            type=day,
            help="Act as if today were this date (YYYY-MM-DD), to test or to catch up on a missed day.",
        )

    def handle(self, *args, today=None, **options):
        today = today or timezone.localdate()
        failures = 0
        for outcome in send_reminders(today):
            singular, plural = NAMES[outcome.kind]
            line = f"{outcome.sent} {singular if outcome.sent == 1 else plural} sent"
            if outcome.failed:
                line += f", {len(outcome.failed)} could not be sent and will be tried again on the next run"
            reason = counts_not_due_because(today) if outcome.kind == Reminder.Kind.COUNTS else None
            self.stdout.write(f"{line} ({reason})." if reason else f"{line}.")
            for supporter_id, error in outcome.failed:
                self.stderr.write(f"Could not send the {singular} to supporter #{supporter_id}: {error}.")
            failures += len(outcome.failed)
        if failures:
            raise CommandError(f"{failures} reminder{'' if failures == 1 else 's'} could not be sent.")
