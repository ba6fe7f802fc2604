import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from directory.models import PeerSupporter

# No supporter holds more conversations than this in a month in one mode; anything above is a typing error.
MAX_PER_MODE = 200
# How many months back a supporter may enter or correct counts.
OPEN_MONTHS = 12


def month_start(day):
    return day.replace(day=1)


def recent_months(today, count=OPEN_MONTHS):
    """The first day of this month and of the count - 1 months before it, newest first."""
    months, month = [], month_start(today)
    for _step in range(count):
        months.append(month)
        month = month_start(month - datetime.timedelta(days=1))
    return months


class ClosedMonth(models.Model):
    """A month staff have closed for compensation and statistics: its counts can no longer be changed."""

    month = models.DateField(_("month"), unique=True, help_text=_("The first day of the month."))
    closed_at = models.DateTimeField(_("closed at"), auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("closed month")
        verbose_name_plural = _("closed months")
        ordering = ["-month"]
        constraints = [
            models.CheckConstraint(condition=Q(month__day=1), name="closed_month_first_day"),
        ]

    def __str__(self):
        return self.month.strftime("%Y-%m")


class MonthlyTally(models.Model):
    """How many conversations a supporter held in a month, by meeting mode. Counts only: nothing about who."""

    supporter = models.ForeignKey(
        PeerSupporter, on_delete=models.CASCADE, related_name="tallies", verbose_name=_("peer supporter")
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    in_person = models.PositiveSmallIntegerField(_("in person"), default=0)
    phone = models.PositiveSmallIntegerField(_("by phone"), default=0)
    video = models.PositiveSmallIntegerField(_("by video"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["supporter", "-month"]
        verbose_name = _("monthly count")
        verbose_name_plural = _("monthly counts")
        constraints = [
            models.UniqueConstraint(fields=["supporter", "month"], name="tally_one_per_supporter_and_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="tally_month_first_day"),
            models.CheckConstraint(
                condition=Q(in_person__gte=0, in_person__lte=MAX_PER_MODE)
                & Q(phone__gte=0, phone__lte=MAX_PER_MODE)
                & Q(video__gte=0, video__lte=MAX_PER_MODE),
                name="tally_counts_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.supporter} {self.month:%Y-%m}"

    @property
    def total(self):
        return self.in_person + self.phone + self.video
