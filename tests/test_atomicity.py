"""A bulk action or an import that fails half-way changes nothing, and staff are told so instead of a server error.

The failures are real: a trigger installed in the test database refuses one row (the second of three), the way a
constraint, a lock or a full disk would, or makes the commit itself fail. Each trigger is dropped after its test.
"""

import datetime

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.models import DELETION, LogEntry
from django.db import connection
from django.urls import reverse

from accounts.admin_actions import AllOrNothingActionsMixin
from accounts.models import Invitation, User
from counties.models import Municipality
from directory.models import PeerSupporter
from tallies.models import MonthlyTally
from tests.test_roster_import import admin_url, csv_file, new_row, post_import
from training.models import Attendance, TrainingMeeting

# The admin has no language in its address: it follows the browser's Accept-Language, here English.
pytestmark = pytest.mark.usefixtures("english_admin")

CHANGELIST = reverse("admin:directory_peersupporter_changelist")
FAULT = "fault injected by the test"
NOTHING_CHANGED = "Nothing was changed: the database refused"


@pytest.fixture
def fault():
    """install(table, event, condition): the database refuses the statement that writes a row matching condition.

    condition is SQL on NEW (or OLD, for DELETE). With commit=True nothing is refused at once: the matching row gets an
    attendance at a meeting that does not exist, so the foreign key check, which waits for the commit, fails there.
    """
    installed = []

    def install(table, event, condition, *, commit=False):
        name = f"test_fault_{len(installed)}"
        timing = "AFTER" if commit else "BEFORE"
        if commit:
            body = "INSERT INTO training_attendance (meeting_id, supporter_id) VALUES (999999, NEW.id);"
        elif connection.vendor == "sqlite":
            body = f"SELECT RAISE(ABORT, '{FAULT}');"
        else:
            body = f"RAISE EXCEPTION '{FAULT}';"
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(f"CREATE TRIGGER {name} {timing} {event} ON {table} WHEN {condition} BEGIN {body} END")
            else:
                cursor.execute(
                    f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$"
                )
                cursor.execute(
                    f"CREATE TRIGGER {name} {timing} {event} ON {table} FOR EACH ROW WHEN ({condition}) "
                    f"EXECUTE FUNCTION {name}()"
                )
        installed.append((name, table))

    yield install
    with connection.cursor() as cursor:
        for name, table in installed:
            if connection.vendor == "sqlite":
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                cursor.execute(f"DROP FUNCTION IF EXISTS {name}()")


def messages_of(response):
    return [(message.level_tag, str(message)) for message in response.context["messages"]]


def run_action(client, action, rows, url=CHANGELIST, **extra):
    """Post the action as the changelist does, then follow to the page that shows its messages."""
    data = {"action": action, "_selected_action": [row.pk for row in rows], **extra}
    response = client.post(url, data)
    assert response.status_code == 302
    return client.get(response["Location"])


@pytest.fixture
def three(make_supporter, django_user_model):
    """Three Oslo supporters with accounts; the database will refuse the second."""
    supporters = []
    for name in ("Anne", "Bjorn", "Cecilie"):
        account = django_user_model.objects.create_user(f"{name.lower()}@example.org")
        supporters.append(make_supporter(name=name, email=account.email, account=account))
    return supporters


def roster_state(supporters):
    """Everything an action on these supporters could change, for before-and-after comparisons."""
    return [
        (
            supporter.name,
            supporter.listed,
            supporter.account.is_active,
            supporter.history.count(),
            list(Attendance.objects.filter(supporter=supporter).values_list("meeting_id", flat=True)),
            list(Invitation.objects.filter(user=supporter.account).values_list("used_at", flat=True)),
        )
        for supporter in PeerSupporter.objects.filter(pk__in=[s.pk for s in supporters]).select_related("account")
    ]


# Bulk actions on the roster


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("action", "listed", "table", "event", "column"),
    [
        pytest.param("list_supporters", False, "directory_peersupporter", "UPDATE", "NEW.id", id="list"),
        pytest.param("unlist_supporters", True, "directory_peersupporter", "UPDATE", "NEW.id", id="unlist"),
        pytest.param("record_attendance", True, "training_attendance", "INSERT", "NEW.supporter_id", id="attendance"),
        pytest.param("retire", True, "directory_peersupporter", "UPDATE", "NEW.id", id="retire"),
        # The second supporter is unlisted, and then their account cannot be deactivated.
        pytest.param("retire", True, "accounts_user", "UPDATE", "NEW.id", id="retire-at-the-account"),
    ],
)
def test_a_bulk_action_the_database_refuses_half_way_changes_no_selected_supporter(
    roles, three, fault, action, listed, table, event, column
):
    PeerSupporter.objects.filter(pk__in=[s.pk for s in three]).update(listed=listed)
    meeting = TrainingMeeting.objects.create(date=datetime.date(2026, 9, 1), place="Soria Moria")
    second = three[1].account_id if table == "accounts_user" else three[1].pk
    before = roster_state(three)
    fault(table, event, f"{column} = {second}")

    page = run_action(roles.clients["oslo_coordinator"], action, three, meeting=meeting.pk, apply="1")

    assert roster_state(three) == before
    [(level, message)] = messages_of(page)
    assert level == "error"
    assert message.startswith(f"{NOTHING_CHANGED} “")
    assert f"({FAULT})" in message
    assert message.endswith(
        "so it was undone for every selected row. Try again; if it fails again, tell whoever runs the site."
    )


@pytest.mark.django_db
def test_without_a_fault_the_same_actions_change_every_selected_supporter(roles, three):
    """The other side of the test above: the actions do change all three when nothing is refused."""
    client = roles.clients["oslo_coordinator"]
    meeting = TrainingMeeting.objects.create(date=datetime.date(2026, 9, 1), place="Soria Moria")

    assert messages_of(run_action(client, "record_attendance", three, meeting=meeting.pk, apply="1")) == [
        ("success", "Attendance at 2026-09-01 Soria Moria recorded for 3 supporters; 0 were already recorded.")
    ]
    assert messages_of(run_action(client, "retire", three)) == [("success", "3 supporters retired.")]
    assert [(listed, active) for _, listed, active, *_ in roster_state(three)] == [(False, False)] * 3


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_bulk_action_whose_commit_fails_changes_nothing_and_says_only_that(roles, three, fault):
    before = roster_state(three)
    fault("directory_peersupporter", "UPDATE", f"NEW.id = {three[1].pk}", commit=True)

    page = run_action(roles.clients["oslo_coordinator"], "retire", three)

    assert roster_state(three) == before
    # Not "3 supporters retired." beside it: the action said that before the commit, and the commit failed.
    said = messages_of(page)
    assert [level for level, _ in said] == ["error"], said
    assert said[0][1].startswith(NOTHING_CHANGED)


# Deleting selected rows, in every app's admin


def supporters(make_supporter):
    return [make_supporter(name=f"Deletable {number}") for number in range(3)]


def attendances(make_supporter):
    meeting = TrainingMeeting.objects.create(date=datetime.date(2026, 9, 1), place="Soria Moria")
    return [Attendance.objects.create(meeting=meeting, supporter=supporter) for supporter in supporters(make_supporter)]


def tallies(make_supporter):
    supporter = make_supporter()
    return [
        MonthlyTally.objects.create(supporter=supporter, month=datetime.date(2026, month, 1)) for month in (1, 2, 3)
    ]


def invitations(make_supporter):
    user = User.objects.create_user("invited@example.org")
    return [Invitation.issue(user=user)[0] for _ in range(3)]


def municipalities(make_supporter):
    return list(Municipality.objects.filter(supporters__isnull=True).order_by("number")[:3])


@pytest.mark.django_db
@pytest.mark.parametrize("make_rows", [supporters, attendances, tallies, invitations, municipalities])
def test_deleting_selected_rows_deletes_all_or_none_and_logs_no_deletion_that_did_not_happen(
    roles, make_supporter, fault, make_rows
):
    rows = make_rows(make_supporter)
    model = type(rows[0])
    fault(model._meta.db_table, "DELETE", f"OLD.id = {rows[1].pk}")
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")

    page = run_action(roles.clients["administrator"], "delete_selected", rows, url=url, post="yes")

    assert model.objects.filter(pk__in=[row.pk for row in rows]).count() == 3
    assert not LogEntry.objects.filter(action_flag=DELETION).exists()
    [(level, message)] = messages_of(page)
    assert level == "error"
    assert message.startswith(f"{NOTHING_CHANGED} “Delete selected {model._meta.verbose_name_plural}” ({FAULT})")


def test_every_admin_page_makes_its_actions_all_or_nothing():
    admins = [admin.site.get_model_admin(model) for model in apps.get_models() if admin.site.is_registered(model)]
    assert admins
    assert [
        type(model_admin).__name__ for model_admin in admins if not isinstance(model_admin, AllOrNothingActionsMixin)
    ] == []


# Invitations: each supporter is its own unit, since an e-mail cannot be called back


@pytest.mark.django_db
def test_an_invitation_the_database_refuses_leaves_nothing_for_that_supporter_and_the_others_are_sent(
    roles, make_supporter, fault, mailoutbox
):
    anne, bjorn, cecilie = (
        make_supporter(name=name, email=f"{name.lower()}@example.org") for name in ("Anne", "Bjorn", "Cecilie")
    )
    users_before = User.objects.count()
    fault("directory_peersupporter", "UPDATE", f"NEW.id = {bjorn.pk}")

    page = run_action(roles.clients["oslo_coordinator"], "send_invitation", [anne, bjorn, cecilie])

    assert messages_of(page) == [
        (
            "error",
            f"No invitation was sent to Bjorn: the database refused it ({FAULT}). Nothing was created or changed for "
            "them; try again.",
        ),
        ("success", "2 invitations sent."),
    ]
    assert sorted(message.to[0] for message in mailoutbox) == ["anne@example.org", "cecilie@example.org"]
    assert User.objects.count() == users_before + 2
    assert not User.objects.filter(email="bjorn@example.org").exists()
    bjorn.refresh_from_db()
    assert bjorn.account_id is None
    assert Invitation.objects.filter(user__email__in=["anne@example.org", "cecilie@example.org"]).count() == 2
    assert Invitation.objects.count() == 2


# Import


def three_rows():
    return [new_row(name=f"Row {number}", email=f"row{number}@example.org") for number in (1, 2, 3)]


def imported_rows():
    return list(PeerSupporter.objects.filter(email__startswith="row").values_list("name", flat=True))


@pytest.mark.django_db
def test_an_import_whose_second_row_the_database_refuses_imports_nothing_and_says_which_row(roles, fault):
    client = roles.clients["oslo_coordinator"]
    preview = post_import(client, csv_file(three_rows()))
    assert [row.outcome for row in preview.context["roster_report"].rows] == ["new", "new", "new"]
    # The fault appears between the preview and the confirmation, at save time.
    fault("directory_peersupporter", "INSERT", "NEW.email = 'row2@example.org'")

    response = client.post(admin_url("process_import"), preview.context["confirm_form"].initial, follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == admin_url("import")
    assert imported_rows() == []
    assert messages_of(response) == [
        (
            "error",
            f"Nothing was imported: the database refused row 2 ({FAULT}). Try again; if it fails again, tell whoever "
            "runs the site.",
        )
    ]
    assert not LogEntry.objects.exists()


@pytest.mark.django_db
def test_an_import_of_updates_whose_second_row_the_database_refuses_changes_nobody(roles, three, fault):
    client = roles.clients["oslo_coordinator"]
    rows = [new_row(id=supporter.pk, name=f"{supporter.name} Renamed", email=supporter.email) for supporter in three]
    preview = post_import(client, csv_file(rows))
    assert [row.outcome for row in preview.context["roster_report"].rows] == ["update", "update", "update"]
    fault("directory_peersupporter", "UPDATE", f"NEW.id = {three[1].pk}")

    response = client.post(admin_url("process_import"), preview.context["confirm_form"].initial, follow=True)

    assert sorted(PeerSupporter.objects.filter(pk__in=[s.pk for s in three]).values_list("name", flat=True)) == [
        "Anne",
        "Bjorn",
        "Cecilie",
    ]
    [(level, message)] = messages_of(response)
    assert (level, message.startswith("Nothing was imported: the database refused row 2")) == ("error", True)


@pytest.mark.django_db
def test_an_import_whose_admin_log_the_database_refuses_imports_nothing(roles, fault):
    client = roles.clients["oslo_coordinator"]
    preview = post_import(client, csv_file(three_rows()))
    # Every row saves; then the record of the import in the admin's log cannot be written.
    fault("django_admin_log", "INSERT", "1 = 1")

    response = client.post(admin_url("process_import"), preview.context["confirm_form"].initial, follow=True)

    assert response.status_code == 200
    assert imported_rows() == []
    assert messages_of(response) == [
        (
            "error",
            f"Nothing was imported: the database refused the import ({FAULT}). Try again; if it fails again, tell "
            "whoever runs the site.",
        )
    ]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_import_whose_commit_fails_imports_nothing_and_does_not_say_it_finished(roles, fault):
    client = roles.clients["oslo_coordinator"]
    preview = post_import(client, csv_file(three_rows()))
    fault("directory_peersupporter", "INSERT", "NEW.email = 'row2@example.org'", commit=True)

    response = client.post(admin_url("process_import"), preview.context["confirm_form"].initial, follow=True)

    assert imported_rows() == []
    assert not Attendance.objects.exists()
    # Not "Import finished" beside it: the import was done when the commit failed.
    said = messages_of(response)
    assert [level for level, _ in said] == ["error"], said
    assert said[0][1].startswith("Nothing was imported: the database refused the import")


@pytest.mark.django_db
def test_a_preview_names_the_row_the_database_refuses_and_offers_no_confirmation(roles, fault):
    fault("directory_peersupporter", "INSERT", "NEW.email = 'row2@example.org'")

    preview = post_import(roles.clients["oslo_coordinator"], csv_file(three_rows()))

    assert preview.status_code == 200
    assert "confirm_form" not in preview.context
    report = preview.context["roster_report"]
    assert [(row.outcome, row.errors) for row in report.rows] == [
        ("new", []),
        ("error", [("", f"The database refused this row ({FAULT}).")]),
        ("new", []),
    ]
    assert f"The database refused this row ({FAULT})." in preview.content.decode()
    assert imported_rows() == []
