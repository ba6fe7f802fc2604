import datetime

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.formats import date_format

from tallies.models import ClosedMonth, MonthlyTally


def month_label(month):
    return date_format(month, "F Y")


class MonthForm(forms.ModelForm):
    """Months are stored as their first day; say so plainly rather than quoting the database constraint."""

    def clean_month(self):
        month = self.cleaned_data["month"]
        if month.day != 1:
            raise ValidationError(f"Give the first day of the month, such as {month.replace(day=1).isoformat()}.")
        return month


@admin.register(ClosedMonth)
class ClosedMonthAdmin(admin.ModelAdmin):
    """Staff close a month by adding it here; from then on supporters can no longer change its counts."""

    form = MonthForm
    list_display = ["__str__", "closed_at"]
    readonly_fields = ["closed_at"]


class MonthFilter(admin.SimpleListFilter):
    title = "month"
    parameter_name = "month"

    def lookups(self, request, model_admin):
        months = MonthlyTally.objects.order_by("-month").values_list("month", flat=True).distinct()
        return [(month.isoformat(), month_label(month)) for month in months]

    def queryset(self, request, queryset):
        try:
            month = datetime.date.fromisoformat(self.value() or "")
        except ValueError:
            return queryset
        return queryset.filter(month=month)


@admin.register(MonthlyTally)
class MonthlyTallyAdmin(admin.ModelAdmin):
    """Supporters enter their own counts; staff look them up, and may correct one when asked."""

    form = MonthForm
    list_display = ["supporter", "month_display", "in_person", "phone", "video", "total", "updated_at"]
    list_filter = [MonthFilter]
    list_select_related = ["supporter"]
    search_fields = ["supporter__name"]
    autocomplete_fields = ["supporter"]
    readonly_fields = ["updated_at"]
    ordering = ["-month", "supporter__name"]

    @admin.display(description="month", ordering="month")
    def month_display(self, tally):
        return month_label(tally.month)

    @admin.display(description="total")
    def total(self, tally):
        return tally.total

    def get_readonly_fields(self, request, obj=None):
        # Which supporter and month a row is about is fixed once entered; only the counts can be corrected.
        return [*self.readonly_fields, "supporter", "month"] if obj else self.readonly_fields
