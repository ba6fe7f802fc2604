"""The staff dashboard: overview, coverage, statistics, the compensation export and closing a month.

Administrators and county coordinators only, and every number limited to the counties in their scope
(accounts.access). Closing a month is for administrators only.
"""

import csv
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from accounts.access import is_roster_staff, may_edit_reference_data
from directory.import_formats import csv_safe
from directory.models import SpecialtyGroup
from staff import stats
from staff.chart import bar_chart
from staff.forms import CloseMonthForm, ExportForm, closable_months
from tallies.models import ClosedMonth

# Column names are data, not prose: kept the same in every language so that spreadsheets and scripts can rely on them.
EXPORT_HEADER = ["county", "supporter name", "supporter id", "month", "in person", "phone", "video", "total"]


def staff_required(view):
    """Administrators and coordinators; anyone else logged in is refused, visitors are sent to log in."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_roster_staff(request.user):
            raise PermissionDenied("The staff pages are for administrators and county coordinators.")
        return view(request, *args, **kwargs)

    return wrapper


def staff_page(request, template, context, status=200):
    """Render a staff page; the nav offers "Close a month" only to those who may."""
    context = {"may_close": may_edit_reference_data(request.user), **context}
    return render(request, template, context, status=status)


@staff_required
@require_safe
def dashboard(request):
    today = timezone.localdate()
    rows = stats.overview(request.user, today)
    context = {"rows": rows, "today": today, "current": "dashboard"}
    return staff_page(request, "staff/dashboard.html", context)


@staff_required
@require_safe
def coverage(request):
    rows = stats.coverage(request.user)
    context = {
        "rows": rows,
        "has_gaps": any(row.gaps for row in rows),
        "groups": list(SpecialtyGroup),
        "modes": stats.MODES,
        "current": "coverage",
    }
    return staff_page(request, "staff/coverage.html", context)


@staff_required
@require_safe
def statistics(request):
    today = timezone.localdate()
    numbers = stats.monthly(request.user, today)
    for section in numbers["counties"]:
        section["chart"] = bar_chart(section["months"])
    context = {
        **numbers,
        "chart": bar_chart(numbers["months"]),
        "modes": stats.MODES,
        "export_form": ExportForm(initial={"year": today.year}),
        "current": "statistics",
    }
    return staff_page(request, "staff/statistics.html", context)


@staff_required
@require_safe
def export(request):
    form = ExportForm(request.GET)
    if not form.is_valid():
        return staff_page(request, "staff/export_invalid.html", {"form": form, "current": "statistics"}, status=400)
    data = form.cleaned_data
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{form.filename}"'
    # The byte order mark tells Excel the file is UTF-8, so that æ, ø and å come out right.
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(EXPORT_HEADER)
    for row in stats.export_rows(request.user, data["start"], data["end"]):
        writer.writerow([csv_safe(value) for value in row])
    return response


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def close_month(request):
    if not may_edit_reference_data(request.user):
        raise PermissionDenied("Only national administrators close months.")
    today = timezone.localdate()
    form = CloseMonthForm(request.POST if request.method == "POST" else None, today=today)
    if form.is_bound and form.is_valid():
        month = form.cleaned_data["month"]
        with transaction.atomic():
            _closed, created = ClosedMonth.objects.get_or_create(month=month, defaults={"closed_by": request.user})
        name = date_format(month, "YEAR_MONTH_FORMAT").capitalize()
        if created:
            messages.success(
                request, _("%(month)s is closed: supporters can no longer change its counts.") % {"month": name}
            )
        else:
            messages.info(request, _("%(month)s was already closed; nothing has changed.") % {"month": name})
        return redirect("staff:close_month")
    closed = set(ClosedMonth.objects.filter(month__in=closable_months(today)).values_list("month", flat=True))
    context = {
        "form": form,
        "months": [(month, month in closed) for month in closable_months(today)],
        "current": "close_month",
    }
    return staff_page(request, "staff/close_month.html", context, status=400 if form.is_bound else 200)
