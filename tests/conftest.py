"""Small factories shared by the tests: counties, municipalities, specialties and languages come from the seed."""

import datetime
import itertools
import re
import smtplib

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.utils import translation

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


@pytest.fixture(autouse=True)
def english():
    """Tests read the English pages (/en/...) unless they ask for another language."""
    with translation.override("en"):
        yield


@pytest.fixture
def english_admin(monkeypatch):
    """Clients ask for English, as the admin (which has no language in its address) follows Accept-Language."""
    init = Client.__init__

    def english_client(self, *args, **defaults):
        defaults.setdefault("HTTP_ACCEPT_LANGUAGE", "en")
        init(self, *args, **defaults)

    monkeypatch.setattr(Client, "__init__", english_client)


@pytest.fixture
def today():
    return datetime.date(2026, 11, 26)


def current_code(device):
    """The code an authenticator app with this device's secret shows now."""
    from django_otp.oath import totp

    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def invitation_link(message):
    """The path of the invitation link in an e-mail."""
    return re.search(r"https?://[^/\s]+(/(?:nb|en)/accounts/invitation/[^/\s]+/)", message.body)[1]


class FailingMailServer(BaseEmailBackend):
    """settings.MAILERS = {"default": {"BACKEND": "tests.conftest.FailingMailServer"}}: a mail server that went away."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("the mail server went away")


def log_in_verified(client, user):
    """Log user in as if they had also given their second factor (setting one up first if they have none)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    device = device or TOTPDevice.objects.create(user=user, name="Test app", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def staff_client(client, django_user_model):
    """A client logged in as a superuser who has given their second factor."""
    admin = django_user_model.objects.create_superuser("admin@example.org", password="a long admin passphrase")
    return log_in_verified(client, admin)


@pytest.fixture(autouse=True)
def fresh_caches():
    """Every test starts with empty caches: no failed logins or cached pages carried over."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()


@pytest.fixture
def roles(db, make_supporter, django_user_model):
    """The named people of the permission tests, each with a logged-in client (second factor given for staff).

    oslo_coordinator and vestland_coordinator maintain one county each; administrator sees every county;
    supporter owns the Oslo listing; anonymous is a visitor. oslo and vestland are one supporter in each county.
    """
    from types import SimpleNamespace

    from counties.models import County

    oslo = make_supporter(name="Olga Oslo", municipality="Oslo", email="olga@example.org")
    vestland = make_supporter(name="Vera Vestland", municipality="Bergen", email="vera@example.org")
    oslo_coordinator = django_user_model.objects.create_user("oslo.coord@example.org", role="coordinator")
    oslo_coordinator.counties.set([County.objects.get(number="03")])
    vestland_coordinator = django_user_model.objects.create_user("vestland.coord@example.org", role="coordinator")
    vestland_coordinator.counties.set([County.objects.get(number="46")])
    administrator = django_user_model.objects.create_user("admin.national@example.org", role="administrator")
    supporter_user = django_user_model.objects.create_user("olga@example.org")
    oslo.account = supporter_user
    oslo.save()

    supporter_client = Client()
    supporter_client.force_login(supporter_user)
    return SimpleNamespace(
        oslo=oslo,
        vestland=vestland,
        oslo_coordinator=oslo_coordinator,
        vestland_coordinator=vestland_coordinator,
        administrator=administrator,
        supporter=supporter_user,
        clients={
            "oslo_coordinator": log_in_verified(Client(), oslo_coordinator),
            "vestland_coordinator": log_in_verified(Client(), vestland_coordinator),
            "administrator": log_in_verified(Client(), administrator),
            "supporter": supporter_client,
            "anonymous": Client(),
        },
    )
