from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.access import attendances_in_scope, supporters_in_scope
from accounts.admin_actions import AllOrNothingActionsMixin
from accounts.admin_scope import ScopedHistoryAdmin, ScopedInlineMixin, roster_staff
from training.models import Attendance, TrainingMeeting


class AttendanceInline(ScopedInlineMixin, admin.TabularInline):
    """On a meeting's page: the attendance of the supporters in the user's scope."""

    model = Attendance
    scope = staticmethod(attendances_in_scope)
    may_add = may_change = may_delete = staticmethod(roster_staff)
    autocomplete_fields = ["supporter"]
    extra = 0

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "supporter":
            kwargs["queryset"] = supporters_in_scope(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(TrainingMeeting)
class TrainingMeetingAdmin(AllOrNothingActionsMixin, ScopedHistoryAdmin):
    """National meetings: administrators arrange them; coordinators see them and record their supporters' attendance."""

    list_display = ["date", "place"]
    search_fields = ["place"]
    date_hierarchy = "date"
    inlines = [AttendanceInline]


@admin.register(Attendance)
class AttendanceAdmin(AllOrNothingActionsMixin, ScopedHistoryAdmin):
    scope = staticmethod(attendances_in_scope)
    may_add = may_change = may_delete = staticmethod(roster_staff)

    list_display = ["supporter", "meeting", "county"]
    list_filter = ["meeting"]
    list_select_related = ["supporter__municipality__county", "meeting"]
    search_fields = ["supporter__name", "meeting__place"]
    autocomplete_fields = ["supporter", "meeting"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "supporter":
            kwargs["queryset"] = supporters_in_scope(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("county"), ordering="supporter__municipality__county__number")
    def county(self, attendance):
        return attendance.supporter.county
