"""Backups: export_roster writes the whole roster to one file, and import_roster restores it into a new database
with every public page byte for byte as it was, every login and second factor working, and nothing lost.

The round trips commit (transaction=True): they empty the database the way a new one starts (flush, then the data
migrations' seed of the reference data) and restore into it.
"""

import datetime
import importlib
import io
import json
import os
import stat
import subprocess
import sys

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Invitation
from accounts.two_factor import recovery_codes_issue
from counties.models import County, Municipality
from directory import backup
from directory import cache as page_cache
from directory.management.commands.export_roster import Command as ExportCommand
from directory.models import Language, PeerSupporter, Reminder, Specialty
from tallies.models import ClosedMonth, MonthlyTally
from tests.conftest import current_code
from tests.test_accounts import PASSWORD, log_in
from tests.test_page_cache import assert_from_cache, assert_made_afresh
from training.models import Attendance, TrainingMeeting

committing = pytest.mark.django_db(transaction=True, serialized_rollback=True)
# What `migrate` puts into a new database besides the tables: the reference data these data migrations seed.
SEED_MIGRATIONS = [
    "counties.migrations.0002_seed_counties_and_municipalities",
    "directory.migrations.0002_seed_specialties_and_languages",
]
SEARCHES = [
    "search/",
    "search/?county=46&specialty=psychiatry&mode=phone",
    "search/?q=fastlege&language=en&open=on",
    "search/?municipality=5501&evenings=on&weekends=on",
    "search/?specialty=aviation-medicine&language=se",
    "search/?mode=video&page=2",
]


def export(*args):
    output = io.StringIO()
    call_command("export_roster", *args, stdout=output)
    return output.getvalue()


def restore(text):
    """import_roster reading text from standard input; its summary."""
    output = io.StringIO()
    stdin = io.BytesIO(text) if isinstance(text, bytes) else io.StringIO(text)
    call_command("import_roster", "-", stdin=stdin, stdout=output)
    return output.getvalue()


def new_database():
    """Empty the database as a new one starts out: flush, then the data migrations' seed of the reference data."""
    call_command("flush", interactive=False, verbosity=0)
    state = MigrationLoader(connection).project_state().apps
    for module in SEED_MIGRATIONS:
        importlib.import_module(module).seed(state, None)


def without_the_roster():
    """Delete every roster row, and the history the deleting writes: the database as `migrate` left it."""
    history = [label for label in backup.KINDS if ".historical" in label]
    for label in [*(label for label in backup.KINDS if label not in backup.REFERENCE and label not in history),
                  *history]:  # fmt: skip
        apps.get_model(label)._base_manager.all().delete()


def reference_data():
    return [
        list(model.objects.order_by("pk").values_list())
        for model in (County, Municipality, Specialty, Language, Permission)
    ]


def varied_roster(make_supporter, django_user_model, today):
    """60 demo supporters, and around them everything a roster holds, with history, accounts and staff's edits."""
    call_command("seed_demo", supporters=60, stdout=io.StringIO())
    # Staff's edits of the reference data, which a restore must bring back instead of migrate's seed.
    finnmark = County.objects.get(number="56")
    finnmark.name = "Finnmark Finnmárku"
    finnmark.save()
    Specialty.objects.create(slug="aviation-medicine", name_nb="Flymedisin", name_en="Aviation medicine", group="other")
    Language.objects.get(code="tl").delete()

    administrator = django_user_model.objects.create_superuser("admin@example.org", password=PASSWORD)
    coordinator = django_user_model.objects.create_user(
        "coordinator@example.org", password=PASSWORD, role="coordinator"
    )
    coordinator.counties.set(County.objects.filter(number__in=["03", "46"]))
    # The project does not use Django's permissions, but an account may carry them: they are named by natural key.
    readers = Group.objects.create(name="Readers")
    readers.permissions.add(Permission.objects.get(codename="view_peersupporter"))
    coordinator.groups.add(readers)
    coordinator.user_permissions.add(Permission.objects.get(codename="view_monthlytally"))
    TOTPDevice.objects.create(user=coordinator, name="Phone", confirmed=True)
    recovery_codes_issue(coordinator)

    kari = make_supporter(
        name="Kari Nordmann",
        municipality="Tromsø",
        title="Psykiater",
        specialties=["psychiatry", "aviation-medicine"],
        languages=["nb", "se", "en"],
        note="Ring gjerne, også på kveldstid.",
        evenings=True,
        meets_by_video=True,
        availability="paused",
        availability_until=today + datetime.timedelta(days=10),
    )
    kari.account = django_user_model.objects.create_user("kari@example.org", password=PASSWORD, name="Kari")
    kari.save()
    TOTPDevice.objects.create(user=kari.account, name="Phone", confirmed=True)
    ola = make_supporter(
        name="Ola Åsen", municipality="Bergen", town="Fana", show_phone=False, specialties=["psychiatry"]
    )
    ola._history_user = coordinator
    ola.note = "Møtes gjerne på tur."
    ola.save()
    make_supporter(name="Ulla Unlisted", municipality="Bodø", listed=False)
    make_supporter(name="Gone Away", municipality="Oslo").delete()
    ola.account = django_user_model.objects.create_user("ola@example.org")
    ola.save()
    Invitation.issue(user=ola.account, invited_by=coordinator)
    Reminder.objects.create(supporter=kari, kind=Reminder.Kind.CONFIRM, key=today)
    LogEntry.objects.log_actions(coordinator.pk, [ola], CHANGE, change_message="Changed the note.")

    supporters = list(PeerSupporter.objects.order_by("pk"))
    recent = TrainingMeeting.objects.create(date=datetime.date(2025, 10, 20), place="Gardermoen")
    older = TrainingMeeting.objects.create(date=datetime.date(2021, 9, 14), place="Bergen")
    for supporter in supporters[:25]:
        Attendance.objects.create(meeting=recent, supporter=supporter)
    for supporter in supporters[20:40]:
        Attendance.objects.create(meeting=older, supporter=supporter)
    for index, supporter in enumerate(supporters[:12]):
        for month in (datetime.date(2026, 8, 1), datetime.date(2026, 9, 1), datetime.date(2026, 10, 1)):
            MonthlyTally.objects.create(supporter=supporter, month=month, in_person=index % 4, phone=index % 3, video=1)
    ClosedMonth.objects.create(month=datetime.date(2026, 8, 1), closed_by=administrator)
    return kari


def public_pages():
    """Every public page that shows the roster, in both languages: path -> status, type and body."""
    paths = [
        "/api/roster.json?per_page=100",
        "/api/roster.json?per_page=20&page=2",
        "/api/roster.json?county=46&specialty=psychiatry&language=en",
    ]
    for language in ("nb", "en"):
        paths += [f"/{language}/", *(f"/{language}/{search}" for search in SEARCHES)]
        paths += [f"/{language}/counties/{county.number}/" for county in County.objects.all()]
        paths += [f"/{language}/counties/03/?page=2"]
        for pk in PeerSupporter.objects.order_by("pk").values_list("pk", flat=True):
            paths += [f"/{language}/supporters/{pk}/", f"/{language}/supporters/{pk}/vcard/"]
    visitor = Client()
    pages = {}
    for path in paths:
        response = visitor.get(path)
        pages[path] = (
            response.status_code,
            response.headers["Content-Type"],
            response.headers.get("Content-Disposition"),
            response.content,
        )
    return pages


def rows(text):
    document = json.loads(text)
    return document["counts"], document["objects"]


# The round trip


@committing
def test_a_restored_roster_gives_the_same_public_pages_logins_and_file(
    make_supporter, django_user_model, today, settings
):
    # Pages made afresh each time, not read back from the page cache.
    settings.PAGE_CACHE_SECONDS = 0
    kari = varied_roster(make_supporter, django_user_model, timezone.localdate())
    before = public_pages()
    assert sum(status == 200 for status, *_ in before.values()) > 280
    assert "Finnmark Finnmárku" in before["/en/"][3].decode()
    assert "Flymedisin" in before[f"/nb/supporters/{kari.pk}/"][3].decode()
    text = export()
    # The file holds every row of every kind.
    assert rows(text)[0] == {label: apps.get_model(label)._base_manager.count() for label in backup.KINDS}

    new_database()
    assert PeerSupporter.objects.count() == 0
    assert County.objects.get(number="56").name == "Finnmark"
    summary = restore(text)

    assert " 63 peer supporters" in summary
    assert "  2 training meetings" in summary
    assert " 36 monthly counts" in summary
    assert "  4 user accounts" in summary
    # Everything comes back as it was: exported again, the file holds the very same rows.
    assert rows(export()) == rows(text)
    after = public_pages()
    assert sorted(after) == sorted(before)
    assert [path for path in before if after[path] != before[path]] == []

    # Passwords and second factors survive.
    coordinator = Client()
    assert log_in(coordinator, "coordinator@example.org").status_code == 302
    assert coordinator.get("/en/accounts/")["Location"] == "/en/accounts/two-factor/"
    device = TOTPDevice.objects.get(user__email="coordinator@example.org")
    coordinator.post("/en/accounts/two-factor/verify/", {"code": current_code(device)})
    assert coordinator.get("/admin/").status_code == 200
    supporter = Client()
    assert log_in(supporter, "kari@example.org").status_code == 302
    assert supporter.get("/en/my/")["Location"] == "/en/accounts/two-factor/"
    assert log_in(Client(), "kari@example.org", password="not the password").status_code == 200

    # New rows get new ids: no clash with the restored ones (PostgreSQL's sequences are reset).
    newcomer = make_supporter(name="Nina Newcomer", specialties=["psychiatry"])
    assert newcomer.pk > max(
        item["pk"] for item in json.loads(text)["objects"] if item["model"] == "directory.peersupporter"
    )
    meeting = TrainingMeeting.objects.create(date=today, place="Tromsø")
    Attendance.objects.create(meeting=meeting, supporter=newcomer)
    MonthlyTally.objects.create(supporter=newcomer, month=datetime.date(2026, 10, 1), phone=2)
    TOTPDevice.objects.create(user=django_user_model.objects.get(email="ola@example.org"), name="Phone")
    assert newcomer.history.exists()


@committing
def test_an_import_makes_every_cached_page_obsolete(make_supporter):
    """A restore writes through the roster watch (directory/cache.py) like any other write."""
    anne = make_supporter(name="Anne Alvheim", municipality="Bergen", specialties=["psychiatry"])
    text = export()
    new_database()
    visitor = Client()
    home, roster = visitor.get("/en/").content, visitor.get("/api/roster.json").content
    assert b"Anne Alvheim" not in roster
    version, reference_version = page_cache.roster_version(), page_cache.reference_version()
    assert_from_cache(visitor, "/api/roster.json")

    restore(text)

    assert page_cache.roster_version() != version
    assert page_cache.reference_version() != reference_version
    assert b"Anne Alvheim" in assert_made_afresh(visitor, "/api/roster.json").content
    assert visitor.get("/en/").content != home
    assert visitor.get(anne.get_absolute_url()).status_code == 200


# What the file holds


def test_every_model_is_in_the_file_or_left_out_on_purpose():
    models = {model._meta.label_lower for model in apps.get_models()}

    assert models == set(backup.KINDS) | set(backup.LEFT_OUT)
    assert not set(backup.KINDS) & set(backup.LEFT_OUT)


@pytest.mark.django_db
def test_the_file_names_rows_by_id_and_only_migrates_own_rows_by_natural_key(make_supporter, django_user_model):
    supporter = make_supporter(name="Kari Nordmann", specialties=["psychiatry"], languages=["nb", "se"])
    staff = django_user_model.objects.create_user("coordinator@example.org", password=PASSWORD, role="coordinator")
    staff.user_permissions.add(Permission.objects.get(codename="view_peersupporter"))
    LogEntry.objects.log_actions(staff.pk, [supporter], CHANGE, change_message="Changed.")
    document = json.loads(export())
    objects = {(item["model"], item["pk"]): item["fields"] for item in document["objects"]}

    assert document["format"] == backup.FORMAT
    assert document["version"] == 1
    assert document["counts"]["directory.peersupporter"] == 1
    listing = objects["directory.peersupporter", supporter.pk]
    assert listing["specialties"] == [Specialty.objects.get(slug="psychiatry").pk]
    assert sorted(listing["languages"]) == sorted(
        Language.objects.filter(code__in=["nb", "se"]).values_list("pk", flat=True)
    )
    assert listing["municipality"] == Municipality.objects.get(name="Oslo").pk
    account = objects["accounts.user", staff.pk]
    assert account["password"].startswith("md5$")
    assert account["user_permissions"] == [["view_peersupporter", "directory", "peersupporter"]]
    log_entry = next(fields for (model, _pk), fields in objects.items() if model == "admin.logentry")
    assert log_entry["content_type"] == ["directory", "peersupporter"]
    assert log_entry["user"] == staff.pk
    # Datetimes to the microsecond.
    assert listing["created_at"] == supporter.created_at.isoformat()
    assert not any(model.startswith(("sessions.", "axes.", "auth.permission")) for model, _pk in objects)


@pytest.mark.django_db
def test_the_export_file_is_readable_by_its_owner_only_and_replaced_only_when_complete(make_supporter, tmp_path):
    make_supporter(name="Kari Nordmann")
    path = tmp_path / "roster.json"
    path.write_text("yesterday's backup")
    path.chmod(0o644)

    message = export("--output", str(path))

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["counts"]["directory.peersupporter"] == 1
    assert f"to {path} (peer supporters: 1, user accounts: 0)" in message
    assert "It holds personal data and password hashes" in message
    assert sorted(os.listdir(tmp_path)) == ["roster.json"]

    with pytest.raises(CommandError, match=r"^Cannot write .*missing/roster\.json: No such file or directory\.$"):
        export("--output", str(tmp_path / "missing" / "roster.json"))


def test_the_export_help_warns_of_personal_data_and_password_hashes():
    help_text = " ".join(ExportCommand().create_parser("manage.py", "export_roster").format_help().split())

    assert "PERSONAL DATA AND PASSWORD HASHES" in help_text
    assert "0600" in help_text


# Refusals: a clear one-line message, and nothing changed


@pytest.fixture
def roster_file(make_supporter, django_user_model, db):
    """The text of a roster file of a small roster, and the database left without the roster (as migrate left it)."""
    supporter = make_supporter(name="Kari Nordmann", specialties=["psychiatry"])
    supporter.account = django_user_model.objects.create_user("kari@example.org", password=PASSWORD)
    supporter.save()
    meeting = TrainingMeeting.objects.create(date=datetime.date(2025, 10, 20), place="Gardermoen")
    Attendance.objects.create(meeting=meeting, supporter=supporter)
    MonthlyTally.objects.create(supporter=supporter, month=datetime.date(2026, 10, 1), in_person=3)
    text = export()
    without_the_roster()
    return text


def assert_refused(text, pattern):
    before = reference_data()
    with pytest.raises(CommandError) as refusal:
        restore(text)
    message = str(refusal.value)
    assert "\n" not in message
    assert message.startswith("Cannot restore standard input: ")
    assert message.endswith(". Nothing was loaded.")
    assert pattern in message
    assert reference_data() == before
    for label in backup.KINDS:
        if label not in backup.REFERENCE:
            assert not apps.get_model(label)._base_manager.exists(), label


def edited(text, change):
    document = json.loads(text)
    change(document)
    return json.dumps(document)


def test_import_reads_standard_input_and_says_what_it_loaded(roster_file):
    summary = restore(roster_file)

    assert summary.startswith("Restored ")
    assert "  1 peer supporters" in summary
    assert "  1 training attendances" in summary
    assert "  1 monthly counts" in summary
    assert " 15 counties" in summary
    assert PeerSupporter.objects.get().account.check_password(PASSWORD)


def test_import_refuses_a_database_that_holds_a_roster(roster_file, make_supporter):
    make_supporter(name="Already Here")
    finnmark = County.objects.get(number="56")
    finnmark.name = "Finnmark Finnmárku"
    finnmark.save()
    before = reference_data()

    with pytest.raises(CommandError, match=r"already holds a roster \(1 peer supporters, "):
        restore(roster_file)

    assert reference_data() == before
    assert list(PeerSupporter.objects.values_list("name", flat=True)) == ["Already Here"]


def test_import_refuses_a_file_that_was_cut_short(roster_file):
    assert_refused(roster_file[: len(roster_file) // 2], "it is not complete JSON")
    assert_refused("", "it is not complete JSON")


def test_import_refuses_what_is_not_a_roster_file(roster_file):
    assert_refused("[]", "it is not a roster file written by export_roster")
    assert_refused(json.dumps(json.loads(roster_file)["objects"]), "it is not a roster file written by export_roster")
    assert_refused(edited(roster_file, lambda d: d.pop("objects")), "its header or its list of rows is damaged")


def test_import_refuses_another_format_version(roster_file):
    assert_refused(edited(roster_file, lambda d: d.update(version=2)), "format version 2, from a newer release")
    assert_refused(edited(roster_file, lambda d: d.update(version="1")), "format version '1' is not one this")


def test_import_refuses_a_file_from_a_newer_schema(roster_file):
    newer = edited(roster_file, lambda d: d["migrations"].append("directory.0099_from_the_future"))

    assert_refused(newer, "newer release: migration directory.0099_from_the_future is not applied to this database")


def test_import_refuses_a_file_from_an_older_schema_and_says_how_to_restore_it(roster_file):
    older = edited(roster_file, lambda d: d["migrations"].remove("directory.0006_search_indexes"))

    assert_refused(older, "written before migration directory.0006_search_indexes")
    assert_refused(older, "migrated to the file's schema (manage.py migrate directory 0005_translated_labels)")


def test_import_refuses_a_file_missing_rows_or_with_rows_of_another_kind(roster_file):
    def drop_attendance(document):
        document["objects"] = [item for item in document["objects"] if item["model"] != "training.attendance"]

    def add_session(document):
        document["objects"].append({"model": "sessions.session", "pk": "x", "fields": {}})

    assert_refused(edited(roster_file, drop_attendance), "it says it holds 1 training attendances but holds 0")
    assert_refused(edited(roster_file, add_session), "it holds rows of sessions.session, which a roster file never")


def test_a_row_that_cannot_be_loaded_leaves_nothing_loaded(roster_file):
    def count_out_of_range(document):
        tally = next(item for item in document["objects"] if item["model"] == "tallies.monthlytally")
        tally["fields"]["in_person"] = 999

    def unknown_supporter(document):
        attendance = next(item for item in document["objects"] if item["model"] == "training.attendance")
        attendance["fields"]["supporter"] = 424242

    assert_refused(edited(roster_file, count_out_of_range), "it could not be loaded (")
    assert_refused(edited(roster_file, unknown_supporter), "it could not be loaded (")


def test_import_refuses_a_file_it_cannot_read_or_decode(roster_file, tmp_path):
    assert_refused(b"\x85\x02\x0c\xff\xfe encrypted", "it is not UTF-8 text (if it is compressed or encrypted")
    with pytest.raises(CommandError, match=r"^Cannot restore .*nowhere\.json: it cannot be read \(No such file"):
        call_command("import_roster", str(tmp_path / "nowhere.json"))


def test_the_command_line_gives_one_line_and_an_exit_status_never_a_traceback(tmp_path):
    cut_short = tmp_path / "roster.json"
    cut_short.write_text('{"format": "peer-supporter-directory-roster", "version": 1, "objects": [{"mod')
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'new.sqlite3'}",
        "CACHE_DIR": str(tmp_path / "cache"),
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "import_roster", str(cut_short)],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"CommandError: Cannot restore {cut_short}: it is not complete JSON")
    assert "Traceback" not in result.stderr
