"""Roster import: the uploaded file is kept privately between preview and confirmation, and never longer.

Every test sends the system's temporary folder to one of its own, so that a file left anywhere in it is seen.
"""

import csv
import io
import os
import stat
import tempfile
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django.urls import reverse

from directory.import_export_admin import UPLOAD_LIFETIME, RosterUploadStorage
from directory.models import PeerSupporter
from directory.resources import PeerSupporterResource

pytestmark = pytest.mark.usefixtures("english_admin")


@pytest.fixture
def temp_folder(tmp_path, monkeypatch):
    """The system's temporary folder for this test, with the upload folder in it."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(RosterUploadStorage, "folder", tmp_path / "roster-uploads", raising=False)
    return tmp_path


def files_in(folder):
    return sorted(path for path in folder.rglob("*") if not path.is_dir())


def roster_csv(**values):
    row = {"name": "Nina Ny", "county": "03", "municipality": "0301", "email": "nina@example.org", **values}
    stream = io.StringIO(newline="")
    writer = csv.writer(stream)
    writer.writerow(row)
    writer.writerow(row.values())
    return stream.getvalue().encode()


def url(action):
    return reverse(f"admin:directory_peersupporter_{action}")


def preview(client, data, file_name="roster.csv"):
    upload = io.BytesIO(data)
    upload.name = file_name
    return client.post(url("import"), {"import_file": upload, "format": 0, "resource": 0})


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def age(path, seconds):
    then = time.time() - seconds
    os.utime(path, (then, then))


@pytest.fixture
def client(roles):
    return roles.clients["oslo_coordinator"]


def test_a_preview_keeps_the_file_where_only_the_service_can_read_it(temp_folder, client):
    response = preview(client, roster_csv())
    assert "confirm_form" in response.context
    [kept] = files_in(temp_folder)
    assert kept.parent == RosterUploadStorage.folder
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "data",
    [
        roster_csv(county="Vestland", municipality="Bergen"),  # a row outside the coordinator's counties
        roster_csv(specialties="Kardiolgi"),  # an unknown value
        b"name,county\nA,03\n",  # a missing column
        b"\x00\x01\x02PK\x00 binary",  # not text at all
    ],
)
def test_a_refused_preview_leaves_no_file(temp_folder, client, data):
    response = preview(client, data)
    assert response.status_code == 200
    assert "confirm_form" not in response.context
    assert files_in(temp_folder) == []


def test_a_confirmed_import_leaves_no_file(temp_folder, client):
    confirm = preview(client, roster_csv()).context["confirm_form"].initial
    [kept] = files_in(temp_folder)
    assert kept.parent == RosterUploadStorage.folder
    response = client.post(url("process_import"), confirm)
    assert response.status_code == 302
    assert PeerSupporter.objects.filter(email="nina@example.org").exists()
    assert files_in(temp_folder) == []


def test_a_confirmed_import_that_the_database_refuses_leaves_no_file(temp_folder, client, monkeypatch):
    confirm = preview(client, roster_csv()).context["confirm_form"].initial
    assert len(files_in(temp_folder)) == 1

    def refused(*args, **kwargs):
        raise DatabaseError("could not serialize access")

    monkeypatch.setattr(PeerSupporterResource, "import_data", refused)
    response = client.post(url("process_import"), confirm, follow=True)

    [message] = messages_of(response)
    assert message.startswith("Nothing was imported: the database refused the import")
    assert files_in(temp_folder) == []


def test_the_preview_offers_to_cancel(temp_folder, client):
    body = preview(client, roster_csv()).content.decode()
    assert 'name="cancel"' in body
    assert "The file is kept on the server until you confirm or cancel, for at most 30 minutes." in body


def test_a_cancelled_import_leaves_no_file_imports_nothing_and_returns_to_the_list(temp_folder, client):
    confirm = preview(client, roster_csv()).context["confirm_form"].initial
    response = client.post(url("process_import"), {**confirm, "cancel": "Cancel"}, follow=True)
    assert response.redirect_chain == [(url("changelist"), 302)]
    assert messages_of(response) == ["Import cancelled: nothing was imported, and the file has been removed."]
    assert not PeerSupporter.objects.filter(email="nina@example.org").exists()
    assert files_in(temp_folder) == []


def test_an_abandoned_preview_is_removed_once_it_is_older_than_the_limit(temp_folder, client, roles):
    preview(client, roster_csv())
    [abandoned] = files_in(temp_folder)
    age(abandoned, UPLOAD_LIFETIME.total_seconds() + 60)
    preview(roles.clients["vestland_coordinator"], roster_csv(county="46", municipality="4601"))
    [recent] = files_in(temp_folder)
    age(recent, UPLOAD_LIFETIME.total_seconds() - 60)

    # Anyone opening the import removes what has expired, and only that.
    assert roles.clients["administrator"].get(url("import")).status_code == 200
    assert files_in(temp_folder) == [recent]


def test_a_confirmation_after_the_limit_imports_nothing_and_says_why(temp_folder, client):
    confirm = preview(client, roster_csv()).context["confirm_form"].initial
    [kept] = files_in(temp_folder)
    age(kept, UPLOAD_LIFETIME.total_seconds() + 60)

    response = client.post(url("process_import"), confirm, follow=True)

    assert response.redirect_chain == [(url("import"), 302)]
    [message] = messages_of(response)
    assert message.startswith("Nothing was imported: the file of this preview has been removed")
    assert "30 minutes after the preview" in message
    assert not PeerSupporter.objects.filter(email="nina@example.org").exists()
    assert files_in(temp_folder) == []


def test_confirming_twice_imports_once_and_says_so(temp_folder, client):
    confirm = preview(client, roster_csv()).context["confirm_form"].initial
    assert client.post(url("process_import"), confirm).status_code == 302
    again = client.post(url("process_import"), confirm, follow=True)
    assert again.redirect_chain == [(url("import"), 302)]
    assert PeerSupporter.objects.filter(email="nina@example.org").count() == 1


@pytest.mark.parametrize("name", ["elsewhere", "../elsewhere", "roster-uploads/../elsewhere"])
def test_a_confirmation_cannot_read_or_remove_a_file_outside_the_upload_folder(temp_folder, client, name):
    confirm = preview(client, roster_csv()).context["confirm_form"].initial
    elsewhere = temp_folder / "elsewhere"
    elsewhere.write_bytes(roster_csv())
    for file_name in (name, str(elsewhere)):
        response = client.post(url("process_import"), {**confirm, "import_file_name": file_name})
        assert response.status_code == 302
        assert elsewhere.exists()
    assert not PeerSupporter.objects.filter(email="nina@example.org").exists()


@pytest.mark.parametrize(
    "forged",
    [{"format": "7"}, {"format": "abc"}, {"format": "-1"}, {"resource": "5"}, {"format": "\u0661"}, {"format": "1"}],
)
def test_a_confirmation_naming_a_format_or_resource_the_preview_did_not_offer_imports_nothing(
    temp_folder, client, forged
):
    confirm = preview(client, roster_csv()).context["confirm_form"].initial

    response = client.post(url("process_import"), {**confirm, **forged}, follow=True)

    assert response.status_code == 200
    assert "Nothing was imported" in " ".join(messages_of(response)) or "cannot be read" in " ".join(
        messages_of(response)
    )
    assert not PeerSupporter.objects.filter(email="nina@example.org").exists()
    assert files_in(temp_folder) == []


def test_an_upload_folder_open_to_others_is_closed_again(temp_folder):
    RosterUploadStorage.folder.mkdir(mode=0o755)
    RosterUploadStorage.folder.chmod(0o755)
    RosterUploadStorage.remove_expired()
    assert stat.S_IMODE(RosterUploadStorage.folder.stat().st_mode) == 0o700


def test_an_upload_folder_that_is_a_link_is_refused(temp_folder):
    (temp_folder / "somewhere").mkdir()
    RosterUploadStorage.folder.symlink_to(temp_folder / "somewhere")
    with pytest.raises(ImproperlyConfigured):
        RosterUploadStorage.remove_expired()
