from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms.utils import ErrorList

from counties.models import Municipality
from directory.filters import municipality_choices
from directory.models import NOTE_MAX_LENGTH, Availability, Language, PeerSupporter

CONTACT_FIELDS = ("phone", "show_phone", "email", "show_email")
MODE_FIELDS = tuple(mode.field_name for mode in PeerSupporter.Mode)
AVAILABILITY_FIELDS = ("availability", "availability_until")

NO_CONTACT_GIVEN = (
    "Give a phone number or an e-mail address, and tick “show publicly” for it: "
    "while you are listed, doctors need at least one way to reach you."
)
NO_CONTACT_SHOWN = (
    "Tick “show publicly” for your phone number or your e-mail address: "
    "while you are listed, doctors need at least one way to reach you."
)
NO_MEETING_MODE = "Tick at least one way to meet: while you are listed, doctors need to know how you can meet."
UNTIL_WITH_OPEN = (
    "An end date only applies to “paused” or “few places left”. "
    "Leave the date empty, or choose one of those two statuses."
)
UNTIL_IN_THE_PAST = "The end date has passed. Choose today or a later date, or leave it empty."


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
            "availability": "Status",
            "availability_until": "Until (optional)",
            "meets_in_person": "In person",
            "meets_by_phone": "By phone",
            "meets_by_video": "By video",
            "evenings": "I can meet on evenings",
            "weekends": "I can meet on weekends",
            "languages": "Languages you can hold a conversation in",
            "phone": "Phone number",
            "show_phone": "Show my phone number publicly",
            "email": "E-mail address",
            "show_email": "Show my e-mail address publicly",
            "municipality": "Municipality",
            "town": "Town or place (optional)",
            "note": "A few words to doctors (optional)",
        }
        help_texts = {
            "availability_until": (
                "Only for “paused” or “few places left”: the last day of that status. "
                "From the day after, your listing shows as open again on its own. "
                "Leave empty to keep the status until you change it."
            ),
            "phone": "Such as 22 12 34 56, or with a country code, such as +46 8 123 456 78.",
            "town": "If it is not the municipality's own name.",
            "note": (
                f"Plain text, at most {NOTE_MAX_LENGTH} characters. Shown on your profile page. "
                "Do not write anything about the doctors you talk to."
            ),
        }
        widgets = {
            "availability": forms.RadioSelect,
            "availability_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "languages": forms.CheckboxSelectMultiple,
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "note": forms.Textarea(attrs={"rows": 5}),
        }
        error_messages = {
            "note": {
                "max_length": "The note can be at most %(limit_value)d characters; it has %(show_value)d.",
            },
            "phone": {
                "invalid": "This is not a phone number we recognise. Write it as 22 12 34 56, or with a country "
                "code, such as +46 8 123 456 78.",
            },
            "email": {"invalid": "Write the e-mail address in full, such as kari@example.org."},
            "availability_until": {"invalid": "Write the date as year-month-day, such as 2026-12-31."},
            "municipality": {"invalid_choice": "Choose a municipality from the list."},
            "languages": {"invalid_choice": "Choose languages from the list."},
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

        self.fields["languages"].queryset = Language.objects.all()
        self.fields["languages"].to_field_name = "code"
        self.fields["languages"].required = False

        municipality = self.fields["municipality"]
        municipality.to_field_name = "number"
        municipality.queryset = Municipality.objects.filter(
            Q(county__active=True) | Q(pk=listing.municipality_id)
        ).select_related("county")
        choices = [("", "Choose a municipality"), *municipality_choices()[1:]]
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
            raise ValidationError(UNTIL_IN_THE_PAST, code="until_in_the_past")
        return until

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("availability") == Availability.OPEN and cleaned.get("availability_until"):
            self.add_error("availability_until", ValidationError(UNTIL_WITH_OPEN, code="until_with_open"))
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
        self.group_errors[group].append(message)
        self.add_error(None, ValidationError(message, code=code))

    @property
    def error_summary(self):
        """(id of what it is about, message) for every error, for the summary at the top of the page."""
        group_of = {message: group for group, errors in self.group_errors.items() for message in errors}
        summary = [(group_of.get(message, "listing-form"), message) for message in self.non_field_errors()]
        for name in self.fields:
            summary += [(self[name].auto_id, message) for message in self[name].errors]
        return summary
