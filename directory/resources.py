"""The roster as a spreadsheet: export and import of peer supporters, within the staff member's counties.

Rows are matched to existing supporters by the id column when it has a value, and otherwise by e-mail address
(ignoring case). An id must name a supporter in the importer's counties; a row without id whose e-mail matches no
supporter adds a new one. Values are never guessed: an unknown county, municipality, specialty, language, phone
number or yes/no value is an error on that row, naming the value.
"""

import datetime
import re
import unicodedata
from dataclasses import dataclass, field

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import resources, widgets
from import_export.fields import Field
from import_export.results import RowResult

from accounts.access import counties_in_scope, supporters_in_scope
from accounts.admin_actions import database_error_text
from counties.models import County, Municipality
from directory.import_formats import ROSTER_COLUMNS, RosterFileError, csv_safe, read_roster_file
from directory.models import Availability, Language, PeerSupporter, Specialty

EXPORT_YES, EXPORT_NO = "ja", "nei"
YES_VALUES = {"ja", "yes", "1", "true"}
NO_VALUES = {"nei", "no", "0", "false"}
LIST_SEPARATORS = re.compile(r"[;,]")
EXPORT_LIST_SEPARATOR = "; "


def cell_text(value):
    """A cell as text: numbers from a spreadsheet without a trailing .0, text without surrounding spaces."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unicodedata.normalize("NFC", str(value)).strip()


def lookup_key(text):
    """Case-blind key that keeps accents as typed: "møre og romsdal" finds Møre og Romsdal, "More" does not."""
    return " ".join(cell_text(text).casefold().split())


class YesNoWidget(widgets.BooleanWidget):
    """ja/nei, yes/no, 1/0 or true/false in any case; an empty cell means the field's default."""

    def clean(self, value, row=None, **kwargs):
        text = lookup_key(value)
        if text == "":
            return None
        if text in YES_VALUES:
            return True
        if text in NO_VALUES:
            return False
        raise ValueError(_("Unknown yes/no value “%(value)s”: write ja or nei.") % {"value": cell_text(value)})

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return EXPORT_YES if value else EXPORT_NO


class PhoneWidget(widgets.Widget):
    """Any way a Norwegian number is written (+47 22 12 34 56, 22123456, 0047 22123456), stored as +47…."""

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if not text:
            return ""
        try:
            number = phonenumbers.parse(text, "NO")
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise ValueError(
                _("Invalid phone number “%(value)s”: write it as +47 22 12 34 56 or 22123456.") % {"value": text}
            )
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def render(self, value, obj=None, **kwargs):
        return value.as_e164 if value else ""


class ISODateWidget(widgets.Widget):
    """Dates written 2025-03-31 (as exported) or 31.03.2025 (as a Norwegian spreadsheet shows them)."""

    FORMATS = ("%Y-%m-%d", "%d.%m.%Y")

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        text = cell_text(value)
        if not text:
            return None
        for date_format in self.FORMATS:
            try:
                return datetime.datetime.strptime(text, date_format).date()
            except ValueError:
                continue
        raise ValueError(_("Invalid date “%(value)s”: write it as 2025-03-31.") % {"value": text})

    def render(self, value, obj=None, **kwargs):
        return value.isoformat() if value else ""


class AvailabilityWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        text = lookup_key(value)
        if not text:
            return None
        for choice in Availability:
            if text in (choice.value, lookup_key(choice.label), lookup_key(choice.value.replace("_", " "))):
                return choice.value
        codes = ", ".join(Availability.values)
        raise ValueError(
            _("Unknown availability “%(value)s”: write one of %(codes)s.") % {"value": cell_text(value), "codes": codes}
        )

    def render(self, value, obj=None, **kwargs):
        return value or ""


class CountyError(ValueError):
    """A county cell that names no county; reported on the county column."""


class MunicipalityWidget(widgets.Widget):
    """A municipality by number or name, within the county the row names; the two must agree."""

    def __init__(self):
        super().__init__()
        self._counties = None

    def _load(self):
        if self._counties is None:
            self._counties = {}
            for county in County.objects.all():
                self._counties[county.number] = county
                self._counties[lookup_key(county.name)] = county
            self._by_number, self._by_name = {}, {}
            for place in Municipality.objects.select_related("county"):
                self._by_number[place.number] = place
                self._by_name.setdefault(lookup_key(place.name), []).append(place)

    def county_for(self, value):
        text = cell_text(value)
        if not text:
            return None
        key = text.zfill(2) if text.isdigit() else lookup_key(text)
        try:
            return self._counties[key]
        except KeyError:
            raise CountyError(_("Unknown county “%(value)s”.") % {"value": text}) from None

    def clean(self, value, row=None, **kwargs):
        self._load()
        county = self.county_for((row or {}).get("county"))
        text = cell_text(value)
        if not text:
            raise ValueError(_("A municipality is required."))
        if text.isdigit():
            place = self._by_number.get(text.zfill(4))
            if place is None:
                raise ValueError(_("Unknown municipality number “%(value)s”.") % {"value": text})
        else:
            places = self._by_name.get(lookup_key(text), [])
            if county is not None:
                places = [place for place in places if place.county_id == county.pk] or places
            if not places:
                raise ValueError(_("Unknown municipality “%(value)s”.") % {"value": text})
            if len(places) > 1:
                raise ValueError(
                    _("There are several municipalities called “%(value)s”: give the county or the number.")
                    % {"value": text}
                )
            place = places[0]
        if county is not None and place.county_id != county.pk:
            raise ValueError(
                _("Municipality %(number)s %(name)s is in %(county)s, not %(other)s.")
                % {"number": place.number, "name": place.name, "county": place.county.name, "other": county.name}
            )
        return place

    def render(self, value, obj=None, **kwargs):
        return value.number if value else ""


class NamedManyWidget(widgets.ManyToManyWidget):
    """Several names per cell, separated by ; or ,: each must name exactly one row, or the cell is an error."""

    # The message for a name that matches nothing, with the name as %(value)s.
    unknown = ""

    def __init__(self, model):
        super().__init__(model)
        self._index = None

    def keys_for(self, item):
        raise NotImplementedError

    def clean(self, value, row=None, **kwargs):
        if self._index is None:
            self._index = {lookup_key(key): item for item in self.model.objects.all() for key in self.keys_for(item)}
        found = {}
        for part in LIST_SEPARATORS.split(cell_text(value)):
            if not part.strip():
                continue
            item = self._index.get(lookup_key(part))
            if item is None:
                raise ValueError(self.unknown % {"value": part.strip()})
            found[item.pk] = item
        return list(found.values())


class SpecialtiesWidget(NamedManyWidget):
    unknown = gettext_lazy("Unknown specialty “%(value)s”.")

    def keys_for(self, item):
        return [item.name_nb, item.name_en, item.slug]

    def render(self, value, obj=None, **kwargs):
        return EXPORT_LIST_SEPARATOR.join(sorted(item.name_nb for item in value.all())) if value is not None else ""


class LanguagesWidget(NamedManyWidget):
    unknown = gettext_lazy("Unknown language “%(value)s”.")

    def keys_for(self, item):
        return [item.code, item.name_nb, item.name_en]

    def render(self, value, obj=None, **kwargs):
        return EXPORT_LIST_SEPARATOR.join(sorted(item.code for item in value.all())) if value is not None else ""


def yes_no(attribute):
    default = PeerSupporter._meta.get_field(attribute).default
    return Field(attribute=attribute, column_name=attribute, widget=YesNoWidget(), default=default)


class PeerSupporterResource(resources.ModelResource):
    """One supporter per row. Needs the staff member as `user`: it reads and writes only within their counties."""

    id = Field(attribute="id", column_name="id", widget=widgets.IntegerWidget(), readonly=True)
    county = Field(column_name="county")
    municipality = Field(attribute="municipality", column_name="municipality", widget=MunicipalityWidget())
    phone = Field(attribute="phone", column_name="phone", widget=PhoneWidget())
    show_email = yes_no("show_email")
    show_phone = yes_no("show_phone")
    meets_in_person = yes_no("meets_in_person")
    meets_by_phone = yes_no("meets_by_phone")
    meets_by_video = yes_no("meets_by_video")
    evenings = yes_no("evenings")
    weekends = yes_no("weekends")
    listed = yes_no("listed")
    languages = Field(attribute="languages", column_name="languages", widget=LanguagesWidget(Language))
    specialties = Field(attribute="specialties", column_name="specialties", widget=SpecialtiesWidget(Specialty))
    availability = Field(
        attribute="availability", column_name="availability", widget=AvailabilityWidget(), default=Availability.OPEN
    )
    availability_until = Field(attribute="availability_until", column_name="availability_until", widget=ISODateWidget())
    last_confirmed = Field(attribute="last_confirmed", column_name="last_confirmed", widget=ISODateWidget())
    appointed = Field(attribute="appointed", column_name="appointed", widget=ISODateWidget())

    class Meta:
        model = PeerSupporter
        fields = ROSTER_COLUMNS
        import_order = ROSTER_COLUMNS
        export_order = ROSTER_COLUMNS
        skip_unchanged = True
        report_skipped = True
        store_row_values = True
        clean_model_instances = True
        use_transactions = True

    def __init__(self, *, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user
        self.county_ids = set(counties_in_scope(user).values_list("pk", flat=True)) if user else set()

    def get_queryset(self):
        if self.user is None:
            return PeerSupporter.objects.none()
        return supporters_in_scope(self.user).for_cards()

    def dehydrate_county(self, supporter):
        return supporter.municipality.county.number

    def export_resource(self, instance, selected_fields=None, **kwargs):
        # Whatever the format, no cell is a formula in a spreadsheet: a town of "=HYPERLINK(…)" typed by a supporter
        # must not run on a coordinator's computer. Reading a file takes the apostrophe off again.
        return [csv_safe(value) for value in super().export_resource(instance, selected_fields, **kwargs)]

    def get_instance(self, instance_loader, row):
        """By id when the row has one (it must be in scope), else by e-mail ignoring case, else a new supporter."""
        raw_id = cell_text(row.get("id"))
        if raw_id:
            if not raw_id.isdigit():
                raise ValidationError({"id": _("“%(value)s” is not a supporter id.") % {"value": raw_id}})
            supporter = self.get_queryset().filter(pk=int(raw_id)).first()
            if supporter is None:
                raise ValidationError(
                    {
                        "id": _("No supporter with id %(id)s in your counties. Leave id empty to add a new supporter.")
                        % {"id": raw_id}
                    }
                )
            return supporter
        email = cell_text(row.get("email"))
        if not email:
            return None
        matches = list(self.get_queryset().filter(email__iexact=email)[:2])
        if len(matches) > 1:
            raise ValidationError(
                {
                    "email": _("Several supporters have the e-mail %(email)s: give the id to say which.")
                    % {"email": email}
                }
            )
        if matches:
            return matches[0]
        if PeerSupporter.objects.filter(email__iexact=email).exists():
            raise ValidationError(
                {"email": _("The e-mail %(email)s belongs to a supporter outside your counties.") % {"email": email}}
            )
        return None

    def import_instance(self, instance, row, **kwargs):
        """Set every column present, collecting each column's error, and refuse counties outside the user's scope.

        Many-to-many columns are checked here too, so that an unknown specialty is a row error in the preview;
        they are saved by save_m2m once the supporter has an id.
        """
        errors = {}
        for resource_field in self.get_import_fields():
            if resource_field.attribute is None or resource_field.column_name not in row:
                continue
            try:
                if isinstance(resource_field.widget, widgets.ManyToManyWidget):
                    resource_field.clean(row)
                else:
                    self.import_field(resource_field, instance, row, **kwargs)
            except CountyError as error:
                errors["county"] = ValidationError(str(error), code="invalid")
            except ValueError as error:
                errors[resource_field.attribute] = ValidationError(str(error), code="invalid")
        county_id = instance.municipality.county_id if instance.municipality_id else None
        if not errors.keys() & {"county", "municipality"} and county_id not in self.county_ids:
            name = instance.municipality.county.name if county_id else ""
            errors["county"] = ValidationError(
                _("%(county)s is not one of your counties.") % {"county": name}, code="out_of_scope"
            )
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """full_clean, leaving out the columns already in error (and the municipality when its county is unknown)."""
        errors = dict(import_validation_errors or {})
        exclude = set(errors) | ({"municipality"} if "county" in errors else set())
        try:
            instance.full_clean(exclude=exclude, validate_unique=validate_unique)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)


ROW_OUTCOMES = {
    RowResult.IMPORT_TYPE_NEW: "new",
    RowResult.IMPORT_TYPE_UPDATE: "update",
    RowResult.IMPORT_TYPE_SKIP: "skip",
    RowResult.IMPORT_TYPE_INVALID: "error",
    RowResult.IMPORT_TYPE_ERROR: "error",
}


@dataclass
class ReportRow:
    number: int
    outcome: str
    name: str
    errors: list = field(default_factory=list)  # (column, message) pairs


@dataclass
class ImportReport:
    """What an import did or, in a dry run, would do: one entry per row, row 1 being the first under the headings."""

    rows: list = field(default_factory=list)
    file_errors: list = field(default_factory=list)
    dry_run: bool = True

    @property
    def has_errors(self):
        return bool(self.file_errors) or any(row.outcome == "error" for row in self.rows)

    @property
    def saved(self):
        return not self.dry_run and not self.has_errors

    def count(self, outcome):
        return sum(row.outcome == outcome for row in self.rows)

    # For templates, which cannot pass arguments.
    count_new = property(lambda self: self.count("new"))
    count_update = property(lambda self: self.count("update"))
    count_skip = property(lambda self: self.count("skip"))
    count_error = property(lambda self: self.count("error"))

    def errors(self):
        """Every row error as (row number, column, message)."""
        return [(row.number, column, message) for row in self.rows for column, message in row.errors]


def row_error_text(error):
    """An unexpected error on a row, for staff: the database's refusal said as such, anything else as it is."""
    if isinstance(error, DatabaseError):
        return _("The database refused this row (%(error)s).") % {"error": database_error_text(error)}
    return str(error)


def import_report(result, *, dry_run):
    """The outcome of each row of an import_export Result, with each error on its column."""
    report = ImportReport(dry_run=dry_run, file_errors=[str(error.error) for error in result.base_errors])
    for number, row_result in enumerate(result.rows, start=1):
        errors = []
        if row_result.validation_error is not None:
            for column, messages in row_result.validation_error.message_dict.items():
                errors.extend((column, message) for message in messages)
        errors.extend(("", row_error_text(error.error)) for error in row_result.errors)
        outcome = ROW_OUTCOMES.get(row_result.import_type, row_result.import_type)
        report.rows.append(ReportRow(number, outcome, cell_text((row_result.row_values or {}).get("name")), errors))
    return report


def roster_import(*, data, file_name, user, dry_run=True):
    """Import a roster file as user: every row or none. Returns an ImportReport; nothing is saved on a dry run."""
    try:
        dataset = read_roster_file(data, file_name=file_name)
    except RosterFileError as error:
        return ImportReport(file_errors=[str(error)], dry_run=dry_run)
    resource = PeerSupporterResource(user=user)
    result = resource.import_data(
        dataset, dry_run=dry_run, raise_errors=False, rollback_on_validation_errors=True, user=user
    )
    return import_report(result, dry_run=dry_run)


def roster_export(*, user, queryset=None):
    """The supporters in user's counties (of queryset, if given) as a tablib Dataset, in the import's columns."""
    resource = PeerSupporterResource(user=user)
    scoped = resource.get_queryset()
    if queryset is not None:
        scoped = scoped.filter(pk__in=queryset.values("pk"))
    return resource.export(queryset=scoped)
