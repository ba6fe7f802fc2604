import datetime

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tallies.models import month_start, recent_months

MONTH_FORMAT = "%Y-%m"
# An export spans at most this many months, so that one request cannot ask for everything since year 1.
MAX_EXPORT_MONTHS = 36


def parse_month(value):
    try:
        return datetime.datetime.strptime(value, MONTH_FORMAT).date()
    except ValueError:
        raise forms.ValidationError(_("Give a month as YYYY-MM, such as 2026-03."), code="invalid") from None


class MonthField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        return parse_month(value) if value else None


class ExportForm(forms.Form):
    """Which months to export: a whole year, or a range from one month to another."""

    year = forms.IntegerField(
        label=gettext_lazy("Year"),
        required=False,
        min_value=2000,
        max_value=2100,
        error_messages={"invalid": gettext_lazy("Give the year as four digits, such as 2026.")},
    )
    start = MonthField(label=gettext_lazy("From month"), required=False, help_text=gettext_lazy("YYYY-MM"))
    end = MonthField(label=gettext_lazy("To month"), required=False, help_text=gettext_lazy("YYYY-MM"))

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        year, start, end = data.get("year"), data.get("start"), data.get("end")
        if year and (start or end):
            raise forms.ValidationError(_("Give either a year or a range of months, not both."), code="both")
        if year:
            data["start"], data["end"] = datetime.date(year, 1, 1), datetime.date(year, 12, 1)
        elif start and end:
            if start > end:
                raise forms.ValidationError(_("The first month must come before the last month."), code="order")
            if (end.year - start.year) * 12 + end.month - start.month >= MAX_EXPORT_MONTHS:
                raise forms.ValidationError(
                    _("A range can span at most %(months)d months.") % {"months": MAX_EXPORT_MONTHS}, code="too_long"
                )
        else:
            raise forms.ValidationError(_("Give a year, or both a first and a last month."), code="required")
        return data

    @property
    def filename(self):
        data = self.cleaned_data
        if data.get("year"):
            return f"conversations-{data['year']}.csv"
        return f"conversations-{data['start']:{MONTH_FORMAT}}-to-{data['end']:{MONTH_FORMAT}}.csv"


def closable_months(today):
    """The last 12 finished months, newest first: the current month is still being counted."""
    return recent_months(month_start(today) - datetime.timedelta(days=1))


class CloseMonthForm(forms.Form):
    month = forms.TypedChoiceField(
        label=gettext_lazy("Month"),
        help_text=gettext_lazy("One of the last 12 finished months: the current month is still being counted."),
        coerce=parse_month,
        empty_value=None,
    )

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["month"].choices = [
            (f"{month:{MONTH_FORMAT}}", date_format(month, "YEAR_MONTH_FORMAT").capitalize())
            for month in closable_months(today)
        ]
