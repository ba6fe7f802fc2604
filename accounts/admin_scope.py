"""The admin's side of the staff scope: every ModelAdmin asks accounts.access, through this mixin, who may do what.

Django's own model permissions play no part: coordinators have none. A model admin names the scope helper that
gives the rows a user may see, and who may view, add, change and delete them; the mixin applies that to the
querysets and to every permission the admin checks (index, changelist, forms, actions, history).
"""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404
from simple_history.admin import SimpleHistoryAdmin

from accounts.access import is_roster_staff, may_edit_reference_data

# National administrators are the people who may edit reference data; they also manage accounts.
administrators = may_edit_reference_data
roster_staff = is_roster_staff


class ScopedAdminMixin:
    """Rows and permissions from the scope helpers.

    scope: a function of the user giving the rows they may see, or None for national data that every viewer sees.
    may_view, may_add, may_change, may_delete: functions of the user; the last three only ever apply to rows in
    scope, since an object outside it is never found (get_queryset) and never allowed (the object checks below).
    """

    scope = None
    may_view = staticmethod(roster_staff)
    may_add = staticmethod(administrators)
    may_change = staticmethod(administrators)
    may_delete = staticmethod(administrators)

    def scoped_rows(self, request):
        if not (self.may_view(request.user) or self.may_change(request.user)):
            return self.model._default_manager.none()
        if self.scope is None:
            return self.model._default_manager.all()
        return self.scope(request.user)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=self.scoped_rows(request).values("pk"))

    def in_scope(self, request, obj):
        return obj is None or (obj.pk is not None and self.scoped_rows(request).filter(pk=obj.pk).exists())

    def has_module_permission(self, request):
        return self.may_view(request.user) or self.may_change(request.user)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and self.in_scope(request, obj)

    def has_add_permission(self, request, obj=None):
        return self.may_add(request.user)

    def has_change_permission(self, request, obj=None):
        return self.may_change(request.user) and self.in_scope(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.may_delete(request.user) and self.in_scope(request, obj)


class ScopedInlineMixin(ScopedAdminMixin):
    """For inlines: the object Django passes is the parent, already checked by its own admin; rows stay scoped."""

    def in_scope(self, request, obj):
        return True


class ScopedModelAdmin(ScopedAdminMixin, admin.ModelAdmin):
    pass


class ScopedHistoryAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    """A scoped admin whose records show who changed what, when, before and after.

    The history is for reading: reverting is switched off, since simple_history's revert form would save for
    anyone allowed to read the history. To undo a change, edit the record.
    """

    def revert_disabled(self, request, obj=None):
        return True

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        # As simple_history does, less its select_related() without names for a model without foreign keys, which
        # Django 6.1 deprecates (and the test run turns into an error).
        rows = history_manager.filter(**{pk_name: object_id}).select_related("history_user")
        tracked = [field.name for field in history_manager.model.tracked_fields if isinstance(field, models.ForeignKey)]
        return rows.select_related(*tracked) if tracked else rows

    def history_view(self, request, object_id, extra_context=None):
        require_valid_id(self.model, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        require_valid_id(self.model, object_id)
        require_valid_id(self.model.history.model, version_id, field_name="history_id")
        return super().history_form_view(request, object_id, version_id, extra_context)


def require_valid_id(model, raw_id, field_name=None):
    """A mistyped id in an admin address is a page that does not exist, not a server error."""
    field = model._meta.get_field(field_name) if field_name else model._meta.pk
    try:
        field.to_python(unquote(raw_id))
    except ValidationError:
        raise Http404("No such record.") from None
