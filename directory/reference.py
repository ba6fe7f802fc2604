"""The reference data of the public pages: counties, municipalities, specialties and languages.

A few hundred rows that staff change rarely, needed on nearly every public page (the search form's choices, checking
a search, the names on the cards). They are read in one query and kept in memory by each process, under the
reference version and the roster version of directory/cache.py: tokens in the cache that every process shares,
replaced after any write to these tables (or, for the roster version, to the roster, which decides which specialties
and languages the form offers). A request inside a transaction reads them afresh, as the tokens change on commit.
"""

import dataclasses
import functools
import threading

from django.db import connection
from django.db.models import Exists, F, FloatField, IntegerField, OuterRef, Value
from django.db.models.functions import Cast

from counties.models import County, Municipality
from counties.text import fold, norwegian_sort_key
from directory.cache import reference_version, roster_version
from directory.models import Language, PeerSupporter, Specialty


@dataclasses.dataclass(frozen=True)
class Reference:
    """Every county, municipality, specialty and language, in Norwegian alphabetical order, with look-ups."""

    counties: dict  # id -> County, every county
    municipalities: dict  # id -> Municipality (county set), every municipality
    specialties: dict  # id -> Specialty, by Norwegian name
    languages: dict  # id -> Language, by English name

    @property
    def active_counties(self):
        return [county for county in self.counties.values() if county.active]

    def county(self, number):
        """The active county with this number, or None."""
        return next((c for c in self.counties.values() if c.number == number and c.active), None)

    @property
    def public_municipalities(self):
        return [m for m in self.municipalities.values() if m.county.active]

    @functools.cached_property
    def municipality_names(self):
        """The municipalities a search can be ordered from, by number and name; worked out once per copy."""
        return Municipalities(self.public_municipalities)

    def municipality_ids_matching(self, word):
        """Municipalities whose folded name, or whose county's folded name, contains word (as LIKE '%word%')."""
        return [m.pk for m in self.municipalities.values() if word in m.search_name or word in m.county.search_name]

    def specialty_ids_matching(self, word):
        return [s.pk for s in self.specialties.values() if word in s.search_text]


class Municipalities:
    """The municipalities a search can be ordered from (those of active counties), found by number or by name."""

    def __init__(self, municipalities):
        self.by_number = {}
        self.by_name = {}
        names = {}
        for place in municipalities:
            self.by_number[place.number] = place
            for form in {place.name, *place.name.split(" - ")}:
                self.by_name.setdefault(fold(form), []).append(place)
                self.by_name.setdefault(fold(form, place.county.name), []).append(place)
            names.setdefault(place.name, []).append(place)
        self.shared_names = {name for name, places in names.items() if len(places) > 1}

    def find(self, text):
        if text in self.by_number:
            return [self.by_number[text]]
        found = dict.fromkeys(self.by_name.get(fold(text), []))
        return sorted(found, key=lambda place: norwegian_sort_key(place.county.name))

    def label(self, place):
        return f"{place.name} ({place.county.name})" if place.name in self.shared_names else place.name


def _columns(model, **columns):
    """One branch of the union: the same ten columns from every table, named alike, NULL where a table has none."""
    empty = {
        "kind": Value(model._meta.label_lower),
        "key": Value(""),
        "name_1": Value(""),
        "name_2": Value(""),
        "folded": Value(""),
        "extra": Value(""),
        "parent": Value(0, output_field=IntegerField()),
        "flag": Value(0, output_field=IntegerField()),
        "lat": Value(0.0, output_field=FloatField()),
        "lon": Value(0.0, output_field=FloatField()),
    }
    empty.update(columns)
    return model.objects.order_by().annotate(**empty).values_list("pk", *empty)


def _offered(field_name, column):
    """1 when a listed supporter has this specialty or language, else 0 (the search form offers only those)."""
    through = PeerSupporter._meta.get_field(field_name).remote_field.through
    links = through.objects.filter(**{column: OuterRef("pk")}, peersupporter__listed=True)
    return Cast(Exists(links), IntegerField())


def load_reference():
    """Read the four tables in one query (a UNION ALL) and build the look-ups."""
    rows = (
        _columns(
            County,
            key=F("number"),
            name_1=F("name"),
            name_2=F("official_name"),
            folded=F("search_name"),
            flag=Cast("active", IntegerField()),
        )
        .union(
            _columns(
                Municipality,
                key=F("number"),
                name_1=F("name"),
                folded=F("search_name"),
                parent=F("county_id"),
                lat=F("latitude"),
                lon=F("longitude"),
            ),
            _columns(
                Specialty,
                flag=_offered("specialties", "specialty_id"),
                key=F("slug"),
                name_1=F("name_nb"),
                name_2=F("name_en"),
                folded=F("search_text"),
                extra=F("group"),
            ),
            _columns(
                Language,
                key=F("code"),
                name_1=F("name_nb"),
                name_2=F("name_en"),
                flag=_offered("languages", "language_id"),
            ),
            all=True,
        )
        .order_by()
    )
    counties, municipalities, specialties, languages = {}, {}, {}, {}
    places = []
    for pk, kind, key, name_1, name_2, folded, extra, parent, flag, lat, lon in rows:
        if kind == "counties.county":
            counties[pk] = County(
                pk=pk, number=key, name=name_1, official_name=name_2, search_name=folded, active=bool(flag)
            )
        elif kind == "counties.municipality":
            places.append(
                Municipality(
                    pk=pk, number=key, name=name_1, search_name=folded, county_id=parent, latitude=lat, longitude=lon
                )
            )
        elif kind == "directory.specialty":
            specialties[pk] = Specialty(
                pk=pk, slug=key, name_nb=name_1, name_en=name_2, search_text=folded or fold(name_1, name_2), group=extra
            )
            specialties[pk].offered = bool(flag)
        else:
            languages[pk] = Language(pk=pk, code=key, name_nb=name_1, name_en=name_2)
            languages[pk].offered = bool(flag)
    for place in sorted(places, key=lambda m: norwegian_sort_key(m.name)):
        place.county = counties[place.county_id]
        municipalities[place.pk] = place
    return Reference(
        counties=dict(sorted(counties.items(), key=lambda item: norwegian_sort_key(item[1].name))),
        municipalities=municipalities,
        specialties=dict(sorted(specialties.items(), key=lambda item: norwegian_sort_key(item[1].name_nb))),
        languages=dict(sorted(languages.items(), key=lambda item: norwegian_sort_key(item[1].name_en))),
    )


_lock = threading.Lock()
_copy = {"version": None, "reference": None}


def current_version():
    """The versions the copy in memory must match, or None when they cannot be known (then trust no copy)."""
    if connection.in_atomic_block:
        return None
    try:
        version = (reference_version(), roster_version())
    except Exception:
        return None
    return None if None in version else version


def reference():
    """The reference data, from this process's copy while it is current, otherwise read afresh."""
    version = current_version()
    if version is not None and _copy["version"] == version:
        return _copy["reference"]
    fresh = load_reference()
    if version is not None:
        with _lock:
            _copy.update(version=version, reference=fresh)
    return fresh


def forget_reference():
    """Drop this process's copy (for tests that measure a cold request)."""
    _copy.update(version=None, reference=None)


def _prefetched(supporter, name, objects):
    """Fill the supporter's many-to-many relation as prefetch_related would, so .all() reads it without a query."""
    queryset = getattr(supporter, name).get_queryset()
    queryset._result_cache = objects
    queryset._prefetch_done = True
    supporter.__dict__.setdefault("_prefetched_objects_cache", {})[name] = queryset


def with_links(supporters, data=None):
    """Give supporters read with PeerSupporter.objects.with_link_ids() their specialties and languages.

    Names come from the reference data in memory, in its order. An id it lacks (added since it was read) makes it
    read afresh.
    """
    data = data or reference()
    wanted = [
        (
            [int(pk) for pk in (s.specialty_ids or "").split(",") if pk],
            [int(pk) for pk in (s.language_ids or "").split(",") if pk],
        )
        for s in supporters
    ]
    if any(
        not all(pk in data.specialties for pk in specialties) or not all(pk in data.languages for pk in languages)
        for specialties, languages in wanted
    ):
        forget_reference()
        data = reference()
    for supporter, (specialties, languages) in zip(supporters, wanted, strict=True):
        _prefetched(supporter, "specialties", [s for pk, s in data.specialties.items() if pk in specialties])
        _prefetched(supporter, "languages", [lang for pk, lang in data.languages.items() if pk in languages])
    return supporters
