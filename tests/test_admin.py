"""The admin: every registered model's pages open, and supporters are added through it under the same rules."""

import datetime
import re

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Invitation
from counties.models import County, Municipality
from directory.models import Availability, Language, PeerSupporter, Specialty
from tallies.models import ClosedMonth, MonthlyTally
from tests.conftest import log_in_verified
from training.models import Attendance, TrainingMeeting

# The admin has no language in its address: it follows the browser's Accept-Language, here English.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_admin")]


NO_PUBLIC_CONTACT = "A listed supporter must show at least one contact method: a phone number or e-mail."
MODEL_LABELS = [
    "accounts.User",
    "accounts.Invitation",
    "otp_totp.TOTPDevice",
    "otp_static.StaticDevice",
    "counties.County",
    "counties.Municipality",
    "directory.Specialty",
    "directory.Language",
    "directory.PeerSupporter",
    "tallies.ClosedMonth",
    "tallies.MonthlyTally",
    "training.TrainingMeeting",
    "training.Attendance",
]


@pytest.fixture
def superuser():
    return get_user_model().objects.create_superuser("admin@example.org", password="a long admin passphrase")


@pytest.fixture
def admin_client(client, superuser):
    return log_in_verified(client, superuser)


@pytest.fixture
def instances(superuser, admin_client, make_supporter):
    """One existing row of every registered model, for its change page."""
    supporter = make_supporter(specialties=["psychiatry"], languages=["nb", "en"])
    meeting = TrainingMeeting.objects.create(date=datetime.date(2025, 9, 1), place="Soria Moria")
    return {
        "accounts.User": superuser,
        "accounts.Invitation": Invitation.issue(user=superuser)[0],
        "otp_totp.TOTPDevice": TOTPDevice.objects.get(user=superuser),
        "otp_static.StaticDevice": StaticDevice.objects.create(user=superuser, name="Recovery codes"),
        "counties.County": County.objects.get(number="46"),
        "counties.Municipality": Municipality.objects.get(name="Bergen"),
        "directory.Specialty": Specialty.objects.get(slug="psychiatry"),
        "directory.Language": Language.objects.get(code="se"),
        "directory.PeerSupporter": supporter,
        "tallies.ClosedMonth": ClosedMonth.objects.create(month=datetime.date(2026, 1, 1)),
        "tallies.MonthlyTally": MonthlyTally.objects.create(
            supporter=supporter, month=datetime.date(2026, 1, 1), phone=2
        ),
        "training.TrainingMeeting": meeting,
        "training.Attendance": Attendance.objects.create(meeting=meeting, supporter=supporter),
    }


def admin_url(model, action, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


def test_the_expected_models_are_registered_in_the_admin():
    assert sorted(model._meta.label for model in admin.site._registry) == sorted(MODEL_LABELS)


@pytest.mark.parametrize("label", MODEL_LABELS)
def test_superuser_can_open_the_changelist_add_and_change_pages(admin_client, instances, label):
    instance = instances[label]
    model = type(instance)

    urls = [admin_url(model, "changelist"), admin_url(model, "change", instance.pk)]
    # Invitations are only made by sending one, which also e-mails the link; second factors only by their person,
    # from an invitation.
    if model not in (Invitation, TOTPDevice, StaticDevice):
        urls.append(admin_url(model, "add"))
    for url in urls:
        response = admin_client.get(url)
        assert response.status_code == 200, url


def test_supporter_changelist_searches_and_filters_by_county(admin_client, make_supporter):
    make_supporter(name="Kari Vestland", municipality="Bergen")
    make_supporter(name="Ola Oslo", municipality="Oslo")
    url = admin_url(PeerSupporter, "changelist")

    by_search = admin_client.get(url, {"q": "Bergen"}).content.decode()
    by_county = admin_client.get(url, {"municipality__county__id__exact": County.objects.get(number="03").pk})

    assert "Kari Vestland" in by_search
    assert "Ola Oslo" not in by_search
    assert by_county.status_code == 200
    assert "Ola Oslo" in by_county.content.decode()
    assert "Kari Vestland" not in by_county.content.decode()


def test_anonymous_visitors_are_sent_to_the_admin_login(client):
    response = client.get(admin_url(PeerSupporter, "changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_supporter_account_without_staff_status_cannot_use_the_admin(client):
    user = get_user_model().objects.create_user("supporter@example.org", password="a long passphrase")
    client.force_login(user)

    response = client.get(admin_url(PeerSupporter, "changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def supporter_form(**overrides):
    data = {
        "name": "Sigrid Hætta",
        "title": "Overlege",
        "specialties": [
            Specialty.objects.get(slug="psychiatry").pk,
            Specialty.objects.get(slug="addiction-medicine").pk,
        ],
        "languages": [Language.objects.get(code="nb").pk, Language.objects.get(code="se").pk],
        "municipality": Municipality.objects.get(name="Alta").pk,
        "town": "Bossekop",
        "phone": "22 12 34 56",
        "show_phone": "on",
        "email": "sigrid@example.org",
        "show_email": "on",
        "meets_in_person": "on",
        "meets_by_video": "on",
        "evenings": "on",
        "note": "Ring gjerne.",
        "availability": Availability.FEW_PLACES,
        "availability_until": "2026-12-31",
        "last_confirmed": "2026-11-01",
        "listed": "on",
        "appointed": "2020-01-01",
        "account": "",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def test_superuser_can_add_a_supporter_with_specialties_and_languages(admin_client):
    response = admin_client.post(admin_url(PeerSupporter, "add"), supporter_form())

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert response["Location"] == admin_url(PeerSupporter, "changelist")
    supporter = PeerSupporter.objects.get(name="Sigrid Hætta")
    assert supporter.county.number == "56"
    assert supporter.town == "Bossekop"
    assert sorted(supporter.specialties.values_list("slug", flat=True)) == ["addiction-medicine", "psychiatry"]
    assert sorted(supporter.languages.values_list("code", flat=True)) == ["nb", "se"]
    assert PeerSupporter.objects.filter(pk=supporter.pk).values_list("phone", flat=True).get() == "+4722123456"
    assert supporter.modes == [PeerSupporter.Mode.IN_PERSON, PeerSupporter.Mode.VIDEO]
    assert (supporter.evenings, supporter.weekends) == (True, False)
    assert supporter.availability == Availability.FEW_PLACES
    assert str(supporter.availability_until) == "2026-12-31"
    assert supporter.search_text == "sigrid haetta overlege bossekop"


def test_a_supporter_added_in_the_admin_appears_on_the_public_profile(admin_client, client):
    admin_client.post(admin_url(PeerSupporter, "add"), supporter_form())
    supporter = PeerSupporter.objects.get(name="Sigrid Hætta")
    admin_client.logout()

    html = client.get(f"/en/supporters/{supporter.pk}/").content.decode()

    assert "Sigrid Hætta" in html
    # A link that calls the number, showing it in the national format (whatever the link's look).
    assert re.search(r'<a [^>]*href="tel:\+4722123456"[^>]*>(?:(?!</a>).)*22 12 34 56</a>', html, re.DOTALL)


@pytest.mark.parametrize(
    "contact",
    [
        {"phone": "", "email": ""},
        {"phone": "", "show_phone": "", "email": "sigrid@example.org", "show_email": ""},
        {"phone": "22 12 34 56", "show_phone": "", "email": ""},
    ],
    ids=["no-contact", "email-hidden", "phone-hidden"],
)
def test_admin_refuses_a_listed_supporter_without_public_contact(admin_client, contact):
    data = {key: value for key, value in supporter_form(**contact).items() if value != ""}

    response = admin_client.post(admin_url(PeerSupporter, "add"), data)

    assert response.status_code == 200
    assert NO_PUBLIC_CONTACT in response.content.decode()
    assert response.context["adminform"].form.errors["listed"] == [NO_PUBLIC_CONTACT]
    assert not PeerSupporter.objects.filter(name="Sigrid Hætta").exists()


def test_admin_accepts_an_unlisted_supporter_without_public_contact(admin_client):
    data = {
        key: value for key, value in supporter_form(phone="", email="", listed="").items() if value not in ("", None)
    }

    response = admin_client.post(admin_url(PeerSupporter, "add"), data)

    assert response.status_code == 302
    assert PeerSupporter.objects.filter(name="Sigrid Hætta", listed=False).exists()


def test_admin_refuses_to_hide_the_last_contact_of_an_existing_supporter(admin_client, make_supporter):
    supporter = make_supporter(name="Sigrid Hætta", email="", phone="+4722123456")
    data = {key: value for key, value in supporter_form(email="", show_phone="").items() if value != ""}

    response = admin_client.post(admin_url(PeerSupporter, "change", supporter.pk), data)

    assert response.status_code == 200
    assert NO_PUBLIC_CONTACT in response.content.decode()
    supporter.refresh_from_db()
    assert supporter.show_phone is True


def test_admin_refuses_a_note_over_500_characters(admin_client):
    response = admin_client.post(admin_url(PeerSupporter, "add"), supporter_form(note="x" * 501))

    assert response.status_code == 200
    assert "note" in response.context["adminform"].form.errors
    assert not PeerSupporter.objects.exists()


def test_superuser_can_add_an_account_identified_by_email_which_gets_an_invitation(admin_client):
    User = get_user_model()

    response = admin_client.post(
        admin_url(User, "add"),
        {"email": "coordinator@example.org", "name": "Coordinator", "language": "en", "_save": "Save"},
    )

    assert response.status_code == 302
    user = User.objects.get(email="coordinator@example.org")
    assert user.name == "Coordinator"
    # No password is chosen for anyone: the person chooses it from the invitation.
    assert not user.has_usable_password()
    assert [message.to for message in mail.outbox] == [["coordinator@example.org"]]


def test_admin_refuses_an_account_whose_email_differs_only_in_case(admin_client):
    User = get_user_model()
    User.objects.create_user("kari@example.org", password="a long and unusual passphrase")

    response = admin_client.post(
        admin_url(User, "add"),
        {
            "email": "Kari@Example.org",
            "name": "Kari again",
            "language": "en",
            "_save": "Save",
        },
    )

    assert response.status_code == 200
    assert "Another account already uses this e-mail address." in response.content.decode()
    assert User.objects.filter(email__iexact="kari@example.org").count() == 1
