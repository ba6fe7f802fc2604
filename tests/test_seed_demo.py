"""The demo roster: realistic spread, deterministic, valid, and never loaded twice by accident."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.core.validators import EmailValidator

from counties.models import County
from directory.models import Availability, Language, PeerSupporter

pytestmark = pytest.mark.django_db

DEMO_SIZE = 90
# Large enough for the generated numbers to run through every 4x mobile range.
LARGE_SIZE = 1300


def seed(**options):
    output = io.StringIO()
    call_command("seed_demo", stdout=output, **options)
    return output.getvalue()


def roster():
    """Everything that identifies the roster, in creation order (ids differ after --replace)."""
    return [
        (
            supporter.name,
            supporter.title,
            supporter.municipality.number,
            supporter.email,
            supporter.phone.as_e164,
            supporter.show_phone,
            supporter.show_email,
            supporter.availability,
            supporter.listed,
            tuple(sorted(s.slug for s in supporter.specialties.all())),
            tuple(sorted(language.code for language in supporter.languages.all())),
        )
        for supporter in PeerSupporter.objects.select_related("municipality")
        .prefetch_related("specialties", "languages")
        .order_by("id")
    ]


@pytest.fixture
def seeded():
    seed(supporters=DEMO_SIZE)
    return PeerSupporter.objects.all()


def test_seed_demo_creates_the_requested_number_of_supporters(seeded):
    assert seeded.count() == DEMO_SIZE


def test_seed_demo_puts_supporters_in_every_one_of_the_15_counties(seeded):
    counties_with_supporters = County.objects.filter(municipalities__supporters__listed=True).distinct()

    assert County.objects.count() == 15
    assert counties_with_supporters.count() == 15


def test_seed_demo_has_many_family_doctors_and_several_psychiatrists(seeded):
    family_doctors = seeded.filter(specialties__slug="general-practice-family-medicine").distinct().count()
    psychiatrists = seeded.filter(specialties__slug="psychiatry").distinct().count()

    assert family_doctors >= DEMO_SIZE // 4
    assert psychiatrists >= 3
    assert family_doctors > psychiatrists


def test_seed_demo_offers_every_meeting_mode(seeded):
    for mode in PeerSupporter.Mode:
        assert seeded.listed().meeting_by([mode]).count() >= 5, mode


def test_seed_demo_has_several_languages_and_norwegian_for_everyone(seeded):
    spoken = Language.objects.filter(supporters__isnull=False).distinct()

    assert spoken.count() >= 5
    assert seeded.speaking(Language.objects.filter(code="nb")).count() == DEMO_SIZE
    assert seeded.speaking(Language.objects.filter(code="en")).count() >= 10


def test_seed_demo_has_some_paused_and_some_few_places_supporters(seeded):
    assert seeded.filter(availability=Availability.PAUSED).count() >= 3
    assert seeded.filter(availability=Availability.FEW_PLACES).count() >= 3
    assert seeded.filter(availability=Availability.OPEN).count() > DEMO_SIZE // 2


def test_seed_demo_hides_the_phone_of_some_listed_supporters(seeded):
    hidden = seeded.listed().filter(show_phone=False)

    assert hidden.count() >= 3
    # They can still be reached.
    assert not hidden.filter(show_email=False).exists()
    assert not hidden.filter(email="").exists()


def test_seed_demo_keeps_search_text_in_step_despite_bulk_creation(seeded):
    for supporter in seeded:
        assert supporter.search_text == supporter.folded_search_text(), supporter.name
        assert supporter.search_text


def test_every_demo_supporter_passes_full_clean(seeded):
    failures = {}
    for supporter in seeded:
        try:
            supporter.full_clean()
        except ValidationError as error:
            failures[f"{supporter.pk}: {supporter.name}"] = error.message_dict
    assert failures == {}


def test_every_demo_supporter_has_a_valid_email_address(seeded):
    validate = EmailValidator()
    invalid = []
    for email in seeded.values_list("email", flat=True):
        try:
            validate(email)
        except ValidationError:
            invalid.append(email)
    assert invalid == []


def test_a_large_demo_roster_has_only_valid_norwegian_phone_numbers():
    # Benchmarks use large rosters: numbers must stay valid (and so stored in E.164) for every index.
    seed(supporters=LARGE_SIZE)

    invalid = [
        supporter.phone.raw_input or str(supporter.phone)
        for supporter in PeerSupporter.objects.order_by("id")
        if not supporter.phone.is_valid()
    ]

    assert invalid == []


def test_running_seed_demo_again_without_replace_leaves_the_roster_unchanged(seeded):
    before = list(seeded.order_by("id").values_list("id", "name", "municipality_id"))

    output = seed(supporters=DEMO_SIZE)

    assert list(PeerSupporter.objects.order_by("id").values_list("id", "name", "municipality_id")) == before
    assert "nothing loaded" in output


def test_running_seed_demo_without_replace_does_not_add_a_different_size(seeded):
    seed(supporters=10)

    assert PeerSupporter.objects.count() == DEMO_SIZE


def test_seed_demo_with_replace_and_the_same_size_gives_the_same_roster(seeded):
    first = roster()
    first_ids = set(seeded.values_list("id", flat=True))

    seed(supporters=DEMO_SIZE, replace=True)

    assert PeerSupporter.objects.count() == DEMO_SIZE
    assert roster() == first
    # The old rows really were replaced, not kept.
    assert not PeerSupporter.objects.filter(id__in=first_ids).exists()


def test_seed_demo_with_replace_and_another_size_replaces_the_roster(seeded):
    seed(supporters=20, replace=True)

    assert PeerSupporter.objects.count() == 20


def test_seed_demo_with_another_seed_gives_another_roster(seeded):
    first = roster()

    seed(supporters=DEMO_SIZE, replace=True, seed=7)

    assert roster() != first


@pytest.mark.parametrize("size", [0, -5, 1_000_001])
def test_seed_demo_refuses_a_nonsensical_size(size):
    with pytest.raises(CommandError, match="between 1 and 1,000,000"):
        seed(supporters=size)

    assert not PeerSupporter.objects.exists()
