"""Who may do what in the admin: every page of every registered model, and every action, for every named role.

The tables below are the expectations. Each registered model must have a row, and each action an entry, so that a
model or action added later without deciding who may use it makes these tests fail.
"""

import datetime
from typing import NamedTuple

import pytest
from django.contrib import admin
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Invitation
from counties.models import County, Municipality
from directory.models import Language, PeerSupporter, Specialty
from tallies.models import ClosedMonth, MonthlyTally
from tests.test_roster_admin import form_data
from training.models import Attendance, TrainingMeeting

pytestmark = pytest.mark.django_db

ROLES = ["oslo_coordinator", "vestland_coordinator", "administrator", "supporter", "anonymous"]
STAFF = frozenset({"oslo_coordinator", "vestland_coordinator", "administrator"})
ADMINISTRATOR = frozenset({"administrator"})
NOBODY = frozenset()

# The counties whose records each role reaches: a coordinator their own, the national administrator all.
REACH = {
    "oslo_coordinator": {"oslo"},
    "vestland_coordinator": {"vestland"},
    "administrator": {"oslo", "vestland"},
    "supporter": set(),
    "anonymous": set(),
}


class Rule(NamedTuple):
    by_county: bool  # Records belong to a county (one Oslo and one Vestland record are tried), or are national.
    view: frozenset
    add: frozenset
    change: frozenset
    delete: frozenset


PERMISSIONS = {
    #                                by_county  view    add            change         delete
    "directory.PeerSupporter": Rule(True, STAFF, STAFF, STAFF, ADMINISTRATOR),
    "training.Attendance": Rule(True, STAFF, STAFF, STAFF, STAFF),
    "tallies.MonthlyTally": Rule(True, STAFF, ADMINISTRATOR, ADMINISTRATOR, ADMINISTRATOR),
    "counties.County": Rule(True, STAFF, ADMINISTRATOR, ADMINISTRATOR, ADMINISTRATOR),
    "counties.Municipality": Rule(True, STAFF, ADMINISTRATOR, ADMINISTRATOR, ADMINISTRATOR),
    "training.TrainingMeeting": Rule(False, STAFF, ADMINISTRATOR, ADMINISTRATOR, ADMINISTRATOR),
    "tallies.ClosedMonth": Rule(False, STAFF, ADMINISTRATOR, ADMINISTRATOR, ADMINISTRATOR),
    "directory.Specialty": Rule(False, STAFF, ADMINISTRATOR, ADMINISTRATOR, ADMINISTRATOR),
    "directory.Language": Rule(False, STAFF, ADMINISTRATOR, ADMINISTRATOR, ADMINISTRATOR),
    "accounts.User": Rule(False, ADMINISTRATOR, ADMINISTRATOR, ADMINISTRATOR, ADMINISTRATOR),
    "accounts.Invitation": Rule(False, ADMINISTRATOR, NOBODY, NOBODY, ADMINISTRATOR),
    # Second factors are seen and removed, never added or changed: staff set up theirs from an invitation.
    "otp_totp.TOTPDevice": Rule(False, ADMINISTRATOR, NOBODY, NOBODY, ADMINISTRATOR),
    "otp_static.StaticDevice": Rule(False, ADMINISTRATOR, NOBODY, NOBODY, ADMINISTRATOR),
}

# The actions of each model besides Django's "delete selected", which goes with the delete permission.
ACTIONS = {
    "directory.PeerSupporter": {
        "list_supporters": STAFF,
        "unlist_supporters": STAFF,
        "record_attendance": STAFF,
        "send_invitation": STAFF,
        "retire": STAFF,
    },
    "accounts.User": {"send_invitation": ADMINISTRATOR, "reset_second_factor": ADMINISTRATOR},
}

# Each admin page, which permission it needs, and how it is asked for. "change" is asked with an empty POST: a user
# allowed to change gets the form back with its errors (200), anyone else is turned away before the form is read.
PAGES = {
    "changelist": "view",
    "add": "add",
    "view": "view",
    "change": "change",
    "delete": "delete",
    "history": "view",
}


@pytest.fixture
def records(roles):
    """One record of every registered model: an Oslo and a Vestland one where records belong to a county."""
    oslo_meeting = TrainingMeeting.objects.create(date=datetime.date(2025, 9, 1), place="Soria Moria")
    month = datetime.date(2026, 1, 1)
    return {
        "directory.PeerSupporter": {"oslo": roles.oslo, "vestland": roles.vestland},
        "training.Attendance": {
            "oslo": Attendance.objects.create(meeting=oslo_meeting, supporter=roles.oslo),
            "vestland": Attendance.objects.create(meeting=oslo_meeting, supporter=roles.vestland),
        },
        "tallies.MonthlyTally": {
            "oslo": MonthlyTally.objects.create(supporter=roles.oslo, month=month, phone=1),
            "vestland": MonthlyTally.objects.create(supporter=roles.vestland, month=month, video=2),
        },
        "counties.County": {"oslo": County.objects.get(number="03"), "vestland": County.objects.get(number="46")},
        "counties.Municipality": {
            "oslo": Municipality.objects.get(name="Oslo"),
            "vestland": Municipality.objects.get(name="Bergen"),
        },
        "training.TrainingMeeting": {"national": oslo_meeting},
        "tallies.ClosedMonth": {"national": ClosedMonth.objects.create(month=month)},
        "directory.Specialty": {"national": Specialty.objects.get(slug="psychiatry")},
        "directory.Language": {"national": Language.objects.get(code="se")},
        "accounts.User": {"national": roles.supporter},
        "accounts.Invitation": {"national": Invitation.issue(user=roles.supporter)[0]},
        "otp_totp.TOTPDevice": {"national": TOTPDevice.objects.get(user=roles.oslo_coordinator)},
        "otp_static.StaticDevice": {"national": StaticDevice.objects.create(user=roles.administrator, name="Codes")},
    }


def admin_url(label, page, obj=None):
    app_label, model_name = label.lower().split(".")
    name = "change" if page == "view" else page
    return reverse(f"admin:{app_label}_{model_name}_{name}", args=[obj.pk] if obj is not None else [])


def may(role, rule, permission, side=None):
    """Whether role may use permission on the record of side (a county's record, or a national one)."""
    allowed = role in getattr(rule, permission)
    if side is None or not rule.by_county:
        return allowed
    return allowed and side in REACH[role]


def outcome(response):
    """'allowed' for a page that opened, 'denied' for a refusal, a redirect to the login or to the admin's index
    (Django's answer for a record outside the user's queryset); anything else is shown as it is."""
    if response.status_code == 200:
        return "allowed"
    if response.status_code in (403, 404):
        return "denied"
    location = response.get("Location", "")
    if response.status_code == 302 and (location.startswith("/admin/login/") or location == reverse("admin:index")):
        return "denied"
    return f"{response.status_code} {location}"


def test_every_registered_model_has_a_permission_rule():
    assert sorted(model._meta.label for model in admin.site._registry) == sorted(PERMISSIONS)


def test_every_action_has_an_expectation():
    for model, model_admin in admin.site._registry.items():
        names = {action.name for action in model_admin._get_base_actions()} - {"delete_selected"}
        assert names == set(ACTIONS.get(model._meta.label, {})), model._meta.label


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("label", PERMISSIONS)
def test_admin_page_permissions(roles, records, label, page):
    rule = PERMISSIONS[label]
    permission = PAGES[page]
    mismatches = []
    for role in ROLES:
        client = roles.clients[role]
        targets = {None: None} if page in ("changelist", "add") else records[label]
        for side, obj in targets.items():
            url = admin_url(label, page, obj)
            response = client.post(url, {}) if page == "change" else client.get(url)
            expected = "allowed" if may(role, rule, permission, side) else "denied"
            if outcome(response) != expected:
                mismatches.append(f"{role} {page} {side or ''}: expected {expected}, got {outcome(response)}")
    assert mismatches == []


@pytest.mark.parametrize("label", PERMISSIONS)
def test_changelist_shows_only_the_records_in_reach(roles, records, label):
    rule = PERMISSIONS[label]
    for role in STAFF & rule.view:
        response = roles.clients[role].get(admin_url(label, "changelist"))
        shown = {obj.pk for obj in response.context["cl"].queryset}
        for side, obj in records[label].items():
            expected = side == "national" or side in REACH[role]
            assert (obj.pk in shown) == expected, f"{role} {side}"
        if rule.by_county and role != "administrator":
            # Nothing of another county at all, not only the records made here.
            other = "vestland" if role == "oslo_coordinator" else "oslo"
            assert records[label][other].pk not in shown


@pytest.mark.parametrize("label", PERMISSIONS)
def test_admin_offers_each_role_exactly_its_actions(roles, records, label):
    rule = PERMISSIONS[label]
    for role in STAFF & rule.view:
        response = roles.clients[role].get(admin_url(label, "changelist"))
        action_form = response.context["action_form"]
        offered = {name for name, _ in action_form.fields["action"].choices if name} if action_form else set()
        expected = {name for name, who in ACTIONS.get(label, {}).items() if role in who}
        if role in rule.delete:
            expected.add("delete_selected")
        assert offered == expected, role


class SupporterAction(NamedTuple):
    setup: dict  # Fields set on the supporter first, so the action has something to change.
    post: dict  # Further form fields the action needs.
    done: callable  # Whether the action took effect on the supporter.


def attended(supporter):
    return Attendance.objects.filter(supporter=supporter).exists()


SUPPORTER_ACTIONS = {
    "list_supporters": SupporterAction({"listed": False}, {}, lambda s: PeerSupporter.objects.get(pk=s.pk).listed),
    "unlist_supporters": SupporterAction({}, {}, lambda s: not PeerSupporter.objects.get(pk=s.pk).listed),
    "retire": SupporterAction({}, {}, lambda s: not PeerSupporter.objects.get(pk=s.pk).listed),
    "send_invitation": SupporterAction(
        {}, {}, lambda s: Invitation.objects.filter(user__email__iexact=s.email).exists()
    ),
    "record_attendance": SupporterAction({}, {"apply": "Record attendance"}, attended),
    "delete_selected": SupporterAction(
        {}, {"post": "yes"}, lambda s: not PeerSupporter.objects.filter(pk=s.pk).exists()
    ),
}


@pytest.mark.parametrize("side", ["oslo", "vestland"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", SUPPORTER_ACTIONS)
def test_supporter_actions_reach_only_supporters_in_scope(roles, role, action, side):
    """A POST naming a supporter outside the user's counties changes nothing, whatever the action."""
    spec = SUPPORTER_ACTIONS[action]
    supporter = getattr(roles, side)
    PeerSupporter.objects.filter(pk=supporter.pk).update(**spec.setup)
    post = dict(spec.post)
    if action == "record_attendance":
        post["meeting"] = TrainingMeeting.objects.create(date=datetime.date(2026, 9, 1), place="Gardermoen").pk
    who = ADMINISTRATOR if action == "delete_selected" else ACTIONS["directory.PeerSupporter"][action]

    roles.clients[role].post(
        admin_url("directory.PeerSupporter", "changelist"),
        {"action": action, "_selected_action": [supporter.pk], **post},
    )

    expected = role in who and side in REACH[role]
    assert spec.done(supporter) == expected


@pytest.mark.parametrize(
    ("role", "moved"),
    [("oslo_coordinator", False), ("vestland_coordinator", False), ("administrator", True)],
)
def test_only_the_administrator_moves_a_supporter_into_another_county(roles, role, moved):
    client = roles.clients[role]
    bergen = Municipality.objects.get(name="Bergen")
    url = admin_url("directory.PeerSupporter", "change", roles.oslo)
    page = client.get(url)

    if page.status_code == 200:
        client.post(url, form_data(page, municipality=bergen.pk))
    else:
        # The Vestland coordinator cannot even open the form: try a crafted POST.
        client.post(url, {"name": roles.oslo.name, "municipality": bergen.pk, "_save": "Save"})

    roles.oslo.refresh_from_db()
    assert (roles.oslo.municipality == bergen) is moved
