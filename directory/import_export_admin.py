"""Import and export buttons for the supporter changelist, within the staff member's counties.

Add RosterImportExportMixin first among the bases of the supporter ModelAdmin. Import always shows a preview of every
row (a dry run) before anything is saved; confirming imports all rows or none, with the admin log of it, in one
transaction: a row the database refuses, or any other database error on the way, leaves the roster as it was and staff
see a message saying so.

Between the preview and its confirmation the uploaded file, with names, e-mail addresses and phone numbers, waits in
a folder only the service's own user can open (RosterUploadStorage). It is removed as soon as the import is confirmed,
cancelled or refused, and a preview left open is removed UPLOAD_LIFETIME after it was made, the next time anyone uses
the import.
"""

import datetime
import logging
import os
import re
import stat
import tempfile
import time
import uuid
from pathlib import Path

from django import forms
from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext, ngettext_lazy
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import XLSX
from import_export.forms import ImportForm
from import_export.tmp_storages import BaseStorage

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


# Long enough to read the preview of a whole roster, short enough that a preview left open does not keep the file.
UPLOAD_LIFETIME = datetime.timedelta(minutes=30)


class RosterUploadGone(Exception):
    """The file of a preview is no longer kept: imported, cancelled, or older than UPLOAD_LIFETIME."""


class RosterUploadStorage(BaseStorage):
    """An uploaded roster file between its preview and its confirmation, readable by the service's own user only.

    Replaces django-import-export's TempFolderStorage, which removes the file only after a confirmed import and reads
    whatever path the confirmation form names. A file here is named by 32 random hex digits, the only names read or
    removed; it lives in one folder with mode 0700 (shared by the gunicorn workers of the machine), and a file older
    than UPLOAD_LIFETIME is neither read nor kept.
    """

    # Under TMPDIR when it is set; the user id keeps two services of one machine apart.
    folder = Path(tempfile.gettempdir()) / f"peer-directory-roster-uploads-{os.getuid()}"
    NAME = re.compile(r"[0-9a-f]{32}\Z")

    @classmethod
    def private_folder(cls):
        """The folder, made if need be; refused if it is a link or someone else's, closed to others if it is not."""
        cls.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = cls.folder.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            raise ImproperlyConfigured(f"{cls.folder} must be a folder of the user the site runs as, not a link.")
        if stat.S_IMODE(info.st_mode) != 0o700:
            cls.folder.chmod(0o700)
        return cls.folder

    @classmethod
    def remove_expired(cls):
        """Remove every file older than UPLOAD_LIFETIME: the previews that nobody confirmed or cancelled."""
        oldest = time.time() - UPLOAD_LIFETIME.total_seconds()
        with os.scandir(cls.private_folder()) as entries:
            for entry in entries:
                try:
                    if entry.stat(follow_symlinks=False).st_mtime < oldest:
                        Path(entry.path).unlink(missing_ok=True)
                except FileNotFoundError:
                    continue  # confirmed, cancelled or swept by another worker meanwhile

    def save(self, data):
        if isinstance(data, str):
            data = data.encode(self.encoding or "utf-8")
        self.name = uuid.uuid4().hex
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        with open(os.open(self.private_folder() / self.name, flags, 0o600), "wb") as file:
            file.write(data)

    def read(self):
        if not self._named():
            raise RosterUploadGone(self.name)
        try:
            with open(os.open(self.private_folder() / self.name, os.O_RDONLY | os.O_NOFOLLOW), "rb") as file:
                if os.fstat(file.fileno()).st_mtime < time.time() - UPLOAD_LIFETIME.total_seconds():
                    raise RosterUploadGone(self.name)
                data = file.read()
        except FileNotFoundError as error:
            raise RosterUploadGone(self.name) from error
        return data if "b" in self.read_mode else data.decode(self.encoding or "utf-8")

    def remove(self):
        if self._named():
            (self.private_folder() / self.name).unlink(missing_ok=True)

    def _named(self):
        # The name comes back from the browser in the confirmation form: anything but our own kind of name is refused.
        return isinstance(self.name, str) and self.NAME.match(self.name) is not None


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
    tmp_storage_class = RosterUploadStorage

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
        context["upload_minutes"] = upload_minutes()
        return context

    def import_action(self, request, **kwargs):
        """The library's preview, plus the outcome of every row and each error on its column and row.

        The uploaded file is kept only when the preview offers to confirm it: a file with errors, or one that cannot
        be read, is removed at once.
        """
        self.get_tmp_storage_class().remove_expired()
        confirmable = False
        try:
            response = super().import_action(request, **kwargs)
            context = getattr(response, "context_data", None) or {}
            if context.get("result") is not None:
                context["roster_report"] = import_report(context["result"], dry_run=True)
            confirmable = bool(context.get("confirm_form"))
            return response
        finally:
            if not confirmable:
                self.remove_upload(uploaded_name(request))

    def process_import(self, request, **kwargs):
        """Cancel or confirm a preview; either way its file is removed, whatever happens to the import."""
        self.get_tmp_storage_class().remove_expired()
        if request.method != "POST" or not self.has_import_permission(request):
            return super().process_import(request, **kwargs)  # refused as the library refuses them
        try:
            if "cancel" in request.POST:
                messages.info(request, _("Import cancelled: nothing was imported, and the file has been removed."))
                url = reverse("admin:{}_{}_changelist".format(*self.get_model_info()), current_app=self.admin_site.name)
                return HttpResponseRedirect(url)
            return self.confirmed_import(request, **kwargs)
        finally:
            self.remove_upload(request.POST.get("import_file_name"))

    def confirmed_import(self, request, **kwargs):
        """Every row and its admin log in one transaction, and only then the success message."""
        if not self.confirmation_understood(request):
            return self.import_failed(request, upload_gone_message())
        request.roster_import_result = None
        try:
            with transaction.atomic():
                response = super().process_import(request, **kwargs)
        except RosterUploadGone:
            return self.import_failed(request, upload_gone_message())
        except RosterFileError as error:
            # The file read as another format than its preview's (a confirmation naming the other offered format).
            return self.import_failed(request, str(error))
        except DatabaseError as error:
            logger.exception("A roster import failed and was undone.")
            return self.import_failed(request, database_refused_message(None, error))
        if request.roster_import_result is not None:
            super().add_success_message(request.roster_import_result, request)
        return response

    def confirmation_understood(self, request):
        """The confirmation names a file format and a resource that the preview offered: the library would index its
        lists with whatever a forged form says (a server error), or read a file as another format."""

        def offered(name, choices):
            value = request.POST.get(name) or "0"
            return value.isascii() and value.isdigit() and int(value) < len(choices)

        return offered("format", self.get_import_formats()) and offered(
            "resource", self.get_import_resource_classes(request)
        )

    def remove_upload(self, name):
        if name:
            self.get_tmp_storage_class()(name=name, **self.get_tmp_storage_class_kwargs()).remove()

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


def uploaded_name(request):
    """The name under which the preview kept the uploaded file, if it kept one (write_to_tmp_storage sets it)."""
    return getattr(request.FILES.get("import_file"), "tmp_storage_name", None)


def upload_minutes():
    return int(UPLOAD_LIFETIME.total_seconds() // 60)


def upload_gone_message():
    minutes = upload_minutes()
    return ngettext(
        "Nothing was imported: the file of this preview has been removed, as it is once imported or cancelled or "
        "%(minutes)d minute after the preview. Choose the file again.",
        "Nothing was imported: the file of this preview has been removed, as it is once imported or cancelled or "
        "%(minutes)d minutes after the preview. Choose the file again.",
        minutes,
    ) % {"minutes": minutes}


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
