"""A supporter's own monthly counts. The addresses name a month, never a supporter: only one's own are reachable."""

import datetime
from dataclasses import dataclass

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods, require_safe

from accounts.access import supporter_required
from tallies.forms import MODES, TallyForm
from tallies.models import OPEN_MONTHS, ClosedMonth, MonthlyTally, recent_months


@dataclass
class MonthRow:
    month: datetime.date
    tally: MonthlyTally | None
    changeable: bool

    @property
    def counts(self):
        return [getattr(self.tally, mode.value) for mode in MODES] if self.tally else None


def month_name(month):
    return date_format(month, pgettext("date format", "F Y"))


@supporter_required
@require_safe
def index(request, supporter):
    months = recent_months(timezone.localdate())
    tallies = {tally.month: tally for tally in supporter.tallies.filter(month__in=months)}
    closed = set(ClosedMonth.objects.filter(month__in=months).values_list("month", flat=True))
    rows = [MonthRow(month, tallies.get(month), changeable=month not in closed) for month in months]
    totals = [sum(getattr(tally, mode.value) for tally in tallies.values()) for mode in MODES]
    # Older months are history: shown, no longer changeable.
    earlier = [
        MonthRow(tally.month, tally, changeable=False) for tally in supporter.tallies.filter(month__lt=months[-1])
    ]
    context = {"rows": rows, "totals": totals, "total": sum(totals), "earlier": earlier, "modes": MODES}
    return render(request, "tallies/index.html", context)


def refuse(request, month, reason, status):
    return render(request, "tallies/refused.html", {"month": month, "reason": reason}, status=status)


@supporter_required
@require_http_methods(["GET", "HEAD", "POST"])
def edit(request, supporter, year, month):
    try:
        month = datetime.date(year, month, 1)
    except (ValueError, OverflowError):
        raise Http404(_("There is no such month.")) from None
    months = recent_months(timezone.localdate())
    if month not in months:
        reason = _(
            "Counts can be entered and corrected for %(count)d months: from %(first)s to %(last)s. "
            "%(month)s is not one of them."
        ) % {
            "count": OPEN_MONTHS,
            "first": month_name(months[-1]),
            "last": month_name(months[0]),
            "month": capfirst(month_name(month)),
        }
        return refuse(request, month, reason, status=404)
    if ClosedMonth.objects.filter(month=month).exists():
        reason = _(
            "%(month)s is closed: its counts have gone to compensation and the statistics, "
            "so they can no longer be changed here. If a count is wrong, tell the coordinator in your county."
        ) % {"month": capfirst(month_name(month))}
        return refuse(request, month, reason, status=403)

    tally = supporter.tallies.filter(month=month).first()
    initial = {mode.value: getattr(tally, mode.value) if tally else 0 for mode in MODES}
    form = TallyForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_bound and form.is_valid():
        with transaction.atomic():
            supporter.tallies.update_or_create(month=month, defaults=form.cleaned_data)
        messages.success(request, _("Your counts for %(month)s are saved.") % {"month": month_name(month)})
        return redirect("tallies:index")
    return render(request, "tallies/edit.html", {"form": form, "month": month, "tally": tally})
