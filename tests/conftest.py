"""Small factories shared by the tests: counties, municipalities, specialties and languages come from the seed."""

import datetime
import itertools

import pytest

from counties.models import Municipality
from directory.models import Language, PeerSupporter, Specialty

_numbers = itertools.count(1)


@pytest.fixture
def make_supporter(db):
    """Create a listed supporter; keyword arguments override the defaults.

    municipality: a name or number; specialties and languages: lists of slugs or codes.
    """

    def make(*, municipality="Oslo", specialties=(), languages=("nb",), **fields):
        number = next(_numbers)
        place = Municipality.objects.get(number=municipality) if municipality.isdigit() else None
        place = place or Municipality.objects.get(name=municipality)
        values = {
            "name": f"Supporter {number}",
            "email": f"supporter{number}@example.org",
            "phone": f"+4741{number:06d}",
            "municipality": place,
        }
        values.update(fields)
        supporter = PeerSupporter.objects.create(**values)
        supporter.specialties.set(Specialty.objects.filter(slug__in=specialties))
        supporter.languages.set(Language.objects.filter(code__in=languages))
        return supporter

    return make


@pytest.fixture
def today():
    return datetime.date(2026, 11, 26)
