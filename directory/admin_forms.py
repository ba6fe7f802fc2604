"""The supporter form of the admin: kept within the editor's counties, and never silently overwriting a colleague."""

import hashlib
import json

from django import forms
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.access import municipalities_in_scope


def field_digest(instance, field):
    """A short fingerprint of one field's stored value, so the form can carry what it was loaded with."""
    if field.many_to_many:
        value = sorted(getattr(instance, field.name).values_list("pk", flat=True)) if instance.pk else []
    else:
        value = field.value_to_string(instance)
    return hashlib.sha256(json.dumps(value, default=str).encode()).hexdigest()[:16]


def field_display(instance, field):
    """A field's value as a person reads it, for the message naming what a colleague changed."""
    if field.many_to_many:
        return ", ".join(str(item) for item in getattr(instance, field.name).all()) or _("none")
    if field.choices:
        return str(getattr(instance, f"get_{field.name}_display")()) or _("none")
    value = getattr(instance, field.name)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value) if value not in (None, "") else _("empty")


class ConcurrentEditForm(forms.ModelForm):
    """Refuses to save over changes someone else saved after this form was opened.

    The hidden `version` field carries a fingerprint of every field as loaded. On saving, if the stored record
    differs in any of them, nothing is saved and the message names each changed field and its new value. The
    re-shown form then carries the new fingerprint, so saving again is a deliberate choice to overwrite.
    """

    version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].initial = json.dumps(self.fingerprint(self.instance))

    def tracked_fields(self):
        opts = self.instance._meta
        return [field for field in [*opts.concrete_fields, *opts.many_to_many] if field.name in self.fields]

    def fingerprint(self, instance):
        return {field.name: field_digest(instance, field) for field in self.tracked_fields()}

    def clean(self):
        cleaned_data = super().clean()
        if self.instance.pk:
            self.refuse_concurrent_changes()
        return cleaned_data

    def refuse_concurrent_changes(self):
        try:
            loaded = json.loads(self.data.get(self.add_prefix("version")) or "")
        except ValueError:
            loaded = None
        rows = type(self.instance)._default_manager.filter(pk=self.instance.pk)
        # Hold the row until this save ends, so that two saves at the same moment cannot both pass the check.
        if transaction.get_connection().in_atomic_block:
            rows = rows.select_for_update()
        stored = rows.get()
        current = self.fingerprint(stored)
        if not isinstance(loaded, dict):
            changed = []
        else:
            changed = [field for field in self.tracked_fields() if loaded.get(field.name) != current[field.name]]
            if not changed:
                return
        # Show the form again with the record as it is now: saving it once more overwrites knowingly.
        self.data = self.data.copy()
        self.data[self.add_prefix("version")] = json.dumps(current)
        if not changed:
            raise ValidationError(
                _("This form was not opened from the current record. Check the values below and save again."),
                code="stale",
            )
        changes = "; ".join(
            _("%(field)s is now “%(value)s”")
            % {"field": self.fields[field.name].label or field.verbose_name, "value": field_display(stored, field)}
            for field in changed
        )
        raise ValidationError(
            _(
                "Someone else saved this record after you opened it, and nothing of yours was saved. "
                "They changed: %(changes)s. Save again to replace their values with yours, "
                "or reopen the record to start from theirs."
            )
            % {"changes": changes},
            code="concurrent_edit",
        )


class PeerSupporterAdminForm(ConcurrentEditForm):
    """The admin sets `user` on the form class it builds for each request."""

    user = AnonymousUser()

    def clean_municipality(self):
        municipality = self.cleaned_data.get("municipality")
        if municipality and not municipalities_in_scope(self.user).filter(pk=municipality.pk).exists():
            raise ValidationError(_("You can only place supporters in a county you maintain."), code="out_of_scope")
        return municipality
