from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms.utils import ErrorList
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_noop as N_

from counties.models import Municipality
from directory.filters import municipality_choices
from directory.models import NOTE_MAX_LENGTH, Availability, Language, PeerSupporter

CONTACT_FIELDS = ("phone", "show_phone", "email", "show_email")
MODE_FIELDS = tuple(mode.field_name for mode in PeerSupporter.Mode)
AVAILABILITY_FIELDS = ("availability", "availability_until")

# Marked for translation here and translated where they are raised, in the language of the request.
NO_CONTACT_GIVEN = N_(
    "Give a phone number or an e-mail address, and tick “show publicly” for it: "
    "while you are listed, doctors need at least one way to reach you."
)
NO_CONTACT_SHOWN = N_(
    "Tick “show publicly” for your phone number or your e-mail address: "
    "while you are listed, doctors need at least one way to reach you."
)
NO_MEETING_MODE = N_("Tick at least one way to meet: while you are listed, doctors need to know how you can meet.")
UNTIL_WITH_OPEN = N_(
    "An end date only applies to “paused” or “few places left”. "
    "Leave the date empty, or choose one of those two statuses."
)
UNTIL_IN_THE_PAST = N_("The end date has passed. Choose today or a later date, or leave it empty.")


class NoteField(forms.CharField):
    """Plain text whose line breaks count as one character each, as the browser counts them while typing."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n")


class ListingForm(forms.ModelForm):
    """What a supporter may change in their own listing. Name, title, specialties and listing are staff's."""

    # Fields checked together. When one of a group is refused, the whole group keeps its stored values while the
    # form is validated, so that the model's own clean() sees a consistent listing; otherwise it would report the
    # missing contact on `listed`, a field this form does not have, and the page would fail instead of explaining.
    GROUPS = {"contact": CONTACT_FIELDS, "modes": MODE_FIELDS, "availability": AVAILABILITY_FIELDS}

    class Meta:
        model = PeerSupporter
        fields = [
            "availability",
            "availability_until",
            *MODE_FIELDS,
            "evenings",
            "weekends",
            "languages",
            "phone",
            "show_phone",
            "email",
            "show_email",
            "municipality",
            "town",
            "note",
        ]
        field_classes = {"note": NoteField}
        labels = {
            "availability": gettext_lazy("Status"),
            "availability_until": gettext_lazy("Until (optional)"),
            "meets_in_person": gettext_lazy("In person"),
            "meets_by_phone": gettext_lazy("By phone"),
            "meets_by_video": gettext_lazy("By video"),
            "evenings": gettext_lazy("I can meet on evenings"),
            "weekends": gettext_lazy("I can meet on weekends"),
            "languages": gettext_lazy("Languages you can hold a conversation in"),
            "phone": gettext_lazy("Phone number"),
            "show_phone": gettext_lazy("Show my phone number publicly"),
            "email": gettext_lazy("E-mail address"),
            "show_email": gettext_lazy("Show my e-mail address publicly"),
            "municipality": gettext_lazy("Municipality"),
            "town": gettext_lazy("Town or place (optional)"),
            "note": gettext_lazy("A few words to doctors (optional)"),
        }
        help_texts = {
            "availability_until": gettext_lazy(
                "Only for “paused” or “few places left”: the last day of that status. "
                "From the day after, your listing shows as open again on its own. "
                "Leave empty to keep the status until you change it."
            ),
            "phone": gettext_lazy("Such as 22 12 34 56, or with a country code, such as +46 8 123 456 78."),
            "town": gettext_lazy("If it is not the municipality's own name."),
            # "note": set in __init__, since it names the length limit.
        }
        widgets = {
            "availability": forms.RadioSelect,
            "availability_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "town": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "languages": forms.CheckboxSelectMultiple,
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "note": forms.Textarea(attrs={"rows": 5}),
        }
        error_messages = {
            "note": {
                "max_length": gettext_lazy(
                    "The note can be at most %(limit_value)d characters; it has %(show_value)d."
                ),
            },
            "phone": {
                "invalid": gettext_lazy(
                    "This is not a phone number we recognise. Write it as 22 12 34 56, or with a country "
                    "code, such as +46 8 123 456 78."
                ),
            },
            "email": {"invalid": gettext_lazy("Write the e-mail address in full, such as kari@example.org.")},
            "availability_until": {"invalid": gettext_lazy("Write the date as year-month-day, such as 2026-12-31.")},
            "municipality": {"invalid_choice": gettext_lazy("Choose a municipality from the list.")},
            "languages": {"invalid_choice": gettext_lazy("Choose languages from the list.")},
        }

    def __init__(self, *args, today, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.today = today
        self.group_errors = {name: ErrorList(field_id=name) for name in self.GROUPS}
        listing = self.instance

        # A pause or "few places left" whose end date has passed is shown as doctors see it: open, no date.
        self.initial["availability"] = listing.availability_on(today)
        self.initial["availability_until"] = listing.until_on(today)

        self.fields["note"].help_text = _(
            "Plain text, at most %(limit)d characters. Shown on your profile page. "
            "Do not write anything about the doctors you talk to."
        ) % {"limit": NOTE_MAX_LENGTH}
        self.fields["phone"].widget.attrs.update({"autocomplete": "tel", "inputmode": "tel"})

        self.fields["languages"].queryset = Language.objects.all()
        self.fields["languages"].to_field_name = "code"
        self.fields["languages"].required = False

        municipality = self.fields["municipality"]
        municipality.to_field_name = "number"
        municipality.queryset = Municipality.objects.filter(
            Q(county__active=True) | Q(pk=listing.municipality_id)
        ).select_related("county")
        choices = [("", _("Choose a municipality")), *municipality_choices()[1:]]
        if listing.municipality_id and not listing.municipality.county.active:
            # A county merged away is not offered to anyone, but the supporter's own place stays valid.
            choices.append((listing.municipality.county.name, [(listing.municipality.number, listing.municipality)]))
        municipality.widget.choices = choices
        if listing.municipality_id:
            self.initial["municipality"] = listing.municipality.number

    def save_listing(self, *, confirmed_on):
        """Save the supporter's changes, which also confirm the listing as current.

        Only the fields of this form are written, so a change staff make at the same moment (name, listing) stays.
        """
        listing = self.save(commit=False)
        listing.last_confirmed = confirmed_on
        stored = [name for name in self._meta.fields if not listing._meta.get_field(name).many_to_many]
        listing.save(update_fields=[*stored, "last_confirmed", "search_text", "updated_at"])
        self.save_m2m()
        return listing

    def clean_availability_until(self):
        until = self.cleaned_data["availability_until"]
        if until and until < self.today:
            raise ValidationError(_(UNTIL_IN_THE_PAST), code="until_in_the_past")
        return until

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("availability") == Availability.OPEN and cleaned.get("availability_until"):
            self.add_error("availability_until", ValidationError(_(UNTIL_WITH_OPEN), code="until_with_open"))
        if self.instance.listed:
            self.check_public_contact(cleaned)
            self.check_meeting_mode(cleaned)
        for group, fields in self.GROUPS.items():
            if self.group_errors[group] or any(name in self._errors for name in fields):
                for name in fields:
                    cleaned.pop(name, None)
        return cleaned

    def check_public_contact(self, cleaned):
        if any(name not in cleaned for name in CONTACT_FIELDS):
            return  # A contact field was refused already; that message comes first.
        if not cleaned["phone"] and not cleaned["email"]:
            self.add_group_error("contact", NO_CONTACT_GIVEN, code="no_contact_given")
        elif not (cleaned["phone"] and cleaned["show_phone"]) and not (cleaned["email"] and cleaned["show_email"]):
            self.add_group_error("contact", NO_CONTACT_SHOWN, code="no_contact_shown")

    def check_meeting_mode(self, cleaned):
        if not any(cleaned.get(name) for name in MODE_FIELDS):
            self.add_group_error("modes", NO_MEETING_MODE, code="no_meeting_mode")

    def add_group_error(self, group, message, *, code):
        """An error about a group of fields together, shown by the group rather than by any one field."""
        message = _(message)
        self.group_errors[group].append(message)
        self.add_error(None, ValidationError(message, code=code))

    @property
    def error_summary(self):
        """(id of the control to go to, message) for every error, for the summary at the top of the page.

        A group's error leads to the group's first control, a choice of several to its first option: a link to a
        control moves the keyboard focus there, a link to a fieldset would only scroll.
        """

        def target(name):
            field = self[name]
            return f"{field.auto_id}_0" if field.use_fieldset else field.auto_id

        first_of = {group: target(fields[0]) for group, fields in self.GROUPS.items()}
        group_of = {message: group for group, errors in self.group_errors.items() for message in errors}
        summary = [
            (first_of.get(group_of.get(message), "listing-form"), message) for message in self.non_field_errors()
        ]
        for name in self.fields:
            summary += [(target(name), f"{self[name].label}: {message}") for message in self[name].errors]
        return summary
