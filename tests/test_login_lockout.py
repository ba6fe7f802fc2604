"""The lockout after failed logins holds for every spelling of an address, and its counters tell nothing without the
secret key."""

import hashlib

import pytest
from axes.handlers.proxy import AxesProxyHandler
from django.core.cache import caches
from django.core.management import call_command
from django.test import Client

from accounts.security import login_name, network_of

pytestmark = pytest.mark.django_db

PASSWORD = "a long and unusual passphrase"


def fullwidth(text):
    """The text in Unicode's full-width compatibility forms, which NFKC folds back."""
    return "".join(chr(ord(character) + 0xFEE0) if "!" <= character <= "~" else character for character in text)


HOSPITAL = "198.51.100.7"

# Spellings of lock2@example.org that login accepts for that account: letter case, outer spaces, Unicode
# compatibility forms (full-width letters, digits, at sign and full stop).
SPELLINGS = [
    "lock2@example.org",
    "Lock2@example.org",
    "LOCK2@EXAMPLE.ORG",
    "lOcK2@ExAmPlE.oRg",
    "  lock2@example.org ",
    "\tLock2@Example.org\n",
    fullwidth("lock2@example.org"),
    fullwidth("Lock") + "2@example.ORG",
]


@pytest.fixture
def account(django_user_model):
    return django_user_model.objects.create_user("lock2@example.org", password=PASSWORD)


def log_in(email, password=PASSWORD, address=HOSPITAL, client=None):
    client = client or Client()
    return client.post("/en/accounts/login/", {"username": email, "password": password}, REMOTE_ADDR=address)


def axes_keys():
    return list(caches["axes"]._cache.keys())


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_each_spelling_logs_in_to_the_account(account, spelling):
    # What the lockout must fold together: every one of these reaches the account.
    response = log_in(spelling)
    assert response.status_code == 302
    assert response.wsgi_request.user == account


def test_failures_in_any_spelling_lock_every_spelling(account):
    for spelling in SPELLINGS[1:5]:
        assert log_in(spelling, "wrong").status_code == 200
    assert log_in(SPELLINGS[5], "wrong").status_code == 429  # the fifth failure locks

    for spelling in SPELLINGS:
        locked = log_in(spelling)  # the right password, in any spelling
        assert locked.status_code == 429, spelling
        assert "_auth_user_id" not in locked.wsgi_request.session


def test_further_failures_in_new_spellings_stay_locked(account):
    for _ in range(5):
        log_in("lock2@example.org", "wrong")

    for spelling in SPELLINGS:
        assert log_in(spelling, "wrong").status_code == 429, spelling


def test_four_failures_in_mixed_spellings_do_not_lock(account):
    for spelling in SPELLINGS[1:5]:
        log_in(spelling, "wrong")

    assert log_in(SPELLINGS[-1]).status_code == 302


def test_other_accounts_and_other_addresses_are_not_locked(account, django_user_model):
    django_user_model.objects.create_user("lock3@example.org", password=PASSWORD)
    for _ in range(5):
        log_in("LOCK2@example.org", "wrong")

    assert log_in("lock3@example.org").status_code == 302
    assert log_in("Lock2@example.org", address="192.0.2.44").status_code == 302


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("Kari@Example.org", "kari@example.org"),
        (" kari@example.org\t", "kari@example.org"),
        (fullwidth("kari@example.org"), "kari@example.org"),
        ("Øyvind@example.org", "øyvind@example.org"),
        ("ØYVIND@example.org", "øyvind@example.org"),
        ("straße@example.org", "strasse@example.org"),
        ("l\u0131@example.org", "li@example.org"),  # dotless i
        ("\u017ft@example.org", "st@example.org"),  # long s
        ("\u212a@example.org", "k@example.org"),  # Kelvin sign
    ],
)
def test_login_names_fold_case_spaces_and_compatibility_forms(typed, folded):
    assert login_name(typed) == login_name(folded) == folded


# The address half of the key


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe"),
        ("2001:DB8:1:2::1", "2001:db8:1:2:0:0:0:1"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        # With a port, as some proxies write X-Forwarded-For.
        ("198.51.100.7:40001", "198.51.100.7:40002"),
        ("[2001:db8:1:2::1]:443", "2001:db8:1:2::7"),
    ],
)
def test_one_visitors_addresses_count_as_one(account, first, second):
    for _ in range(5):
        log_in("lock2@example.org", "wrong", address=first)

    assert log_in("lock2@example.org", address=second).status_code == 429


def test_another_ipv6_network_is_not_locked(account):
    for _ in range(5):
        log_in("lock2@example.org", "wrong", address="2001:db8:1:2::1")

    assert log_in("lock2@example.org", address="2001:db8:1:3::1").status_code == 302


def test_an_address_that_does_not_parse_is_counted_as_it_is():
    assert network_of("not an address") == "not an address"
    assert network_of("198.51.100.7") == "198.51.100.7"


# What the counters keep


def test_failure_counters_hold_neither_address_nor_a_plain_hash_of_them(account):
    for _ in range(3):
        log_in("Lock2@example.org", "wrong")

    stored = repr(caches["axes"]._cache) + repr(axes_keys())
    assert axes_keys(), "failures should be counted in the axes cache"
    for spelling in ["lock2@example.org", "Lock2@example.org"]:
        plain = hashlib.sha256((spelling + HOSPITAL).encode()).hexdigest()
        assert plain not in stored
        assert spelling not in stored
    assert HOSPITAL not in stored


def test_failure_counters_are_keyed_by_the_secret_key(account, settings):
    log_in("lock2@example.org", "wrong")
    under_first_key = set(axes_keys())
    caches["axes"].clear()

    settings.SECRET_KEY = "another secret key, as another deployment has"
    log_in("lock2@example.org", "wrong")
    under_second_key = set(axes_keys())

    assert under_first_key
    assert under_second_key
    assert under_first_key.isdisjoint(under_second_key)


# The counters as production keeps them without Redis: a table in the database


@pytest.fixture
def counters_in_the_database(settings):
    from config.settings import COUNTER_CACHE

    settings.CACHES = {
        **settings.CACHES,
        "axes": COUNTER_CACHE,
        "limits": {**COUNTER_CACHE, "KEY_PREFIX": "limits"},
    }
    # What migration accounts/0003 makes where production settings are in force.
    call_command("createcachetable", verbosity=0)
    # django-axes keeps the cache it first used: it is to count in the table now, and in the tests' own cache after.
    AxesProxyHandler.get_implementation(force=True)
    assert type(AxesProxyHandler.get_implementation().cache).__name__ == "DatabaseCache"
    yield
    caches["axes"].clear()
    AxesProxyHandler.implementation = None


def test_a_flood_of_other_entries_does_not_wipe_a_lockout(account, counters_in_the_database):
    for _ in range(5):
        log_in("lock2@example.org", "wrong")
    assert log_in("lock2@example.org").status_code == 429

    # Far more entries than a cache keeps by default (300), each sorting after the lockout's own key.
    for number in range(400):
        caches["limits"].set(f"other-{number}", 1)
        caches["axes"].set(f"zz-other-{number}", 1)

    assert log_in("lock2@example.org").status_code == 429


def test_behind_the_proxy_a_port_after_the_address_does_not_make_a_new_visitor(account):
    def through_proxy(forwarded, password):
        return Client().post(
            "/en/accounts/login/",
            {"username": "lock2@example.org", "password": password},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    for port in range(40000, 40005):
        through_proxy(f"203.0.113.7:{port}", "wrong")

    assert through_proxy("203.0.113.7:41000", PASSWORD).status_code == 429
    assert through_proxy("203.0.113.8:41000", PASSWORD).status_code == 302


@pytest.mark.parametrize("length", [255, 50_001, 200_000])
def test_an_address_longer_than_any_account_has_is_refused_plainly(account, length):
    response = log_in("a" * (length - len("@example.org")) + "@example.org")

    assert response.status_code == 200
    assert "Ensure this value has at most 254 characters" in response.content.decode()


def later(monkeypatch, minutes):
    """The database cache reads its entries as if so many minutes had passed."""
    import datetime

    from django.utils import timezone

    moment = timezone.now() + datetime.timedelta(minutes=minutes)
    monkeypatch.setattr("django.core.cache.backends.db.tz_now", lambda: moment)


def test_a_lockout_in_the_database_lasts_its_fifteen_minutes(account, counters_in_the_database, monkeypatch):
    for _ in range(6):  # the sixth is refused while locked, and counted again
        log_in("lock2@example.org", "wrong")

    later(monkeypatch, 6)
    assert log_in("lock2@example.org").status_code == 429
    later(monkeypatch, 16)
    assert log_in("lock2@example.org").status_code == 302
