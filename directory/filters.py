import django_filters
from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from counties.models import Municipality
from counties.text import norwegian_sort_key
from directory.models import PeerSupporter
from directory.reference import reference


def municipality_choices():
    """Municipalities grouped by county, both in Norwegian alphabetical order (the supporter's own listing form)."""
    groups = {}
    for municipality in Municipality.objects.filter(county__active=True).select_related("county"):
        groups.setdefault(municipality.county, []).append(municipality)
    return [("", _("Any (no distance order)"))] + [
        (
            county.name,
            [(place.number, place.name) for place in sorted(places, key=lambda m: norwegian_sort_key(m.name))],
        )
        for county, places in sorted(groups.items(), key=lambda item: norwegian_sort_key(item[0].name))
    ]


# Filters that still apply to the list of supporters from other counties who meet by phone or video.
REMOTE_KEEPS = ("q", "specialty", "language", "open", "evenings", "weekends")


class ReferenceChoiceField(forms.ChoiceField):
    """One of the reference data's objects (a county), by its key: checked against the data in memory, no query."""

    objects = {}

    def to_python(self, value):
        value = super().to_python(value)
        ProhibitNullCharactersValidator()(value)
        return value

    def clean(self, value):
        key = super().clean(value)
        return self.objects[key] if key else None


class ReferenceMultipleChoiceField(forms.MultipleChoiceField):
    """Several of the reference data's objects (specialties, languages), by their keys, without a query."""

    objects = {}

    def to_python(self, value):
        values = super().to_python(value)
        for item in values:
            ProhibitNullCharactersValidator()(item)
        return values

    def clean(self, value):
        return [self.objects[key] for key in dict.fromkeys(super().clean(value))]


class MunicipalityField(forms.CharField):
    """A municipality typed by name (folded like the free text, so "tromso" is Tromsø), or given by its number.

    Each part of a name in several languages ("Trondheim - Tråante") finds it, and a name that two municipalities
    share needs its county: "Herøy (Nordland)", which is also how such a municipality is shown.
    """

    default_error_messages = {
        "invalid_choice": _("There is no municipality “%(value)s”."),
        "ambiguous": _("Several municipalities are called “%(value)s”: write %(choices)s."),
    }
    municipalities = None  # The Municipalities of the reference data (set by the filter set).

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        found = self.municipalities.find(text)
        if len(found) == 1:
            return found[0]
        if found:
            labels = [str(format_lazy(_("“{name}”"), name=self.municipalities.label(place))) for place in found]
            choices = format_lazy(_("{first} or {last}"), first=", ".join(labels[:-1]), last=labels[-1])
            raise forms.ValidationError(
                self.error_messages["ambiguous"], code="ambiguous", params={"value": text, "choices": choices}
            )
        raise forms.ValidationError(
            self.error_messages["invalid_choice"], code="invalid_choice", params={"value": text}
        )

    def prepare_value(self, value):
        """Show the municipality's name in the field, also when the address gave its number."""
        if self.municipalities is not None and isinstance(value, str) and value.strip():
            found = self.municipalities.find(value.strip())
            if len(found) == 1:
                return self.municipalities.label(found[0])
        elif value is not None and hasattr(value, "county"):
            return self.municipalities.label(value)
        return value


class ReferenceChoiceFilter(django_filters.Filter):
    field_class = ReferenceChoiceField


class ReferenceMultipleChoiceFilter(django_filters.Filter):
    field_class = ReferenceMultipleChoiceField


class MunicipalityFilter(django_filters.Filter):
    field_class = MunicipalityField


class SupporterFilter(django_filters.FilterSet):
    """The public search: several values within one filter mean OR, different filters mean AND."""

    q = django_filters.CharFilter(
        label=_("Name, place or specialty"),
        method="filter_text",
        max_length=100,
        error_messages={"max_length": _("The search text can be at most %(limit_value)d characters.")},
    )
    county = ReferenceChoiceFilter(
        label=_("County"),
        method="filter_county",
        error_messages={"invalid_choice": _("There is no county “%(value)s”.")},
    )
    municipality = MunicipalityFilter(
        label=_("Nearest to municipality"),
        help_text=_("Type its name. The closest supporters come first, with the distance shown."),
        method="order_by_distance",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    specialty = ReferenceMultipleChoiceFilter(
        label=_("Specialty"),
        method="filter_specialty",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("There is no specialty “%(value)s”.")},
    )
    mode = django_filters.MultipleChoiceFilter(
        label=_("Meeting mode"),
        choices=PeerSupporter.Mode.choices,
        method="filter_mode",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("There is no meeting mode “%(value)s”.")},
    )
    language = ReferenceMultipleChoiceFilter(
        label=_("Language"),
        method="filter_language",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("There is no language “%(value)s”.")},
    )
    open = django_filters.BooleanFilter(
        label=_("Open to new contacts now"), method="filter_open", widget=forms.CheckboxInput
    )
    evenings = django_filters.BooleanFilter(
        label=_("Can meet on evenings"), method="filter_flag", widget=forms.CheckboxInput
    )
    weekends = django_filters.BooleanFilter(
        label=_("Can meet on weekends"), method="filter_flag", widget=forms.CheckboxInput
    )

    class Meta:
        model = PeerSupporter
        fields = []

    def __init__(self, data=None, *args, today=None, reference_data=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.today = today or timezone.localdate()
        # Choices and checks from the reference data in memory: no query to draw or check the form.
        self.reference = reference_data or reference()
        fields = self.form.fields
        counties = {county.number: county for county in self.reference.active_counties}
        fields["county"].objects = counties
        fields["county"].choices = [("", _("All counties")), *((number, c.name) for number, c in counties.items())]
        fields["municipality"].municipalities = self.reference.municipality_names
        # Specialties and languages in the alphabetical order of the page's language. Any of them is understood, but
        # only those a listed supporter has are offered as boxes to tick (and those already chosen): no choice leads
        # to an empty list, and the page stays small.
        english = (get_language() or "").startswith("en")
        for name, objects, key in [
            ("specialty", self.reference.specialties.values(), "slug"),
            ("language", self.reference.languages.values(), "code"),
        ]:
            ordered = sorted(objects, key=lambda item: norwegian_sort_key(item.name_en if english else item.name_nb))
            fields[name].objects = {getattr(item, key): item for item in ordered}
            chosen = set(self.data.getlist(name)) if self.is_bound and hasattr(self.data, "getlist") else set()
            fields[name].choices = [
                (getattr(item, key), item.name_en if english else item.name_nb)
                for item in ordered
                if item.offered or getattr(item, key) in chosen
            ]

    def filter_text(self, queryset, name, value):
        return queryset.matching_text(value, self.reference) if value else queryset

    def filter_county(self, queryset, name, value):
        return queryset.in_municipalities(self.county_municipality_ids(value)) if value else queryset

    def county_municipality_ids(self, county):
        return [m.pk for m in self.reference.municipalities.values() if m.county_id == county.pk]

    def order_by_distance(self, queryset, name, value):
        # Ordering, not filtering: applied last, in filter_queryset.
        return queryset

    def filter_specialty(self, queryset, name, value):
        return queryset.in_specialties(value) if value else queryset

    def filter_mode(self, queryset, name, value):
        return queryset.meeting_by(value) if value else queryset

    def filter_language(self, queryset, name, value):
        return queryset.speaking(value) if value else queryset

    def filter_open(self, queryset, name, value):
        return queryset.open_now(self.today) if value else queryset

    def filter_flag(self, queryset, name, value):
        # An unticked box means "no matter", never "not on evenings".
        return queryset.filter(**{name: True}) if value else queryset

    @property
    def chosen_county(self):
        return self.form.cleaned_data.get("county")

    @property
    def chosen_municipality(self):
        return self.form.cleaned_data.get("municipality")

    def filter_queryset(self, queryset):
        return self.in_order(super().filter_queryset(queryset))

    def in_order(self, queryset):
        """Nearest first with a municipality chosen, otherwise open first in the daily order."""
        if self.chosen_municipality:
            return queryset.nearest_to(self.chosen_municipality, self.today)
        return queryset.in_daily_order(self.today)

    def remote_alternatives(self):
        """Supporters in other counties who meet by phone or video and match the rest of the search."""
        if not self.chosen_county:
            return None
        queryset = self.queryset.exclude(municipality_id__in=self.county_municipality_ids(self.chosen_county)).remote()
        for name in REMOTE_KEEPS:
            queryset = self.filters[name].filter(queryset, self.form.cleaned_data.get(name))
        return queryset.in_daily_order(self.today)
