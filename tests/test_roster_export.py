"""Roster export: CSV and XLSX within the staff member's counties, in values that import back unchanged."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.urls import reverse

from directory.import_formats import ROSTER_COLUMNS, export_csv_bytes, export_xlsx_bytes
from directory.models import PeerSupporter
from directory.resources import roster_export, roster_import


def csv_rows(data):
    assert data.startswith(b"\xef\xbb\xbf")  # Excel needs the byte-order mark to read UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


@pytest.fixture
def detailed(roles, make_supporter):
    return make_supporter(
        name="Øystein Ærlig",
        title="Overlege",
        municipality="Bergen",
        email="oystein@example.org",
        phone="+4722123456",
        specialties=["psychiatry", "general-practice-family-medicine"],
        languages=["nb", "en"],
        meets_by_video=True,
        evenings=True,
        note="Treffes best etter kl. 16; gjerne på video.",
        availability="paused",
        availability_until=datetime.date(2026, 12, 31),
        last_confirmed=datetime.date(2026, 10, 1),
        appointed=datetime.date(2020, 1, 15),
    )


def test_export_writes_every_column_in_values_that_import_back(roles, detailed):
    rows = csv_rows(export_csv_bytes(roster_export(user=roles.administrator)))
    assert list(rows[0]) == list(ROSTER_COLUMNS)
    row = next(row for row in rows if row["email"] == "oystein@example.org")
    assert row == {
        "id": str(detailed.pk),
        "name": "Øystein Ærlig",
        "title": "Overlege",
        "county": "46",
        "municipality": "4601",
        "town": "",
        "email": "oystein@example.org",
        "show_email": "ja",
        "phone": "'+4722123456",  # a spreadsheet would take +47… for a sum; import takes the apostrophe off
        "show_phone": "ja",
        "meets_in_person": "ja",
        "meets_by_phone": "ja",
        "meets_by_video": "ja",
        "evenings": "ja",
        "weekends": "nei",
        "languages": "en; nb",
        "specialties": "Allmennmedisin; Psykiatri",
        "note": "Treffes best etter kl. 16; gjerne på video.",
        "availability": "paused",
        "availability_until": "2026-12-31",
        "last_confirmed": "2026-10-01",
        "appointed": "2020-01-15",
        "listed": "ja",
    }


def test_coordinator_exports_only_their_own_counties(roles, detailed):
    oslo = [row["name"] for row in csv_rows(export_csv_bytes(roster_export(user=roles.oslo_coordinator)))]
    vestland = [row["name"] for row in csv_rows(export_csv_bytes(roster_export(user=roles.vestland_coordinator)))]
    assert oslo == ["Olga Oslo"]
    assert sorted(vestland) == ["Vera Vestland", "Øystein Ærlig"]


def test_export_without_a_staff_user_is_empty(roles, detailed):
    assert len(roster_export(user=roles.supporter)) == 0


@pytest.mark.parametrize(
    ("to_bytes", "file_name"), [(export_csv_bytes, "roster.csv"), (export_xlsx_bytes, "roster.xlsx")]
)
def test_exporting_and_importing_again_changes_nothing(roles, detailed, make_supporter, to_bytes, file_name):
    make_supporter(name="Uten Telefon", municipality="Oslo", phone="", listed=False, show_email=False)
    data = to_bytes(roster_export(user=roles.administrator))
    before = list(PeerSupporter.objects.order_by("pk").values())
    history = PeerSupporter.history.count()

    report = roster_import(data=data, file_name=file_name, user=roles.administrator, dry_run=False)

    assert report.errors() == []
    assert {row.outcome for row in report.rows} == {"skip"}
    assert len(report.rows) == PeerSupporter.objects.count() == 4
    assert list(PeerSupporter.objects.order_by("pk").values()) == before
    assert PeerSupporter.history.count() == history


def test_an_edited_export_updates_only_the_changed_supporter(roles, detailed):
    rows = csv_rows(export_csv_bytes(roster_export(user=roles.vestland_coordinator)))
    for row in rows:
        if row["name"] == "Vera Vestland":
            row["evenings"] = "ja"
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=list(rows[0]), delimiter=";")
    writer.writeheader()
    writer.writerows(rows)
    report = roster_import(
        data=stream.getvalue().encode(), file_name="roster.csv", user=roles.vestland_coordinator, dry_run=False
    )
    assert sorted(row.outcome for row in report.rows) == ["skip", "update"]
    roles.vestland.refresh_from_db()
    assert roles.vestland.evenings is True


def test_xlsx_export_holds_text_that_imports_back(roles, detailed):
    sheet = openpyxl.load_workbook(io.BytesIO(export_xlsx_bytes(roster_export(user=roles.administrator)))).active
    headers = [cell.value for cell in sheet[1]]
    values = {
        row[headers.index("email")]: dict(zip(headers, row, strict=True))
        for row in sheet.iter_rows(2, values_only=True)
    }
    assert values["oystein@example.org"]["phone"] == "'+4722123456"
    assert values["oystein@example.org"]["county"] == "46"
    assert values["oystein@example.org"]["evenings"] == "ja"


# The export in the supporter admin.


def export_post(client, format_index):
    fields = {f"peersupporterresource_{column}": "on" for column in ROSTER_COLUMNS}
    url = reverse("admin:directory_peersupporter_export")
    return client.post(url, {"format": format_index, "resource": 0, **fields})


def test_admin_changelist_shows_import_and_export_buttons(roles):
    response = roles.clients["oslo_coordinator"].get(reverse("admin:directory_peersupporter_changelist"))
    body = response.content.decode()
    assert reverse("admin:directory_peersupporter_import") in body
    assert reverse("admin:directory_peersupporter_export") in body


def test_admin_csv_export_holds_only_the_coordinators_counties(roles, detailed):
    response = export_post(roles.clients["oslo_coordinator"], 0)
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.csv"')
    assert [row["name"] for row in csv_rows(response.content)] == ["Olga Oslo"]


def test_admin_xlsx_export_holds_only_the_coordinators_counties(roles, detailed):
    response = export_post(roles.clients["vestland_coordinator"], 1)
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    names = sorted(row[1] for row in sheet.iter_rows(2, values_only=True))
    assert names == ["Vera Vestland", "Øystein Ærlig"]


def test_admin_export_of_selected_rows_cannot_reach_another_county(roles, detailed):
    fields = {f"peersupporterresource_{column}": "on" for column in ROSTER_COLUMNS}
    url = reverse("admin:directory_peersupporter_export")
    client = roles.clients["oslo_coordinator"]
    refused = client.post(url, {"format": 0, "resource": 0, "export_items": [roles.vestland.pk], **fields})
    assert "Vera Vestland" not in refused.content.decode()
    assert not refused.has_header("Content-Disposition")
    response = client.post(url, {"format": 0, "resource": 0, "export_items": [roles.oslo.pk], **fields})
    assert [row["name"] for row in csv_rows(response.content)] == ["Olga Oslo"]
