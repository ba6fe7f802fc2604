import datetime

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from accounts.access import supporters_in_scope, tallies_in_scope
from accounts.admin_actions import AllOrNothingActionsMixin
from accounts.admin_scope import ScopedHistoryAdmin, ScopedModelAdmin
from tallies.models import ClosedMonth, MonthlyTally


def month_label(month):
    return date_format(month, pgettext("date format", "F Y"))


class MonthForm(forms.ModelForm):
    """Months are stored as their first day; say so plainly rather than quoting the database constraint."""

    def clean_month(self):
        month = self.cleaned_data["month"]
        if month.day != 1:
            raise ValidationError(
                _("Give the first day of the month, such as %(day)s.") % {"day": month.replace(day=1).isoformat()}
            )
        return month


@admin.register(ClosedMonth)
class ClosedMonthAdmin(AllOrNothingActionsMixin, ScopedHistoryAdmin):
    """Administrators close a month by adding it here; from then on supporters can no longer change its counts."""

    form = MonthForm
    list_display = ["__str__", "closed_at", "closed_by"]
    readonly_fields = ["closed_at", "closed_by"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.closed_by = request.user
        super().save_model(request, obj, form, change)


class MonthFilter(admin.SimpleListFilter):
    title = gettext_lazy("month")
    parameter_name = "month"

    def lookups(self, request, model_admin):
        months = tallies_in_scope(request.user).order_by("-month").values_list("month", flat=True).distinct()
        return [(month.isoformat(), month_label(month)) for month in months]

    def queryset(self, request, queryset):
        try:
            month = datetime.date.fromisoformat(self.value() or "")
        except ValueError:
            return queryset
        return queryset.filter(month=month)


@admin.register(MonthlyTally)
class MonthlyTallyAdmin(AllOrNothingActionsMixin, ScopedModelAdmin):
    """Supporters enter their own counts; coordinators look up their counties', administrators may correct one."""

    scope = staticmethod(tallies_in_scope)

    form = MonthForm
    list_display = ["supporter", "month_display", "in_person", "phone", "video", "total", "updated_at"]
    list_filter = [MonthFilter]
    list_select_related = ["supporter"]
    search_fields = ["supporter__name"]
    autocomplete_fields = ["supporter"]
    readonly_fields = ["updated_at"]
    ordering = ["-month", "supporter__name"]

    @admin.display(description=gettext_lazy("month"), ordering="month")
    def month_display(self, tally):
        return month_label(tally.month)

    @admin.display(description=gettext_lazy("total"))
    def total(self, tally):
        return tally.total

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "supporter":
            kwargs["queryset"] = supporters_in_scope(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        # Which supporter and month a row is about is fixed once entered; only the counts can be corrected.
        return [*self.readonly_fields, "supporter", "month"] if obj else self.readonly_fields
