"""The authorization map: every address of the site, and who may open it.

Each URL pattern, from the root URLconf down through every include (the language-prefixed pages, the admin, the
open data API), is in exactly one of the lists below: PUBLIC (visitors, with the privacy promise), LOGIN_REQUIRED
(a supporter's own pages and the account pages) or STAFF (the staff pages and the whole admin). An address added
later without that decision makes test_every_url_pattern_is_in_exactly_one_list fail, naming it.
"""

import re
from typing import NamedTuple
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver, resolve, reverse
from django.urls.resolvers import RoutePattern
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import Invitation
from tests.conftest import log_in_verified
from tests.test_permissions import records  # noqa: F401 (a fixture: one record of every model in the admin)
from tests.test_privacy import WRITES, assert_privacy_headers, visit
from tests.test_staff_dashboard import export_url

pytestmark = pytest.mark.django_db


class Pattern(NamedTuple):
    key: str  # "namespace:name", or "namespace:route" for a pattern without a name
    route: str  # the whole route from the root, for messages
    namespace: str
    prefix: str  # the route of the includes above the pattern
    entry: object  # the URLPattern itself


def walk(entries, prefix="", namespace=""):
    for entry in entries:
        if isinstance(entry, URLResolver):
            inner = ":".join(filter(None, [namespace, entry.namespace]))
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        else:
            route = prefix + str(entry.pattern)
            key = ":".join(filter(None, [namespace, entry.name or route]))
            yield Pattern(key, route, namespace, prefix, entry)


with translation.override("en"):
    PATTERNS = list(walk(get_resolver().url_patterns))


# 1. Visitors. Each is fetched anonymously: the status below, no cookie, no-store, nothing written to the database.
class Public(NamedTuple):
    status: int = 200
    # The doors into the logged-in area carry a form, so they set the CSRF cookie that the privacy page names; the
    # session cookie never. Every page of the directory itself sets no cookie at all.
    cookies: frozenset = frozenset()


CSRF_COOKIE = frozenset({settings.CSRF_COOKIE_NAME})

PUBLIC = {
    "healthz": Public(),
    "api:roster": Public(),
    "directory:home": Public(),
    "directory:search": Public(),
    "directory:county": Public(),
    "directory:supporter": Public(),
    "directory:supporter_vcard": Public(),
    "directory:about": Public(),
    "directory:privacy": Public(),
    "directory:accessibility": Public(),
    "directory:open_data": Public(),
    "accounts:login": Public(cookies=CSRF_COOKIE),
    "accounts:password_reset": Public(cookies=CSRF_COOKIE),
    "accounts:password_reset_done": Public(),
    # A link that is not (or no longer) valid: a valid one puts its token in a session, which is the logged-in area.
    "accounts:password_reset_confirm": Public(),
    "accounts:password_reset_complete": Public(),
    "accounts:invitation": Public(cookies=CSRF_COOKIE),
}

# 2. Logged-in people: a visitor is sent to the login page (or gets a 404), never a page.
LOGIN_REQUIRED = {
    "accounts:home",
    "accounts:logout",
    "accounts:password_change",
    "accounts:password_change_done",
    "accounts:two_factor",
    "accounts:two_factor_setup",
    "accounts:two_factor_verify",
    "accounts:recovery_codes",
    "directory:my_listing",
    "directory:my_listing_confirm",
    "tallies:index",
    "tallies:edit",
}

# 3. Staff: the staff pages, and every address of the admin ("admin:*"), however it was added.
STAFF = {
    "staff:dashboard",
    "staff:coverage",
    "staff:statistics",
    "staff:export",
    "staff:close_month",
    "admin:*",
}

LISTS = {"PUBLIC": set(PUBLIC), "LOGIN_REQUIRED": LOGIN_REQUIRED, "STAFF": STAFF}

# What a visitor gets instead of a redirect to the login page, where that is not the answer.
VISITOR_ANSWERS = {
    "accounts:logout": 405,  # Logging out is a POST; a GET shows nothing, to anyone.
}


# Addresses that take only a POST: a supporter's visit to them is a POST.
POST_ONLY = {"accounts:logout", "directory:my_listing_confirm"}


def lists_of(pattern):
    return [name for name, keys in LISTS.items() if pattern.key in keys or f"{pattern.namespace}:*" in keys]


def test_every_url_pattern_is_in_exactly_one_list():
    problems = [f"{p.key} ({p.route}) is in {lists_of(p) or 'no list'}" for p in PATTERNS if len(lists_of(p)) != 1]

    assert problems == [], "Decide who may open each address (PUBLIC, LOGIN_REQUIRED or STAFF):\n" + "\n".join(problems)


def test_every_listed_name_is_a_url_pattern():
    known = {p.key for p in PATTERNS} | {f"{p.namespace}:*" for p in PATTERNS}
    for name, keys in LISTS.items():
        assert keys - known == set(), f"{name} lists addresses that no longer exist"
    assert set(VISITOR_ANSWERS) | POST_ONLY <= LOGIN_REQUIRED


def test_the_walk_reaches_every_part_of_the_site():
    namespaces = {p.namespace for p in PATTERNS}
    assert {"", "admin", "api", "accounts", "directory", "tallies", "staff"} <= namespaces
    assert len([p for p in PATTERNS if p.namespace == "admin"]) > 50


# The values for the arguments in the addresses.


@pytest.fixture
def world(roles):
    """The named people of conftest's roles, an invitation waiting to be accepted, and this month."""
    invited = type(roles.supporter).objects.create_user("invited@example.org")
    _invitation, token = Invitation.issue(user=invited)
    roles.invitation_token = token
    roles.month = timezone.localdate().replace(day=1)
    return roles


ARGUMENTS = {
    "directory:county": lambda world: {"number": "46"},
    "directory:supporter": lambda world: {"pk": world.vestland.pk},
    "directory:supporter_vcard": lambda world: {"pk": world.vestland.pk},
    "accounts:password_reset_confirm": lambda world: {
        "uidb64": urlsafe_base64_encode(force_bytes(world.supporter.pk)),
        "token": "not-a-valid-token",
    },
    "accounts:invitation": lambda world: {"token": world.invitation_token},
    "tallies:edit": lambda world: {"year": world.month.year, "month": world.month.month},
}


def address(key, world):
    """The English address of the page (a request leaves its own language active, so it is named here)."""
    with translation.override("en"):
        if key == "staff:export":
            return export_url()
        return reverse(key, kwargs=ARGUMENTS.get(key, lambda world: {})(world))


def login_paths():
    """The login page in every language, and the admin's login address (which sends on to it)."""
    paths = {reverse("admin:login")}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            paths.add(reverse("accounts:login"))
    return paths


def turned_away(client, path, allowed=(404,), login_refuses=True):
    """None when the client is refused: a status in allowed, or sent to a login page (following at most two
    redirects within the site first, as the admin's logout address sends to its index, which sends to the login).
    Otherwise a description of what it got. Someone already logged in is refused only by a status (login_refuses
    False): the login page would send them on, and round again."""
    logins = login_paths()
    response = client.get(path)
    for _hop in range(3):
        if response.status_code in allowed:
            return None
        if response.status_code not in (301, 302):
            break
        location = urlsplit(response["Location"])
        if location.netloc:
            break
        if location.path in logins and login_refuses:
            return None
        response = client.get(response["Location"])
    return f"{response.status_code} {response.get('Location', '')}"


# 1. PUBLIC


@pytest.mark.parametrize("key", sorted(PUBLIC))
def test_public_address_keeps_the_privacy_promise(world, key):
    expected = PUBLIC[key]
    path = address(key, world)
    client = Client(enforce_csrf_checks=True)

    with CaptureQueriesContext(connection) as queries:
        response = visit(client, "get", path, {})

    assert response.status_code == expected.status, f"{key} ({path}): a visitor got {response.status_code}"
    assert [query["sql"] for query in queries if WRITES.match(query["sql"])] == [], path
    assert set(response.cookies) <= expected.cookies, (path, response.cookies)
    assert settings.SESSION_COOKIE_NAME not in response.cookies, path
    if not expected.cookies:
        assert "Set-Cookie" not in response.headers, path
    assert "no-store" in response.headers["Cache-Control"], path
    assert_privacy_headers(response, path)


# 2. LOGIN_REQUIRED


@pytest.mark.parametrize("key", sorted(LOGIN_REQUIRED))
def test_logged_in_address_turns_visitors_away(world, key):
    path = address(key, world)
    client = Client()

    with CaptureQueriesContext(connection) as queries:
        problem = turned_away(client, path, allowed=(404, VISITOR_ANSWERS.get(key, 404)))

    assert problem is None, f"{key} ({path}): a visitor got {problem}"
    assert [query["sql"] for query in queries if WRITES.match(query["sql"])] == [], path
    assert not client.cookies, path


@pytest.mark.parametrize("key", sorted(LOGIN_REQUIRED))
def test_logged_in_address_opens_for_its_supporter(world, key):
    """The arguments above are real: the supporter who owns a listing is not sent to log in, nor told 404."""
    path = address(key, world)
    client = world.clients["supporter"]

    response = client.post(path) if key in POST_ONLY else client.get(path)

    assert response.status_code in (200, 302), (path, response.status_code)
    assert urlsplit(response.get("Location", "")).path not in login_paths(), path


# 3. STAFF: the staff pages


STAFF_PAGES = sorted(key for key in STAFF if not key.endswith(":*"))


@pytest.mark.parametrize("key", STAFF_PAGES)
def test_staff_page_turns_visitors_and_supporters_away(world, key):
    path = address(key, world)
    supporter = log_in_verified(Client(), world.supporter)

    assert turned_away(Client(), path) is None, f"{key} ({path}): a visitor was let in"
    assert turned_away(supporter, path, allowed=(403, 404)) is None, f"{key} ({path}): a supporter was let in"


@pytest.mark.parametrize("key", STAFF_PAGES)
def test_staff_page_opens_for_a_verified_administrator(world, key):
    path = address(key, world)

    response = world.clients["administrator"].get(path)

    assert response.status_code == 200, (path, response.status_code)


# 3. STAFF: every admin address, with its arguments filled from a record of its model


ADMIN_PATTERNS = [p for p in PATTERNS if p.namespace == "admin"]


def admin_model(pattern):
    """The model whose admin added the pattern, from the address it is included under (admin/<app>/<model>/)."""
    match = re.fullmatch(r"admin/(\w+)/(\w+)/", pattern.prefix)
    return apps.get_model(*match.groups()) if match else None


def admin_arguments(pattern, by_model):
    """Positional and keyword arguments for the pattern, from a record of its model (or the roster's first)."""
    model = admin_model(pattern)
    label = model._meta.label if model else "directory.PeerSupporter"
    assert label in by_model, f"{pattern.key}: no record of {label} to fill its address (tests/test_permissions.py)"
    record = next(iter(by_model[label].values()))
    history = record.history.first() if hasattr(record, "history") else None
    values = {
        "object_id": record.pk,
        "id": record.pk,
        "pk": record.pk,
        "content_type_id": ContentType.objects.get_for_model(record).pk,
        "app_label": record._meta.app_label,
        "url": "no-such-admin-page/",
    }
    regex = pattern.entry.pattern.regex
    names = list(regex.groupindex)
    if names:
        return [], {name: values[name] for name in names}
    # simple_history's page of one past version: (record, version), unnamed.
    return [record.pk, history.history_id if history else 1][: regex.groups], {}


def admin_address(pattern, by_model):
    """The address of the pattern with its arguments filled from by_model (the records fixture)."""
    args, kwargs = admin_arguments(pattern, by_model)
    if pattern.entry.name:
        path = reverse(f"admin:{pattern.entry.name}", args=args, kwargs=kwargs)
    else:
        # Without a name there is no reverse(): write the arguments into the route (or the regular expression).
        route = str(pattern.entry.pattern)
        if isinstance(pattern.entry.pattern, RoutePattern):
            route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m.group(1)]), route)
        else:
            route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(kwargs[m.group(1)]), route).strip("^$")
        path = "/" + pattern.prefix + route
    assert resolve(path).func is pattern.entry.callback, f"{pattern.key}: {path} reaches another view"
    return path


def test_every_admin_address_turns_visitors_and_supporters_away(world, records):  # noqa: F811
    supporter = log_in_verified(Client(), world.supporter)
    # A supporter who has no second factor is logged in without one: refused as plainly.
    world.vestland.account = type(world.supporter).objects.create_user("vera@example.org")
    world.vestland.save()
    supporter_without_factor = Client()
    supporter_without_factor.force_login(world.vestland.account)
    mismatches = []
    for pattern in ADMIN_PATTERNS:
        path = admin_address(pattern, records)
        visitor = Client()
        with CaptureQueriesContext(connection) as queries:
            problem = turned_away(visitor, path)
        if problem:
            mismatches.append(f"{pattern.key} ({path}): a visitor got {problem}")
        if [query["sql"] for query in queries if WRITES.match(query["sql"])] or visitor.cookies:
            mismatches.append(f"{pattern.key} ({path}): a visitor left a trace")
        problem = turned_away(supporter, path, allowed=(403, 404), login_refuses=False)
        if problem:
            mismatches.append(f"{pattern.key} ({path}): a supporter got {problem}")
        problem = turned_away(supporter_without_factor, path, allowed=(403, 404), login_refuses=False)
        if problem:
            mismatches.append(f"{pattern.key} ({path}): a supporter without a second factor got {problem}")

    assert mismatches == [], "\n".join(mismatches)


def test_the_admin_opens_for_a_verified_administrator(world, records):  # noqa: F811
    """The admin's own rules, model by model and role by role, are in tests/test_permissions.py: here its index,
    each app's page and one record's page."""
    client = world.clients["administrator"]
    app_labels = {model._meta.app_label for model in admin.site._registry}
    paths = [reverse("admin:index"), reverse("admin:directory_peersupporter_change", args=[world.oslo.pk])]
    paths += [reverse("admin:app_list", kwargs={"app_label": label}) for label in sorted(app_labels)]

    for path in paths:
        assert client.get(path).status_code == 200, path


def test_every_admin_address_can_be_filled(records):  # noqa: F811
    """Every admin pattern is exercised above: none is skipped for want of arguments."""
    paths = [admin_address(pattern, records) for pattern in ADMIN_PATTERNS]

    assert len(set(paths)) == len(ADMIN_PATTERNS)


def test_a_supporter_in_the_admin_is_refused_not_sent_round_in_circles(world):
    """The admin sends those it does not let in to the login page, which sends someone already logged in back."""
    supporter = log_in_verified(Client(), world.supporter)

    response = supporter.get(reverse("admin:index"), follow=True)

    assert response.status_code == 403
    assert len(response.redirect_chain) <= 2
