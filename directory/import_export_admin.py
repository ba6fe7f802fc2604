"""Import and export buttons for the supporter changelist, within the staff member's counties.

Add RosterImportExportMixin first among the bases of the supporter ModelAdmin. Import always shows a preview of every
row (a dry run) before anything is saved; confirming imports all rows or none, with the admin log of it, in one
transaction: a row the database refuses, or any other database error on the way, leaves the roster as it was and staff
see a message saying so.
"""

import logging

from django import forms
from django.contrib import messages
from django.db import DatabaseError, transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext_lazy
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import XLSX
from import_export.forms import ImportForm

from accounts.access import is_roster_staff, supporters_in_scope
from accounts.admin_actions import database_error_text
from directory.import_formats import MAX_FILE_BYTES, MAX_ROWS, RosterCSV, RosterExportCSV, RosterFileError, RosterXLSX
from directory.resources import PeerSupporterResource, import_report

logger = logging.getLogger(__name__)

# django-import-export comes without a Norwegian catalogue. Its messages that staff meet on the import and export
# pages are named here so that they are collected into the project's catalogue, which Django consults first.
LIBRARY_MESSAGES = [
    gettext_noop("Import"),
    gettext_noop("Export"),
    gettext_noop("Resource"),
    gettext_noop("Format"),
    gettext_noop("File to import"),
    gettext_noop("Submit"),
    gettext_noop("Select all"),
    gettext_noop("Export selected %(verbose_name_plural)s"),
    ngettext_lazy("Export %(len)s selected item.", "Export %(len)s selected items.", "len"),
    gettext_noop("This importer will import the following fields: "),
    gettext_noop("This exporter will export the following fields: "),
    gettext_noop(
        "Below is a preview of data to be imported. If you are satisfied with the results, click 'Confirm import'"
    ),
    gettext_noop("Confirm import"),
    gettext_noop("Import finished: {} new, {} updated, {} deleted and {} skipped {}."),
    gettext_noop(
        "%(exc_name)s encountered while trying to read file. Ensure you have chosen the correct format for the file."
    ),
    gettext_noop("No valid data to import. Ensure your file has the correct headers or data for import."),
    gettext_noop("Errors"),
    gettext_noop("Line number"),
    gettext_noop("Some rows failed to validate"),
    gettext_noop("Please correct these errors in your data where possible, then reupload it using the form above."),
    gettext_noop("Row"),
    gettext_noop("Non field specific"),
    gettext_noop("Preview"),
    gettext_noop("New"),
    gettext_noop("Skipped"),
    gettext_noop("Delete"),
    gettext_noop("Update"),
    gettext_noop("Value could not be parsed."),
]


class RosterImportForm(ImportForm):
    """The library's import form, refusing an oversized file before it is read."""

    def clean_import_file(self):
        import_file = self.cleaned_data["import_file"]
        if import_file.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(megabytes)d MB.") % {"megabytes": MAX_FILE_BYTES // (1024 * 1024)}
            )
        return import_file


class RosterImportExportMixin(ImportExportMixin):
    resource_classes = [PeerSupporterResource]
    import_formats = [RosterCSV, RosterXLSX]
    export_formats = [RosterExportCSV, XLSX]
    import_form_class = RosterImportForm
    import_template_name = "admin/import_export/roster_import.html"
    import_error_display = ("message",)

    def has_import_permission(self, request):
        return (
            is_roster_staff(request.user) and self.has_add_permission(request) and self.has_change_permission(request)
        )

    def has_export_permission(self, request):
        return is_roster_staff(request.user) and self.has_view_permission(request)

    def get_import_resource_kwargs(self, request, **kwargs):
        return {**super().get_import_resource_kwargs(request, **kwargs), "user": request.user}

    def get_export_resource_kwargs(self, request, **kwargs):
        return {**super().get_export_resource_kwargs(request, **kwargs), "user": request.user}

    def get_import_data_kwargs(self, **kwargs):
        # Any invalid row rolls back the whole import, not only rows with unexpected errors.
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    def get_export_queryset(self, request):
        queryset = super().get_export_queryset(request)
        return queryset.filter(pk__in=supporters_in_scope(request.user).values("pk"))

    def get_valid_export_item_pks(self, request):
        # Replaces the library's deprecated default, which would offer every supporter in the database.
        return supporters_in_scope(request.user).values_list("pk", flat=True)

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, RosterFileError):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def get_import_context_data(self, **kwargs):
        context = super().get_import_context_data(**kwargs)
        context["roster_limits"] = {"megabytes": MAX_FILE_BYTES // (1024 * 1024), "rows": MAX_ROWS}
        return context

    def import_action(self, request, **kwargs):
        """The library's preview, plus the outcome of every row and each error on its column and row."""
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None)
        if context and context.get("result") is not None:
            result = context["result"]
            context["roster_report"] = import_report(result, dry_run=True)
        return response

    def process_import(self, request, **kwargs):
        """The confirmed import: every row and its admin log in one transaction, and only then the success message."""
        request.roster_import_result = None
        try:
            with transaction.atomic():
                response = super().process_import(request, **kwargs)
        except DatabaseError as error:
            logger.exception("A roster import failed and was undone.")
            return self.import_failed(request, database_refused_message(None, error))
        if request.roster_import_result is not None:
            super().add_success_message(request.roster_import_result, request)
        return response

    def add_success_message(self, result, request):
        # Said by process_import once the import is committed, never for one that is then undone.
        request.roster_import_result = result

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            # The transaction was rolled back: either the database refused a row (or the import as a whole), or the
            # roster changed between preview and confirmation so that a row no longer imports.
            errors = [(None, error.error) for error in result.base_errors]
            errors += [(number, error.error) for number, row_errors in result.row_errors() for error in row_errors]
            refused = [(number, error) for number, error in errors if isinstance(error, DatabaseError)]
            if refused:
                message = database_refused_message(*refused[0])
            else:
                message = _("Nothing was imported: the file no longer imports without errors. Try again.")
            return self.import_failed(request, message)
        return super().process_result(result, request)

    def import_failed(self, request, message):
        messages.error(request, message)
        url = reverse("admin:{}_{}_import".format(*self.get_model_info()), current_app=self.admin_site.name)
        return HttpResponseRedirect(url)


def database_refused_message(number, error):
    """What staff are told when the database refused a row of the import (number) or the import as a whole (None)."""
    if number is None:
        message = _(
            "Nothing was imported: the database refused the import (%(error)s). Try again; if it fails again, tell "
            "whoever runs the site."
        )
    else:
        message = _(
            "Nothing was imported: the database refused row %(number)d (%(error)s). Try again; if it fails again, "
            "tell whoever runs the site."
        )
    return message % {"number": number, "error": database_error_text(error)}
