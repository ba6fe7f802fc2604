"""The numbers on the staff pages, always within the user's scope and in a fixed number of queries.

Every count starts from the scope helpers in accounts.access and the supporter querysets in directory.models,
so the rules (who is in scope, who is open, who is due for training) are written once, there.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractYear
from django.utils.formats import date_format

from accounts.access import counties_in_scope, supporters_in_scope, tallies_in_scope
from directory.models import PeerSupporter, SpecialtyGroup
from tallies.models import recent_months

MODES = list(PeerSupporter.Mode)
COUNTY = "municipality__county"


def per_county(queryset):
    """{county id: number of supporters} for a supporter queryset, in one query."""
    return dict(queryset.order_by().values_list(COUNTY).annotate(n=Count("pk", distinct=True)))


@dataclass
class CountyOverview:
    county: object
    listed: int
    open_now: int
    training_due: int
    not_confirmed: int

    @property
    def paused(self):
        # Whoever is listed but not open today is paused: an ended pause already counts as open.
        return self.listed - self.open_now


def overview(user, today):
    listed = supporters_in_scope(user).listed()
    counts = {
        "listed": per_county(listed),
        "open_now": per_county(listed.open_now(today)),
        "training_due": per_county(listed.training_due(today)),
        "not_confirmed": per_county(listed.not_confirmed_since(today)),
    }
    return [
        CountyOverview(county, **{name: values.get(county.pk, 0) for name, values in counts.items()})
        for county in counties_in_scope(user)
    ]


@dataclass
class Cell:
    label: str
    count: int
    # The admin changelist filter (beyond county and listed) that shows these supporters.
    admin_filter: str

    @property
    def gap(self):
        return self.count == 0


@dataclass
class CoverageRow:
    county: object
    groups: list = field(default_factory=list)
    modes: list = field(default_factory=list)

    @property
    def gaps(self):
        return [cell for cell in self.groups + self.modes if cell.gap]

    @property
    def gap_names(self):
        """The gaps as a phrase for a sentence: "laboratory medicine, by video"."""
        return ", ".join(str(cell.label).lower() for cell in self.gaps)


def coverage(user):
    """Listed supporters per county and specialty group, and per county and meeting mode: three queries."""
    listed = supporters_in_scope(user).listed()
    by_group = {
        (county_id, group): n
        for county_id, group, n in listed.order_by()
        .values_list(COUNTY, "specialties__group")
        .annotate(n=Count("pk", distinct=True))
        if group  # Supporters without a specialty fall in no group.
    }
    by_mode = {
        row[COUNTY]: row
        for row in listed.order_by()
        .values(COUNTY)
        .annotate(**{mode.value: Count("pk", filter=Q(**{mode.field_name: True})) for mode in MODES})
    }
    rows = []
    for county in counties_in_scope(user):
        modes = by_mode.get(county.pk, {})
        rows.append(
            CoverageRow(
                county,
                groups=[
                    Cell(g.label, by_group.get((county.pk, g.value), 0), f"specialties__group__exact={g.value}")
                    for g in SpecialtyGroup
                ],
                modes=[Cell(m.label, modes.get(m.value, 0), f"{m.field_name}__exact=1") for m in MODES],
            )
        )
    return rows


@dataclass
class Counts:
    label: str
    in_person: int = 0
    phone: int = 0
    video: int = 0
    month: datetime.date | None = None

    @property
    def by_mode(self):
        return [getattr(self, mode.value) for mode in MODES]

    @property
    def total(self):
        return sum(self.by_mode)

    def add(self, other):
        for mode in MODES:
            setattr(self, mode.value, getattr(self, mode.value) + getattr(other, mode.value))


SUMS = {mode.value: Sum(mode.value) for mode in MODES}
TALLY_COUNTY = "supporter__municipality__county"


def monthly(user, today):
    """Per county in scope: the last 12 months (oldest first) and every year with counts, by mode; and the sum."""
    months = sorted(recent_months(today))
    tallies = tallies_in_scope(user).order_by()
    by_month = {
        (row[TALLY_COUNTY], row["month"]): row
        for row in tallies.filter(month__in=months).values(TALLY_COUNTY, "month").annotate(**SUMS)
    }
    by_year = {}
    for row in tallies.annotate(year=ExtractYear("month")).values(TALLY_COUNTY, "year").annotate(**SUMS):
        by_year.setdefault(row[TALLY_COUNTY], {})[row["year"]] = row
    counties = list(counties_in_scope(user))
    years = sorted({year for per_year in by_year.values() for year in per_year})

    def counts(label, row, month=None):
        return Counts(label, month=month, **{mode.value: (row or {}).get(mode.value) or 0 for mode in MODES})

    def month_name(month):
        # "November 2026", "november 2026": in the reader's language, as the tables and the chart's bars show it.
        return date_format(month, "YEAR_MONTH_FORMAT")

    sections = []
    all_months = [Counts(month_name(month), month=month) for month in months]
    all_years = [Counts(str(year)) for year in years]
    for county in counties:
        section = {
            "county": county,
            "months": [counts(month_name(m), by_month.get((county.pk, m)), m) for m in months],
            "years": [counts(str(y), by_year.get(county.pk, {}).get(y)) for y in years],
        }
        for total, part in zip(all_months + all_years, section["months"] + section["years"], strict=True):
            total.add(part)
        section["recent_total"] = sum(row.total for row in section["months"])
        sections.append(section)
    return {"counties": sections, "months": all_months, "years": all_years}


def export_rows(user, first_month, last_month):
    """One row per supporter in scope and month with counts, for compensation: county, supporter, month, modes."""
    tallies = (
        tallies_in_scope(user)
        .filter(month__gte=first_month, month__lte=last_month)
        .select_related("supporter__municipality__county")
        .order_by("supporter__municipality__county__number", "supporter__name", "supporter_id", "month")
    )
    for tally in tallies:
        supporter = tally.supporter
        yield [
            supporter.municipality.county.name,
            supporter.name,
            supporter.pk,
            f"{tally.month:%Y-%m}",
            *(getattr(tally, mode.value) for mode in MODES),
            tally.total,
        ]
