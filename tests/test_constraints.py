"""The rules on a supporter row, enforced by the database and explained by full_clean(); the e-mail login."""

import datetime

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.forms import modelform_factory
from django.test import RequestFactory

from counties.models import Municipality
from directory.models import NOTE_MAX_LENGTH, Availability, PeerSupporter

UNTIL = datetime.date(2026, 12, 31)


@pytest.fixture
def oslo(db):
    return Municipality.objects.get(name="Oslo")


@pytest.fixture
def valid(oslo):
    """Field values of a listed supporter that satisfies every rule."""
    return {
        "name": "Kari Nordmann",
        "municipality": oslo,
        "email": "kari@example.org",
        "phone": "+4722123456",
    }


def create(**values):
    return PeerSupporter.objects.create(**values)


def assert_rejected_by_database(**values):
    """The insert fails, and the failed statement is rolled back so the test's transaction stays usable."""
    with pytest.raises(IntegrityError), transaction.atomic():
        create(**values)
    assert not PeerSupporter.objects.filter(name=values["name"]).exists()


def validation_errors(**values):
    supporter = PeerSupporter(**values)
    with pytest.raises(ValidationError) as caught:
        supporter.full_clean()
    return caught.value.message_dict


# --- Listed supporters need a public contact method -----------------------------------------------------------


@pytest.mark.parametrize(
    "contact",
    [
        {"email": "", "phone": ""},
        {"email": "kari@example.org", "show_email": False, "phone": ""},
        {"email": "", "phone": "+4722123456", "show_phone": False},
        {"email": "kari@example.org", "show_email": False, "phone": "+4722123456", "show_phone": False},
    ],
    ids=["none", "email-hidden", "phone-hidden", "both-hidden"],
)
def test_database_rejects_a_listed_supporter_without_a_public_contact_method(valid, contact):
    assert_rejected_by_database(**{**valid, **contact})


@pytest.mark.parametrize(
    "contact",
    [
        {"email": "kari@example.org", "phone": ""},
        {"email": "", "phone": "+4722123456"},
        {"email": "kari@example.org", "show_email": False, "phone": "+4722123456"},
        {"email": "kari@example.org", "phone": "+4722123456", "show_phone": False},
    ],
    ids=["email-only", "phone-only", "email-hidden-phone-shown", "phone-hidden-email-shown"],
)
def test_database_accepts_a_listed_supporter_with_one_public_contact_method(valid, contact):
    supporter = create(**{**valid, **contact})

    assert PeerSupporter.objects.filter(pk=supporter.pk).exists()


def test_database_accepts_an_unlisted_supporter_without_public_contact(valid):
    supporter = create(**{**valid, "listed": False, "email": "", "phone": ""})

    assert PeerSupporter.objects.filter(pk=supporter.pk, listed=False).exists()


def test_database_rejects_hiding_the_last_public_contact_of_an_existing_supporter(make_supporter):
    supporter = make_supporter(email="", phone="+4722123456")

    with pytest.raises(IntegrityError), transaction.atomic():
        PeerSupporter.objects.filter(pk=supporter.pk).update(show_phone=False)

    supporter.refresh_from_db()
    assert supporter.show_phone is True


def test_full_clean_explains_a_listed_supporter_without_public_contact(valid):
    errors = validation_errors(**{**valid, "email": "kari@example.org", "show_email": False, "phone": ""})

    assert errors == {"listed": ["A listed supporter must show at least one contact method: a phone number or e-mail."]}


# --- Listed supporters need a meeting mode --------------------------------------------------------------------

NO_MODES = {"meets_in_person": False, "meets_by_phone": False, "meets_by_video": False}


def test_database_rejects_a_listed_supporter_who_meets_in_no_way(valid):
    assert_rejected_by_database(**{**valid, **NO_MODES})


@pytest.mark.parametrize("mode", PeerSupporter.Mode)
def test_database_accepts_a_listed_supporter_with_a_single_meeting_mode(valid, mode):
    supporter = create(**{**valid, **NO_MODES, mode.field_name: True})

    assert PeerSupporter.objects.get(pk=supporter.pk).modes == [mode]


def test_database_accepts_an_unlisted_supporter_who_meets_in_no_way(valid):
    supporter = create(**{**valid, **NO_MODES, "listed": False})

    assert PeerSupporter.objects.filter(pk=supporter.pk).exists()


def test_full_clean_explains_a_listed_supporter_who_meets_in_no_way(valid):
    errors = validation_errors(**{**valid, **NO_MODES})

    assert errors == {"meets_in_person": ["A listed supporter must offer at least one way to meet."]}


# --- Availability ---------------------------------------------------------------------------------------------


def test_database_rejects_an_unknown_availability(valid):
    assert_rejected_by_database(**{**valid, "availability": "on_holiday"})


@pytest.mark.parametrize("availability", Availability.values)
def test_database_accepts_every_known_availability(valid, availability):
    supporter = create(**{**valid, "availability": availability})

    assert PeerSupporter.objects.get(pk=supporter.pk).availability == availability


def test_full_clean_explains_an_unknown_availability(valid):
    errors = validation_errors(**{**valid, "availability": "on_holiday"})

    assert list(errors) == ["availability"]
    assert "not a valid choice" in errors["availability"][0]


def test_database_rejects_an_end_date_on_an_open_supporter(valid):
    assert_rejected_by_database(**{**valid, "availability": Availability.OPEN, "availability_until": UNTIL})


@pytest.mark.parametrize("availability", [Availability.PAUSED, Availability.FEW_PLACES])
def test_database_accepts_an_end_date_on_a_paused_or_few_places_supporter(valid, availability):
    supporter = create(**{**valid, "availability": availability, "availability_until": UNTIL})

    assert PeerSupporter.objects.get(pk=supporter.pk).availability_until == UNTIL


def test_database_rejects_reopening_a_supporter_without_clearing_the_end_date(make_supporter):
    supporter = make_supporter(availability=Availability.PAUSED, availability_until=UNTIL)

    with pytest.raises(IntegrityError), transaction.atomic():
        PeerSupporter.objects.filter(pk=supporter.pk).update(availability=Availability.OPEN)

    PeerSupporter.objects.filter(pk=supporter.pk).update(availability=Availability.OPEN, availability_until=None)
    assert PeerSupporter.objects.get(pk=supporter.pk).availability == Availability.OPEN


def test_full_clean_explains_an_end_date_on_an_open_supporter(valid):
    errors = validation_errors(**{**valid, "availability": Availability.OPEN, "availability_until": UNTIL})

    assert errors == {"availability_until": ["An end date only applies to “paused” or “few places left”."]}


# --- The note -------------------------------------------------------------------------------------------------


def test_database_rejects_a_note_longer_than_500_characters(valid):
    assert_rejected_by_database(**{**valid, "note": "x" * (NOTE_MAX_LENGTH + 1)})


def test_database_accepts_a_note_of_exactly_500_characters_counting_characters_not_bytes(valid):
    note = "ø" * NOTE_MAX_LENGTH  # 1000 octets in UTF-8, 500 characters

    supporter = create(**{**valid, "note": note})

    assert PeerSupporter.objects.get(pk=supporter.pk).note == note


def test_full_clean_explains_a_note_longer_than_500_characters_on_the_note_field(valid):
    errors = validation_errors(**{**valid, "note": "x" * (NOTE_MAX_LENGTH + 1)})

    assert "note" in errors, errors
    assert any("500" in message for message in errors["note"])


def test_full_clean_accepts_a_note_of_exactly_500_characters(valid):
    PeerSupporter(**{**valid, "note": "ø" * NOTE_MAX_LENGTH}).full_clean()


# --- The phone number -----------------------------------------------------------------------------------------


def test_database_rejects_a_phone_number_stored_without_country_code(make_supporter):
    supporter = make_supporter()
    table = PeerSupporter._meta.db_table

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET phone = %s WHERE id = %s", ["22123456", supporter.pk])

    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET phone = %s WHERE id = %s", ["+4722123456", supporter.pk])
    assert PeerSupporter.objects.get(pk=supporter.pk).phone.as_e164 == "+4722123456"


def test_database_rejects_an_unparseable_phone_saved_without_validation(valid):
    # An invalid number is stored as typed; the database is the last line of defence.
    assert_rejected_by_database(**{**valid, "phone": "22 12 34 5"})


def test_database_rejects_a_phone_that_starts_with_plus_but_is_not_e164(valid):
    # E.164 is "+" and digits only; an invalid number typed with spaces is stored raw by the phone field.
    assert_rejected_by_database(**{**valid, "phone": "+47 12"})


@pytest.mark.parametrize("typed", ["22 12 34 56", "0047 22123456", "+47 22 12 34 56", "22123456"])
def test_full_clean_and_save_normalise_a_norwegian_phone_to_e164(valid, typed):
    supporter = PeerSupporter(**{**valid, "phone": typed})

    supporter.full_clean()
    supporter.save()

    assert supporter.phone.as_e164 == "+4722123456"
    stored = PeerSupporter.objects.filter(pk=supporter.pk).values_list("phone", flat=True).get()
    assert stored == "+4722123456"


def test_full_clean_rejects_an_invalid_phone_number(valid):
    errors = validation_errors(**{**valid, "phone": "22 12 34 5"})

    assert list(errors) == ["phone"]


@pytest.mark.parametrize("typed", ["22 12 34 56", "0047 22123456"])
def test_a_model_form_normalises_the_phone_to_e164(oslo, typed):
    form_class = modelform_factory(
        PeerSupporter,
        fields=["name", "municipality", "phone", "show_phone", "email", "show_email", "meets_by_phone", "listed"],
    )
    form = form_class(
        data={
            "name": "Ola Nordmann",
            "municipality": oslo.pk,
            "phone": typed,
            "show_phone": "on",
            "meets_by_phone": "on",
            "listed": "on",
        }
    )

    assert form.is_valid(), form.errors
    supporter = form.save()
    assert PeerSupporter.objects.filter(pk=supporter.pk).values_list("phone", flat=True).get() == "+4722123456"


def test_a_model_form_refuses_a_listed_supporter_whose_only_contact_is_hidden(oslo):
    form_class = modelform_factory(
        PeerSupporter,
        fields=["name", "municipality", "phone", "show_phone", "email", "show_email", "meets_by_phone", "listed"],
    )
    form = form_class(
        data={"name": "Ola", "municipality": oslo.pk, "phone": "22 12 34 56", "meets_by_phone": "on", "listed": "on"}
    )

    assert not form.is_valid()
    assert form.errors["listed"] == [
        "A listed supporter must show at least one contact method: a phone number or e-mail."
    ]


# --- The custom user model --------------------------------------------------------------------------------------


def test_create_user_makes_an_account_identified_by_email(db):
    User = get_user_model()

    user = User.objects.create_user("Kari@Example.ORG", password="a long passphrase")

    assert User.USERNAME_FIELD == "email"
    assert user.email == "Kari@example.org"  # the domain is normalised to lower case
    assert user.check_password("a long passphrase")
    assert not user.is_staff
    assert not user.is_superuser


def test_create_user_requires_an_email(db):
    with pytest.raises(ValueError, match="e-mail"):
        get_user_model().objects.create_user("", password="a long passphrase")


def test_a_user_authenticates_by_email_in_any_case(db):
    user = get_user_model().objects.create_user("kari@example.org", password="a long passphrase")

    # The brute-force protection needs the request of every login attempt.
    request = RequestFactory().post("/en/accounts/login/")
    assert authenticate(request, email="kari@example.org", password="a long passphrase") == user
    assert authenticate(request, username="KARI@EXAMPLE.ORG", password="a long passphrase") == user
    assert authenticate(request, username="kari@example.org", password="wrong") is None


def test_a_user_logs_in_through_the_login_form_with_email(client, db):
    get_user_model().objects.create_superuser("admin@example.org", password="a long passphrase")

    response = client.post("/en/accounts/login/", {"username": "Admin@Example.org", "password": "a long passphrase"})

    assert response.status_code == 302
    assert response["Location"] == "/en/accounts/"
    assert client.session["_auth_user_id"] == str(get_user_model().objects.get().pk)


def test_database_rejects_an_email_differing_only_in_case(db):
    User = get_user_model()
    User.objects.create_user("kari@example.org", password="a long passphrase")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("KARI@example.org", password="another passphrase")

    assert User.objects.filter(email__iexact="kari@example.org").count() == 1


def test_full_clean_refuses_an_email_differing_only_in_case(db):
    User = get_user_model()
    User.objects.create_user("kari@example.org", password="a long passphrase")

    User(email="ola@example.org").full_clean(exclude=["password"])
    with pytest.raises(ValidationError) as caught:
        User(email="Kari@Example.org").full_clean(exclude=["password"])

    assert "accounts_user_email_ci_unique" in str(caught.value) or "already exists" in str(caught.value)
