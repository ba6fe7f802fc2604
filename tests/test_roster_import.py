"""Roster import: files as Norwegian spreadsheet programs write them, a preview first, all rows or none, in scope."""

import csv
import io

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

from accounts.access import supporters_in_scope
from directory.import_formats import MAX_FILE_BYTES, MAX_ROWS
from directory.models import PeerSupporter
from directory.resources import roster_import
from tests.conftest import log_in_verified

# The admin has no language in its address: it follows the browser's Accept-Language, here English.
pytestmark = pytest.mark.usefixtures("english_admin")


def new_row(**values):
    row = {
        "name": "Nina Ny",
        "county": "03",
        "municipality": "0301",
        "email": "nina@example.org",
        "phone": "+47 22 12 34 56",
        "languages": "nb",
        "specialties": "",
        "listed": "ja",
    }
    row.update(values)
    return row


def columns_of(rows):
    return list(dict.fromkeys(column for row in rows for column in row))


def csv_file(rows, *, delimiter=",", encoding="utf-8", headers=None):
    headers = headers or columns_of(rows)
    stream = io.StringIO(newline="")
    writer = csv.writer(stream, delimiter=delimiter)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(header, "") for header in headers])
    return stream.getvalue().encode(encoding)


def xlsx_file(rows, headers=None):
    headers = headers or columns_of(rows)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(header, "") for header in headers])
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def import_rows(user, rows, *, dry_run=False, **options):
    return roster_import(data=csv_file(rows, **options), file_name="roster.csv", user=user, dry_run=dry_run)


def imported(email="nina@example.org"):
    return PeerSupporter.objects.get(email=email)


# File formats


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_import_accepts_comma_and_semicolon_separated_files(roles, delimiter):
    report = import_rows(roles.administrator, [new_row(specialties="Psykiatri, Allmennmedisin")], delimiter=delimiter)
    assert report.errors() == []
    assert report.saved
    assert sorted(imported().specialties.values_list("name_nb", flat=True)) == ["Allmennmedisin", "Psykiatri"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_import_reads_utf8_with_or_without_bom_and_windows_1252(roles, encoding):
    rows = [
        new_row(name="Åse Ødegård Bækken", county="Møre og Romsdal", municipality="Ålesund", email="ase@example.org")
    ]
    report = import_rows(roles.administrator, rows, encoding=encoding, delimiter=";")
    assert report.errors() == []
    supporter = imported("ase@example.org")
    assert supporter.name == "Åse Ødegård Bækken"
    assert supporter.municipality.name == "Ålesund"


def test_import_reads_xlsx_with_numbers_typed_as_numbers(roles):
    data = xlsx_file([new_row(county=3, municipality=301, phone=22123456, listed=True)])
    report = roster_import(data=data, file_name="roster.xlsx", user=roles.administrator, dry_run=False)
    assert report.errors() == []
    assert imported().phone.as_e164 == "+4722123456"
    assert imported().municipality.number == "0301"


@pytest.mark.parametrize("written", ["+47 22 12 34 56", "22123456", "0047 22123456", "22 12 34 56", "+4722123456"])
def test_import_normalises_norwegian_phone_numbers(roles, written):
    report = import_rows(roles.administrator, [new_row(phone=written)])
    assert report.errors() == []
    assert imported().phone.as_e164 == "+4722123456"


def test_an_invalid_phone_number_is_a_row_error_naming_it(roles):
    report = import_rows(roles.administrator, [new_row(phone="1234")])
    assert report.errors() == [(1, "phone", "Invalid phone number “1234”: write it as +47 22 12 34 56 or 22123456.")]
    assert not PeerSupporter.objects.filter(email="nina@example.org").exists()


@pytest.mark.parametrize(
    ("county", "municipality"),
    [("03", "0301"), ("3", "301"), ("Oslo", "Oslo"), ("oslo", "OSLO"), ("Vestland", "Bergen"), ("46", "4601")],
)
def test_import_finds_county_and_municipality_by_number_or_name(roles, county, municipality):
    report = import_rows(roles.administrator, [new_row(county=county, municipality=municipality)])
    assert report.errors() == []
    assert imported().municipality.number in ("0301", "4601")


def test_a_municipality_name_shared_by_two_counties_is_found_within_the_row_county(roles):
    report = import_rows(roles.administrator, [new_row(county="Nordland", municipality="Herøy")])
    assert report.errors() == []
    assert imported().municipality.number == "1818"


def test_county_and_municipality_must_agree(roles):
    report = import_rows(roles.administrator, [new_row(county="Vestland", municipality="0301")])
    assert report.errors() == [(1, "municipality", "Municipality 0301 Oslo is in Oslo, not Vestland.")]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("county", "Vestlandet", "Unknown county “Vestlandet”."),
        ("municipality", "Bergn", "Unknown municipality “Bergn”."),
        ("municipality", "9999", "Unknown municipality number “9999”."),
        ("specialties", "Psykiatri; Kardiolgi", "Unknown specialty “Kardiolgi”."),
        ("languages", "nb, klingon", "Unknown language “klingon”."),
        ("listed", "kanskje", "Unknown yes/no value “kanskje”: write ja or nei."),
    ],
)
def test_unknown_values_are_row_errors_naming_the_value(roles, column, value, message):
    report = import_rows(roles.administrator, [new_row(**{column: value})])
    assert report.errors() == [(1, column, message)]
    assert report.rows[0].outcome == "error"


@pytest.mark.parametrize("written", ["Psykiatri; Allmennmedisin", "psychiatry, General practice (family medicine)"])
def test_specialties_by_norwegian_or_english_name(roles, written):
    assert import_rows(roles.administrator, [new_row(specialties=written)]).errors() == []
    assert sorted(imported().specialties.values_list("name_nb", flat=True)) == ["Allmennmedisin", "Psykiatri"]


@pytest.mark.parametrize("written", ["nb; en", "Norsk, Engelsk", "norwegian;ENGLISH", "en,Norsk"])
def test_languages_by_code_or_norwegian_or_english_name(roles, written):
    assert import_rows(roles.administrator, [new_row(languages=written)]).errors() == []
    assert sorted(imported().languages.values_list("code", flat=True)) == ["en", "nb"]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("ja", True),
        ("Nei", False),
        ("yes", True),
        ("NO", False),
        ("1", True),
        ("0", False),
        ("true", True),
        ("False", False),
        ("", False),
    ],
)
def test_yes_no_values_in_every_form_and_empty_means_the_default(roles, written, expected):
    assert import_rows(roles.administrator, [new_row(meets_by_video=written)]).errors() == []
    assert imported().meets_by_video is expected  # meets_by_video defaults to no


def test_an_empty_yes_no_cell_takes_a_default_of_yes_too(roles):
    assert import_rows(roles.administrator, [new_row(show_phone="")]).errors() == []
    assert imported().show_phone is True


def test_norwegian_dates_and_iso_dates_are_read(roles):
    rows = [new_row(appointed="31.03.2025", last_confirmed="2026-01-15")]
    assert import_rows(roles.administrator, rows).errors() == []
    assert imported().appointed.isoformat() == "2025-03-31"
    assert imported().last_confirmed.isoformat() == "2026-01-15"


def test_model_rules_become_row_errors_not_server_errors(roles):
    rows = [new_row(email="", phone="", listed="ja"), new_row(email="x@example.org", note="x" * 501)]
    report = import_rows(roles.administrator, rows)
    columns = [(number, column) for number, column, _ in report.errors()]
    assert columns == [(1, "listed"), (2, "note")]
    assert "must show at least one contact method" in report.errors()[0][2]
    assert not PeerSupporter.objects.filter(name="Nina Ny").exists()


# Preview, all or nothing, idempotence


def test_a_dry_run_saves_nothing_and_reports_every_row_outcome(roles):
    rows = [
        new_row(),
        new_row(id=roles.oslo.pk, name=roles.oslo.name, email="olga.new@example.org"),
        new_row(name="Vera Vestland", id=roles.vestland.pk, county="46", municipality="4601", email="vera@example.org"),
        new_row(name="Feil", email="feil@example.org", specialties="Kardiolgi"),
    ]
    before = list(PeerSupporter.objects.values_list("pk", "email", "updated_at"))
    rows[2] = {**rows[2], "phone": roles.vestland.phone.as_e164, "languages": "nb", "listed": "ja"}
    report = import_rows(roles.administrator, rows, dry_run=True)
    assert [(row.number, row.outcome) for row in report.rows] == [(1, "new"), (2, "update"), (3, "skip"), (4, "error")]
    assert report.errors() == [(4, "specialties", "Unknown specialty “Kardiolgi”.")]
    assert list(PeerSupporter.objects.values_list("pk", "email", "updated_at")) == before


def test_one_bad_row_means_nothing_is_imported(roles):
    rows = [new_row(), new_row(id=roles.oslo.pk, email="olga.new@example.org"), new_row(email="b@x.org", phone="12")]
    report = import_rows(roles.administrator, rows)
    assert report.has_errors
    assert not report.saved
    assert not PeerSupporter.objects.filter(email="nina@example.org").exists()
    roles.oslo.refresh_from_db()
    assert roles.oslo.email == "olga@example.org"


def test_importing_the_same_file_twice_changes_nothing_the_second_time(roles):
    rows = [new_row(specialties="Psykiatri", languages="nb;en"), new_row(email="b@example.org", name="B")]
    first = import_rows(roles.administrator, rows)
    assert [row.outcome for row in first.rows] == ["new", "new"]
    count, history = PeerSupporter.objects.count(), PeerSupporter.history.count()
    second = import_rows(roles.administrator, rows)
    assert [row.outcome for row in second.rows] == ["skip", "skip"]
    assert (PeerSupporter.objects.count(), PeerSupporter.history.count()) == (count, history)


def test_rows_match_existing_supporters_by_email_ignoring_case(roles):
    report = import_rows(roles.administrator, [new_row(email="OLGA@example.org", name="Olga Oslo-Berg")])
    assert [row.outcome for row in report.rows] == ["update"]
    roles.oslo.refresh_from_db()
    assert roles.oslo.name == "Olga Oslo-Berg"


def test_an_unknown_id_is_a_row_error_not_a_new_supporter(roles):
    report = import_rows(roles.administrator, [new_row(id="999999")])
    assert report.errors()[0][:2] == (1, "id")
    assert not PeerSupporter.objects.filter(email="nina@example.org").exists()


# Coordinator scope


def test_oslo_coordinator_cannot_import_a_supporter_into_vestland(roles):
    report = import_rows(roles.oslo_coordinator, [new_row(county="Vestland", municipality="Bergen")])
    assert report.errors() == [(1, "county", "Vestland is not one of your counties.")]
    assert not PeerSupporter.objects.filter(email="nina@example.org").exists()


def test_oslo_coordinator_cannot_update_a_vestland_supporter_by_id(roles):
    rows = [new_row(id=roles.vestland.pk, name="Hijacked", county="Oslo", municipality="Oslo")]
    report = import_rows(roles.oslo_coordinator, rows)
    assert report.errors()[0][:2] == (1, "id")
    assert "No supporter with id" in report.errors()[0][2]
    roles.vestland.refresh_from_db()
    assert roles.vestland.name == "Vera Vestland"


def test_oslo_coordinator_cannot_move_an_oslo_supporter_to_vestland(roles):
    rows = [new_row(id=roles.oslo.pk, email="olga@example.org", county="46", municipality="4601")]
    assert import_rows(roles.oslo_coordinator, rows).errors() == [
        (1, "county", "Vestland is not one of your counties.")
    ]


def test_oslo_coordinator_cannot_reach_a_vestland_supporter_by_email(roles):
    report = import_rows(roles.oslo_coordinator, [new_row(email="vera@example.org")])
    assert report.errors()[0][:2] == (1, "email")


def test_oslo_coordinator_imports_into_oslo(roles):
    assert import_rows(roles.oslo_coordinator, [new_row()]).saved
    assert imported() in supporters_in_scope(roles.oslo_coordinator)


# File limits


def roster_file_errors(data, file_name="roster.csv", user=None):
    report = roster_import(data=data, file_name=file_name, user=user, dry_run=False)
    assert report.rows == []
    return report.file_errors


@pytest.mark.parametrize(
    ("data", "file_name", "message"),
    [
        (b"", "roster.csv", "The file is empty."),
        (b"\x00\x01\x02PK\x00", "roster.csv", "contains binary data"),
        (b"name,county\n", "roster.csv", "Missing required column: municipality."),
        (b"name,county,municipality\n", "roster.csv", "no supporters"),
        (b"name,county,municipality,name\nA,03,0301,B\n", "roster.csv", "Duplicate column: name."),
        (b"name,county,municipality,telefon\nA,03,0301,1\n", "roster.csv", "Unknown column: telefon."),
        (b'name,county,municipality\nA,03,0301\n"B,03', "roster.csv", "cannot be read as CSV"),
        (b"name,county,municipality\nA,03,0301\nB,03\n", "roster.csv", "the file may be truncated"),
        (b"PK\x03\x04 not really a workbook", "roster.xlsx", "cannot be read as XLSX"),
        (b"name,county,municipality\n", "roster.ods", "Choose a .csv or .xlsx file."),
    ],
)
def test_broken_files_get_one_clear_message_and_nothing_is_imported(roles, data, file_name, message):
    before = PeerSupporter.objects.count()
    errors = roster_file_errors(data, file_name, roles.administrator)
    assert len(errors) == 1
    assert message in errors[0]
    assert PeerSupporter.objects.count() == before


def test_a_truncated_xlsx_file_is_refused(roles):
    data = xlsx_file([new_row()])
    errors = roster_file_errors(data[: len(data) // 2], "roster.xlsx", roles.administrator)
    assert "cannot be read as XLSX" in errors[0]


def test_files_over_the_size_limit_are_refused(roles):
    data = csv_file([new_row(note="x" * 400)] * (MAX_FILE_BYTES // 400 + 1))
    assert "larger than 2 MB" in roster_file_errors(data, user=roles.administrator)[0]


def test_files_over_the_row_limit_are_refused(roles):
    data = b"name,county,municipality\n" + b"A,03,0301\n" * (MAX_ROWS + 1)
    assert f"at most {MAX_ROWS} can be imported" in roster_file_errors(data, user=roles.administrator)[0]


# The admin: preview, confirm, scope


def admin_url(action):
    return reverse(f"admin:directory_peersupporter_{action}")


def post_import(client, data, file_name="roster.csv", format_index=0, **headers):
    upload = io.BytesIO(data)
    upload.name = file_name
    return client.post(admin_url("import"), {"import_file": upload, "format": format_index, "resource": 0}, **headers)


@pytest.mark.parametrize(("file_name", "format_index"), [("roster.csv", 0), ("roster.xlsx", 1)])
def test_admin_import_previews_then_imports_on_confirmation(roles, file_name, format_index):
    client = roles.clients["oslo_coordinator"]
    rows = [new_row()]
    data = csv_file(rows, delimiter=";", encoding="cp1252") if format_index == 0 else xlsx_file(rows)
    preview = post_import(client, data, file_name, format_index)
    assert preview.status_code == 200
    assert [(row.number, row.outcome) for row in preview.context["roster_report"].rows] == [(1, "new")]
    assert not PeerSupporter.objects.filter(email="nina@example.org").exists()

    confirm = preview.context["confirm_form"].initial
    response = client.post(admin_url("process_import"), confirm)
    assert response.status_code == 302
    assert imported().municipality.number == "0301"


def test_admin_import_preview_lists_every_row_and_error_and_offers_no_confirmation(roles):
    client = roles.clients["oslo_coordinator"]
    rows = [new_row(), new_row(email="v@example.org", county="Vestland", municipality="Bergen")]
    response = post_import(client, csv_file(rows))
    assert response.status_code == 200
    assert "confirm_form" not in response.context
    body = response.content.decode()
    assert "Vestland is not one of your counties." in body
    assert [row.outcome for row in response.context["roster_report"].rows] == ["new", "error"]
    assert not PeerSupporter.objects.filter(email="nina@example.org").exists()


def test_admin_import_shows_a_clear_message_for_a_broken_file(roles):
    response = post_import(roles.clients["administrator"], b"name,county\nA,03\n")
    assert response.status_code == 200
    assert "Missing required column: municipality." in response.content.decode()


def test_admin_import_refuses_files_over_the_size_limit_before_reading_them(roles):
    response = post_import(roles.clients["administrator"], b"x" * (MAX_FILE_BYTES + 1))
    assert response.status_code == 200
    assert "larger than 2 MB" in response.content.decode()


def test_a_supporter_without_staff_role_cannot_reach_the_import(roles, django_user_model):
    user = django_user_model.objects.create_user("plain@example.org")
    client = log_in_verified(Client(), user)
    assert client.get(admin_url("import")).status_code == 302


@pytest.mark.parametrize(
    ("language", "messages"),
    [
        ("nb", ["Mangler en påkrevd kolonne: municipality.", "Fil som skal importeres", "høyst 2 MB og 2000 rader"]),
        ("en", ["Missing required column: municipality.", "File to import", "at most 2 MB and 2000 rows"]),
    ],
)
def test_admin_import_speaks_the_browsers_language(roles, language, messages):
    response = post_import(roles.clients["administrator"], b"name,county\nA,03\n", HTTP_ACCEPT_LANGUAGE=language)
    body = response.content.decode()
    assert f'<html lang="{language}"' in body
    for message in messages:
        assert message in body


def test_admin_import_preview_names_outcomes_and_row_errors_in_bokmal(roles):
    rows = [new_row(), new_row(email="v@example.org", county="Vestland", municipality="Bergen")]
    response = post_import(roles.clients["oslo_coordinator"], csv_file(rows), HTTP_ACCEPT_LANGUAGE="nb")
    body = response.content.decode()
    assert "Forhåndsvisning: ingenting er lagret ennå" in body
    assert "2 rader: nye 1, endrede 0, uendrede 0, feil 1." in body
    assert "Vestland er ikke et av fylkene dine." in body


def test_admin_import_confirmation_is_reported_in_bokmal(roles):
    client = roles.clients["oslo_coordinator"]
    preview = post_import(client, csv_file([new_row()]), HTTP_ACCEPT_LANGUAGE="nb")
    confirm = preview.context["confirm_form"].initial
    response = client.post(admin_url("process_import"), confirm, follow=True, HTTP_ACCEPT_LANGUAGE="nb")
    [message] = [str(message) for message in response.context["messages"]]
    assert message.startswith("Importen av ")
    assert message.endswith(" er ferdig. Nye: 1, endrede: 0, slettede: 0, uendrede: 0.")
    assert imported().municipality.number == "0301"
