"""Every message of the templates and the code has a translation in both catalogues, and the compiled ones match."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

BASE_DIR = Path(settings.BASE_DIR)
LANGUAGES = [code for code, _name in settings.LANGUAGES]
# What makemessages reads: the project's code and templates (not the tests, the tools or the virtual environment).
SOURCES = ["accounts", "config", "counties", "directory", "staff", "tallies", "training", "templates", "manage.py"]


def catalogue(language, root=BASE_DIR):
    return polib.pofile(str(root / "locale" / language / "LC_MESSAGES" / "django.po"))


def is_translated(entry):
    if "fuzzy" in entry.flags:
        return False
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


def untranslated(po):
    return [entry.msgid for entry in po if not entry.obsolete and not is_translated(entry)]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The catalogues after collecting the messages afresh in a copy of the sources (the real ones stay as they are)."""
    root = tmp_path_factory.mktemp("messages")
    for name in SOURCES:
        source = BASE_DIR / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(source, root / name)
    shutil.copytree(BASE_DIR / "locale", root / "locale", ignore=shutil.ignore_patterns("parts"))
    command = [sys.executable, "manage.py", "makemessages", "--no-obsolete", "--verbosity", "0"]
    command += [f"--locale={language}" for language in LANGUAGES]
    environment = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "DJANGO_DEBUG": "true"}
    environment["DJANGO_SETTINGS_MODULE"] = "config.settings"
    subprocess.run(command, cwd=root, env=environment, check=True)
    return root


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_has_a_translation(extracted, language):
    po = catalogue(language, extracted)

    assert len(po) > 100, "the messages were not collected"
    assert untranslated(po) == [], f"translate these in locale/{language}/LC_MESSAGES/django.po, then `make messages`"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_committed_catalogue_holds_every_collected_message(extracted, language):
    collected = {(entry.msgctxt, entry.msgid) for entry in catalogue(language, extracted)}
    committed = {(entry.msgctxt, entry.msgid) for entry in catalogue(language) if not entry.obsolete}

    assert collected - committed == set(), "run `make messages`"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_matches_its_source(language):
    po = catalogue(language)
    mo = polib.mofile(str(BASE_DIR / "locale" / language / "LC_MESSAGES" / "django.mo"))
    # msgfmt leaves out what is untranslated or marked fuzzy; those entries fail the test above.
    translations = {
        (entry.msgctxt, entry.msgid): (entry.msgstr, entry.msgstr_plural)
        for entry in po.translated_entries()
        if entry.msgid
    }
    compiled = {(entry.msgctxt, entry.msgid): (entry.msgstr, entry.msgstr_plural) for entry in mo if entry.msgid}

    assert compiled == translations, "run `make messages` to compile the catalogue"


def test_a_missing_translation_would_be_noticed():
    po = polib.POFile()
    po.append(polib.POEntry(msgid="Find a colleague", msgstr=""))
    po.append(polib.POEntry(msgid="Search", msgstr="Søk", flags=["fuzzy"]))
    po.append(polib.POEntry(msgid="one", msgid_plural="many", msgstr_plural={0: "én", 1: ""}))
    po.append(polib.POEntry(msgid="Done", msgstr="Ferdig"))

    assert untranslated(po) == ["Find a colleague", "Search", "one"]


@pytest.mark.django_db
def test_the_pages_speak_the_language_of_their_address():
    client = Client()
    for language, heading in [("nb", "Kollegastøtte for leger"), ("en", "Peer support for doctors")]:
        with translation.override(language):
            url = reverse("directory:home")
        response = client.get(url)
        html = response.content.decode()
        assert url == f"/{language}/"
        assert f'<html lang="{language}"' in html
        assert heading in html
        assert "Set-Cookie" not in response.headers


@pytest.mark.django_db
def test_the_bare_address_sends_the_visitor_to_a_language_without_a_cookie():
    client = Client()
    assert client.get("/")["Location"] == "/nb/"
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")["Location"] == "/en/"
    response = client.get("/search/?county=03")
    assert response["Location"] == "/nb/search/?county=03"
    assert not client.cookies
