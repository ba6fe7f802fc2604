"""Reading roster files the way Norwegian spreadsheet programs write them, and writing files they open cleanly.

Excel and LibreOffice in a Norwegian locale save CSV with semicolons and in Windows-1252 unless told otherwise;
files from elsewhere use commas and UTF-8, with or without a byte-order mark. Import accepts all of these. Every file
is checked before a single row is looked at: size, row count, readable text or workbook, and a heading row with each
required column once and no unknown column. A file that fails gets one clear message and nothing is imported.

Text that a spreadsheet program would take for a formula (it starts with =, +, -, @, a tab or a carriage return) is
exported with an apostrophe before it (csv_safe), and the apostrophe is taken off again on import, so that what a
supporter wrote is never run on a coordinator's computer and an exported file imports back unchanged.
"""

import csv
import io
import zipfile

import tablib
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from import_export.formats import base_formats

# A roster holds about ninety supporters; these limits leave ample room and keep a stray export of something else out.
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000

ROSTER_COLUMNS = (
    "id",
    "name",
    "title",
    "county",
    "municipality",
    "town",
    "email",
    "show_email",
    "phone",
    "show_phone",
    "meets_in_person",
    "meets_by_phone",
    "meets_by_video",
    "evenings",
    "weekends",
    "languages",
    "specialties",
    "note",
    "availability",
    "availability_until",
    "last_confirmed",
    "appointed",
    "listed",
)
# Without these a row cannot say who the supporter is and where they work; every other column may be left out.
REQUIRED_COLUMNS = ("name", "county", "municipality")

# Exports use semicolons: a Norwegian Excel opens such a file straight into columns.
EXPORT_CSV_DELIMITER = ";"

# Excel, LibreOffice and Google Sheets take a cell starting with one of these for a formula (a tab or a carriage
# return lets one hide behind what looks like white space); an apostrophe before it makes the cell text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_ESCAPE = "'"


class RosterFileError(ValueError):
    """The file as a whole cannot be imported; the message says why, for the person who chose the file."""


def _size_checked(data):
    if len(data) > MAX_FILE_BYTES:
        limit = number_format(MAX_FILE_BYTES / 1024 / 1024, 0)
        raise RosterFileError(
            _("The file is larger than %(limit)s MB: a roster file is much smaller than that.") % {"limit": limit}
        )
    if not data.strip():
        raise RosterFileError(_("The file is empty."))
    return data


def decode_text(data):
    """The text of a CSV file: UTF-8 (with or without byte-order mark), else Windows-1252."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    if b"\x00" in data:
        raise RosterFileError(_("This is not a CSV file: it contains binary data. Save the sheet as CSV or XLSX."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as error:
        raise RosterFileError(_("The file's characters cannot be read: save it as CSV (UTF-8) or XLSX.")) from error


def sniff_delimiter(text):
    """Semicolon or comma, whichever separates the heading row (column names hold neither)."""
    heading = text.split("\n", 1)[0]
    return ";" if heading.count(";") > heading.count(",") else ","


def _looks_like_formula(text):
    # Text that would be a formula after any apostrophes before it; escaped text is such text too.
    return text.lstrip(FORMULA_ESCAPE)[:1] in FORMULA_STARTS


def csv_safe(value):
    """Text that a spreadsheet would take for a formula starts with an apostrophe instead.

    Text that already starts with apostrophes before such a character gets one more, so that undo_csv_safe gives
    back exactly what was written, whatever it was.
    """
    if isinstance(value, str) and _looks_like_formula(value):
        return FORMULA_ESCAPE + value
    return value


def undo_csv_safe(value):
    """The text that csv_safe escaped, as it was; any other value as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_ESCAPE) and _looks_like_formula(value):
        return value.removeprefix(FORMULA_ESCAPE)
    return value


def _cell_text(value):
    # An empty spreadsheet cell reads as None, an empty CSV cell as "": both mean the same.
    if value is None:
        return ""
    return undo_csv_safe(value.strip()) if isinstance(value, str) else value


def checked_dataset(dataset):
    """The dataset with headings normalised and blank rows dropped, or RosterFileError naming what is wrong."""
    headers = [str(header or "").strip().lower() for header in dataset.headers or []]
    if not any(headers):
        raise RosterFileError(_("The file has no heading row. The first row must name the columns, such as name."))
    if "" in headers:
        raise RosterFileError(_("Column %(number)d has no heading.") % {"number": headers.index("") + 1})
    duplicates = sorted({header for header in headers if headers.count(header) > 1})
    if duplicates:
        raise RosterFileError(
            _("Duplicate column: %(columns)s. Each column may appear once.") % {"columns": ", ".join(duplicates)}
        )
    unknown = [header for header in headers if header not in ROSTER_COLUMNS]
    if unknown:
        raise RosterFileError(
            _("Unknown column: %(columns)s. The columns are: %(all)s.")
            % {"columns": ", ".join(unknown), "all": ", ".join(ROSTER_COLUMNS)}
        )
    missing = [column for column in REQUIRED_COLUMNS if column not in headers]
    if missing:
        raise RosterFileError(_("Missing required column: %(columns)s.") % {"columns": ", ".join(missing)})

    cleaned = tablib.Dataset(headers=headers)
    for row in dataset:
        values = [_cell_text(value) for value in row]
        if all(value in (None, "") for value in values):
            continue
        cleaned.append(values)
    if not len(cleaned):
        raise RosterFileError(_("The file has a heading row but no supporters."))
    if len(cleaned) > MAX_ROWS:
        raise RosterFileError(
            _("The file has %(rows)d rows; at most %(limit)d can be imported at once.")
            % {"rows": len(cleaned), "limit": MAX_ROWS}
        )
    return cleaned


def read_csv(data):
    text = decode_text(_size_checked(data))
    # strict: a quote left open at the end of a truncated file is an error, not a cell swallowing the rest.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text), strict=True)
    try:
        rows = [row for row in reader if row]
    except csv.Error as error:
        raise RosterFileError(
            _("The file cannot be read as CSV (line %(line)d): %(error)s.") % {"line": reader.line_num, "error": error}
        ) from error
    width = len(rows[0])
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != width:
            raise RosterFileError(
                _(
                    "Row %(number)d has %(cells)d cells but the heading row has %(width)d: "
                    "the file may be truncated or damaged."
                )
                % {"number": number, "cells": len(row), "width": width}
            )
    return checked_dataset(tablib.Dataset(*rows[1:], headers=rows[0]))


def read_xlsx(data):
    _size_checked(data)
    try:
        dataset = base_formats.XLSX().create_dataset(data)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError) as error:
        raise RosterFileError(_("The file cannot be read as XLSX: it may be damaged or truncated.")) from error
    except StopIteration as error:
        raise RosterFileError(_("The workbook's first sheet is empty.")) from error
    except tablib.InvalidDimensions as error:
        raise RosterFileError(_("Some rows have more cells than the heading row.")) from error
    return checked_dataset(dataset)


def read_roster_file(data, *, file_name):
    """A checked dataset from the bytes of a .csv or .xlsx file, or RosterFileError."""
    name = file_name.lower()
    if name.endswith(".xlsx"):
        return read_xlsx(data)
    if name.endswith(".csv"):
        return read_csv(data)
    raise RosterFileError(_("Choose a .csv or .xlsx file."))


class RosterCSV(base_formats.CSV):
    """CSV import that sniffs the separator and the encoding itself, so the upload is kept as bytes."""

    def create_dataset(self, in_stream, **kwargs):
        return read_csv(in_stream)

    def is_binary(self):
        # Reading bytes leaves the choice of encoding to decode_text, not to a fixed from_encoding.
        return True

    def get_read_mode(self):
        return "rb"


class RosterXLSX(base_formats.XLSX):
    def create_dataset(self, in_stream):
        return read_xlsx(in_stream)


class RosterExportCSV(base_formats.CSV):
    """UTF-8 with a byte-order mark and semicolons: what a Norwegian Excel opens without an import wizard."""

    def export_data(self, dataset, **kwargs):
        return "\ufeff" + dataset.export("csv", delimiter=EXPORT_CSV_DELIMITER)


def export_csv_bytes(dataset):
    return RosterExportCSV().export_data(dataset).encode("utf-8")


def export_xlsx_bytes(dataset):
    return base_formats.XLSX().export_data(dataset)
