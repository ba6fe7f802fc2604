import functools

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from counties.models import County, Municipality
from counties.text import norwegian_sort_key
from directory.models import Language, PeerSupporter, Specialty


def county_choices():
    counties = sorted(County.objects.filter(active=True), key=lambda county: norwegian_sort_key(county.name))
    return [("", _("All counties"))] + [(county.number, county.name) for county in counties]


def municipality_choices():
    """Municipalities grouped by county, both in Norwegian alphabetical order."""
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


class SupporterFilter(django_filters.FilterSet):
    """The public search: several values within one filter mean OR, different filters mean AND."""

    q = django_filters.CharFilter(
        label=_("Name, place or specialty"),
        method="filter_text",
        max_length=100,
        error_messages={"max_length": _("The search text can be at most %(limit_value)d characters.")},
    )
    county = django_filters.ModelChoiceFilter(
        label=_("County"),
        queryset=County.objects.filter(active=True),
        to_field_name="number",
        method="filter_county",
        error_messages={"invalid_choice": _("There is no county “%(value)s”.")},
    )
    municipality = django_filters.ModelChoiceFilter(
        label=_("Nearest to municipality"),
        help_text=_("The closest supporters come first, with the distance shown."),
        queryset=Municipality.objects.filter(county__active=True),
        to_field_name="number",
        method="order_by_distance",
        error_messages={"invalid_choice": _("There is no municipality “%(value)s”.")},
    )
    specialty = django_filters.ModelMultipleChoiceFilter(
        label=_("Specialty"),
        queryset=Specialty.objects.all(),
        to_field_name="slug",
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
    language = django_filters.ModelMultipleChoiceFilter(
        label=_("Language"),
        queryset=Language.objects.all(),
        to_field_name="code",
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

    def __init__(self, data=None, *args, today=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.today = today or timezone.localdate()
        # Choices in Norwegian alphabetical order, fetched once, and only if the form is drawn.
        self.form.fields["county"].widget.choices = functools.cache(county_choices)
        self.form.fields["municipality"].widget.choices = functools.cache(municipality_choices)
        # Specialties and languages in the alphabetical order of the page's language.
        name = "name_en" if (get_language() or "").startswith("en") else "name_nb"
        for field in ("specialty", "language"):
            self.form.fields[field].queryset = self.form.fields[field].queryset.order_by(name)

    def filter_text(self, queryset, name, value):
        return queryset.matching_text(value) if value else queryset

    def filter_county(self, queryset, name, value):
        return queryset.in_counties([value]) if value else queryset

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
        queryset = super().filter_queryset(queryset)
        if self.chosen_municipality:
            return queryset.nearest_to(self.chosen_municipality, self.today)
        return queryset.in_daily_order(self.today)

    def remote_alternatives(self):
        """Supporters in other counties who meet by phone or video and match the rest of the search."""
        if not self.chosen_county:
            return None
        queryset = self.queryset.exclude(municipality__county=self.chosen_county).remote()
        for name in REMOTE_KEEPS:
            queryset = self.filters[name].filter(queryset, self.form.cleaned_data.get(name))
        return queryset.in_daily_order(self.today)
