"""The server-side page cache: a repeated public request costs no query, and no change to the roster is ever hidden.

These tests commit (transaction=True): the cache stays out of the way inside a transaction, which might roll back.
"""

import datetime
import re

import pytest
from django.core.cache import caches
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from counties.models import County, Municipality
from directory import cache as page_cache
from directory.models import Language, PeerSupporter, Reminder, Specialty
from tests.conftest import log_in_verified
from tests.test_privacy import assert_privacy_headers
from tests.test_roster_admin import change_url, form_data, run_action
from tests.test_roster_import import admin_url, csv_file, new_row, post_import

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("english_admin"),
]
MARKER = "zebra-cache-4711"


def visit(client, path, method="get", **extra):
    """The response and how many SQL queries answering it took."""
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(path, **extra)
    return response, len(queries)


def assert_from_cache(client, path, method="get", **extra):
    response, queries = visit(client, path, method, **extra)
    assert queries == 0, f"{path} was made afresh"
    return response


def assert_made_afresh(client, path, method="get", **extra):
    response, queries = visit(client, path, method, **extra)
    assert queries > 0, f"{path} came from the cache"
    return response


def html(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    return response.content.decode()


def write_behind_djangos_back(sql, *params):
    """A write the roster watch cannot see (straight through the database driver), to show what the cache holds."""
    connection.ensure_connection()
    sql = sql.replace("%s", "?") if connection.vendor == "sqlite" else sql
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, params)
    finally:
        cursor.close()


@pytest.fixture
def visitor():
    return Client()


@pytest.fixture
def anne(make_supporter):
    return make_supporter(name="Anne Alvheim", municipality="Bergen", specialties=["psychiatry"], town="Fana")


@pytest.fixture
def staff(django_user_model):
    admin = django_user_model.objects.create_superuser("admin@example.org", password="a long admin passphrase")
    return log_in_verified(Client(), admin)


def public_paths(supporter):
    return [
        "/en/",
        "/nb/",
        "/en/search/",
        "/en/search/?county=46&specialty=psychiatry&mode=phone",
        "/en/search/?q=bergen&municipality=4601",
        "/en/counties/46/",
        "/en/counties/46/?page=2",
        supporter.get_absolute_url(),
        f"{supporter.get_absolute_url()}vcard/",
        "/api/roster.json",
        "/api/roster.json?county=46&per_page=5",
    ]


# Served from the cache


def test_a_repeated_public_request_is_answered_from_the_cache_without_a_query(visitor, anne):
    for path in public_paths(anne):
        first, queries = visit(visitor, path)
        assert first.status_code == 200, path
        assert queries > 0, path
        again = assert_from_cache(visitor, path)
        assert again.status_code == 200
        assert again.content == first.content, path
        for header in ("Content-Type", "Content-Disposition", "ETag", "Access-Control-Allow-Origin"):
            assert again.headers.get(header) == first.headers.get(header), (path, header)


def test_what_the_cache_holds_is_served_until_the_roster_version_changes(visitor, anne):
    assert "Anne Alvheim" in html(visitor, anne.get_absolute_url())
    write_behind_djangos_back("UPDATE directory_peersupporter SET name = %s WHERE id = %s", "Astrid Aas", anne.pk)
    assert "Anne Alvheim" in html(visitor, anne.get_absolute_url())

    page_cache.roster_changed()

    assert "Astrid Aas" in html(visitor, anne.get_absolute_url())


def test_a_cached_page_keeps_the_privacy_headers_and_sets_no_cookie(visitor, anne):
    for path in public_paths(anne):
        visitor.get(path)
        response = assert_from_cache(visitor, path)
        assert_privacy_headers(response, path)
        assert response.headers["Cache-Control"] == "no-store", path
        assert not response.cookies, path
        assert "Set-Cookie" not in response.headers, path
    assert not visitor.cookies


def test_head_and_get_share_the_cached_page(visitor, anne):
    head, _ = visit(visitor, "/en/search/?county=46", "head")
    assert head.status_code == 200
    assert head.content == b""
    get = assert_from_cache(visitor, "/en/search/?county=46")
    assert "Anne Alvheim" in get.content.decode()
    head = assert_from_cache(visitor, "/en/search/?county=46", "head")
    assert head.status_code == 200
    assert head.content == b""


def test_the_open_data_etag_still_answers_not_modified(visitor, anne):
    first = visitor.get("/api/roster.json?county=46")
    etag = first.headers["ETag"]

    not_modified = assert_from_cache(visitor, "/api/roster.json?county=46", HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304
    assert not_modified.headers["ETag"] == etag
    assert not_modified.headers["Access-Control-Allow-Origin"] == "*"
    assert not_modified.content == b""
    other = assert_from_cache(visitor, "/api/roster.json?county=46", HTTP_IF_NONE_MATCH='"something-else"')
    assert other.status_code == 200
    assert other.content == first.content


def test_a_conditional_request_that_finds_nothing_cached_stores_the_whole_answer(visitor, anne):
    etag = visitor.get("/api/roster.json").headers["ETag"]
    page_cache.roster_changed()  # obsolete, although the answer stays the same

    not_modified = assert_made_afresh(visitor, "/api/roster.json", HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304
    assert not_modified.headers["Access-Control-Allow-Origin"] == "*"
    whole = assert_from_cache(visitor, "/api/roster.json")
    assert whole.status_code == 200
    assert whole.headers["ETag"] == etag
    assert whole.json()["total_items"] == 1


def test_each_language_scheme_and_host_has_its_own_page(visitor, anne):
    english, norwegian = html(visitor, "/en/"), html(visitor, "/nb/")
    assert english != norwegian
    assert 'lang="en"' in english
    assert 'lang="nb"' in norwegian

    notices_nb = visitor.get("/api/roster.json?page=x", HTTP_ACCEPT_LANGUAGE="nb").json()["notices"]
    notices_en = visitor.get("/api/roster.json?page=x", HTTP_ACCEPT_LANGUAGE="en").json()["notices"]
    assert notices_nb != notices_en

    plain = visitor.get("/api/roster.json").json()["contents"][0]["url"]["en"]
    secure = visitor.get("/api/roster.json", secure=True).json()["contents"][0]["url"]["en"]
    other_host = visitor.get("/api/roster.json", HTTP_HOST="localhost").json()["contents"][0]["url"]["en"]
    assert plain.startswith("http://testserver/")
    assert secure.startswith("https://testserver/")
    assert other_host.startswith("http://localhost/")


def test_the_keys_are_hashes_that_hold_no_search_text(visitor, anne):
    visitor.get(f"/en/search/?q={MARKER}&county=46")
    visitor.get(f"/api/roster.json?q={MARKER}")

    keys = list(caches["default"]._cache)
    assert len([key for key in keys if ":page:" in key]) == 2
    for key in keys:
        assert MARKER not in key
        assert "search" not in key
    for key in (key for key in keys if ":page:" in key):
        assert re.fullmatch(r":\d+:page:[0-9a-f]{64}", key), key


# Never for a logged-in user


def test_a_logged_in_user_is_never_served_a_cached_page(visitor, staff, anne):
    visitor.get("/en/search/?county=46")
    visitor.get(anne.get_absolute_url())

    for path in ("/en/search/?county=46", anne.get_absolute_url()):
        response = assert_made_afresh(staff, path)
        assert "Log out" in response.content.decode()
        assert response.headers["Cache-Control"] == "private, no-store"


def test_a_page_a_logged_in_user_saw_is_never_stored(visitor, staff, anne):
    assert "Log out" in html(staff, "/en/")
    assert "Log out" in html(staff, "/en/")

    response = assert_made_afresh(visitor, "/en/")
    assert "Log out" not in response.content.decode()


def test_a_request_with_any_cookie_bypasses_the_cache(anne):
    # Such as the message a browser carries home after logging out.
    browser = Client()
    browser.cookies["messages"] = "a message for this browser only"
    browser.get("/en/")
    assert_made_afresh(browser, "/en/")
    assert_made_afresh(Client(), "/en/")


# Every change to the roster shows at once


def test_an_admin_save_shows_at_once(visitor, staff, anne):
    assert "Fana" in html(visitor, anne.get_absolute_url())
    form = staff.get(change_url(anne))
    response = staff.post(change_url(anne), form_data(form, town="Nesttun"))
    assert response.status_code == 302

    assert "Nesttun" in html(visitor, anne.get_absolute_url())


def test_an_admin_bulk_action_shows_at_once(visitor, staff, anne):
    assert "Anne Alvheim" in html(visitor, "/en/search/?county=46")
    run_action(staff, "unlist_supporters", [anne])

    assert "Anne Alvheim" not in html(visitor, "/en/search/?county=46")
    assert visitor.get(anne.get_absolute_url()).status_code == 404


def test_an_admin_delete_shows_at_once(visitor, staff, anne):
    assert "Anne Alvheim" in html(visitor, "/en/search/")
    response = run_action(staff, "delete_selected", [anne], post="yes")
    assert response.status_code == 302
    assert not PeerSupporter.objects.exists()

    assert "Anne Alvheim" not in html(visitor, "/en/search/")


def test_a_my_listing_save_and_confirmation_show_at_once(visitor, anne, django_user_model):
    from tests.test_my_listing import form_data as listing_form_data

    anne.account = django_user_model.objects.create_user("anne@example.org", password="a long passphrase")
    anne.save()
    supporter = Client()
    supporter.force_login(anne.account)
    assert "Fana" in html(visitor, anne.get_absolute_url())

    supporter.post("/en/my/", listing_form_data(anne, town="Nesttun", note="New words for doctors."))
    page = html(visitor, anne.get_absolute_url())
    assert "Nesttun" in page
    assert "New words for doctors." in page

    PeerSupporter.objects.filter(pk=anne.pk).update(last_confirmed=datetime.date(2020, 1, 1))
    assert 'datetime="2020-01-01"' in html(visitor, anne.get_absolute_url())
    supporter.post("/en/my/confirm/")
    assert f'datetime="{timezone.localdate().isoformat()}"' in html(visitor, anne.get_absolute_url())


def test_an_import_shows_at_once(visitor, staff):
    assert "Nina Ny" not in html(visitor, "/en/search/")
    preview = post_import(staff, csv_file([new_row()]))
    assert "Nina Ny" not in html(visitor, "/en/search/")  # a preview changes nothing
    response = staff.post(admin_url("process_import"), preview.context["confirm_form"].initial)
    assert response.status_code == 302

    assert "Nina Ny" in html(visitor, "/en/search/")


def test_a_change_of_specialties_or_languages_shows_at_once(visitor, anne):
    assert "Anne Alvheim" not in html(visitor, "/en/search/?specialty=general-practice-family-medicine")
    anne.specialties.add(Specialty.objects.get(slug="general-practice-family-medicine"))
    assert "Anne Alvheim" in html(visitor, "/en/search/?specialty=general-practice-family-medicine")

    assert "Anne Alvheim" not in html(visitor, "/en/search/?language=en")
    anne.languages.add(Language.objects.get(code="en"))
    assert "Anne Alvheim" in html(visitor, "/en/search/?language=en")
    anne.languages.clear()
    assert "Anne Alvheim" not in html(visitor, "/en/search/?language=en")


def test_renaming_a_specialty_county_or_municipality_shows_at_once(visitor, anne):
    assert "Psychiatry" in html(visitor, anne.get_absolute_url())
    specialty = Specialty.objects.get(slug="psychiatry")
    specialty.name_en = "Psychiatry of the mind"
    specialty.save()
    assert "Psychiatry of the mind" in html(visitor, anne.get_absolute_url())

    assert "Vestland" in html(visitor, "/en/")
    County.objects.filter(number="46").update(name="Vestlandet")  # a bulk update sends no signal
    assert "Vestlandet" in html(visitor, "/en/")

    Municipality.objects.filter(number="4601").update(name="Bjørgvin")
    assert "Bjørgvin" in html(visitor, anne.get_absolute_url())


def test_bulk_creates_updates_deletes_and_raw_sql_show_at_once(visitor, anne):
    search = "/en/search/?county=46"
    assert "Anne Alvheim" in html(visitor, search)

    PeerSupporter.objects.filter(pk=anne.pk).update(name="Astrid Aas")
    assert "Astrid Aas" in html(visitor, search)

    PeerSupporter.objects.bulk_create(
        [PeerSupporter(name="Berit Bulk", municipality=anne.municipality, email="berit@example.org")]
    )
    assert "Berit Bulk" in html(visitor, search)

    with connection.cursor() as cursor:
        cursor.execute("UPDATE directory_peersupporter SET name = %s WHERE id = %s", ["Cecilie Raw", anne.pk])
    assert "Cecilie Raw" in html(visitor, search)

    PeerSupporter.objects.filter(name="Berit Bulk").delete()
    assert "Berit Bulk" not in html(visitor, search)


def test_a_write_elsewhere_leaves_the_cached_pages_alone(visitor, anne, django_user_model):
    visitor.get("/en/search/")
    Reminder.objects.create(supporter=anne, kind=Reminder.Kind.CONFIRM, key=timezone.localdate())
    django_user_model.objects.create_user("someone@example.org")

    assert_from_cache(visitor, "/en/search/")


def test_a_change_inside_a_transaction_makes_pages_obsolete_when_it_commits_and_not_before(anne):
    before = page_cache.roster_version()
    with transaction.atomic():
        for town in ("Arna", "Åsane", "Fana"):
            anne.town = town
            anne.save()
        assert page_cache.roster_version() == before
        ours = {page_cache.after_commit_roster_changed, page_cache.after_commit_reference_changed}
        assert [entry[1] for entry in connection.run_on_commit if entry[1] in ours] == [
            page_cache.after_commit_roster_changed
        ]
    assert page_cache.roster_version() != before


def test_a_change_that_is_rolled_back_leaves_the_cached_pages_alone(visitor, anne):
    before = page_cache.roster_version()
    with transaction.atomic():
        anne.town = "Arna"
        anne.save()
        transaction.set_rollback(True)
    assert page_cache.roster_version() == before


def test_a_change_after_a_rolled_back_savepoint_still_makes_pages_obsolete(anne):
    before = page_cache.roster_version()
    with transaction.atomic():
        with transaction.atomic():
            anne.town = "Arna"
            anne.save()
            transaction.set_rollback(True)
        anne.town = "Åsane"
        anne.save()
    assert page_cache.roster_version() != before


def test_pages_inside_a_transaction_are_neither_served_from_nor_stored_in_the_cache(visitor, anne):
    visitor.get("/en/search/")
    with transaction.atomic():
        assert_made_afresh(visitor, "/en/search/")
        visitor.get("/en/counties/46/")
    visitor.get("/en/counties/46/")
    assert_from_cache(visitor, "/en/counties/46/")


# Day, release, lost version, failures, settings


def test_the_next_day_every_page_is_made_afresh(visitor, anne, monkeypatch):
    visitor.get("/en/search/")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    monkeypatch.setattr(page_cache, "today", lambda: tomorrow)

    assert_made_afresh(visitor, "/en/search/")
    assert_from_cache(visitor, "/en/search/")


def test_a_new_release_makes_every_page_afresh(visitor, anne, monkeypatch):
    visitor.get("/en/")
    assert re.fullmatch(r"[0-9a-f]{64}", page_cache.code_fingerprint())
    monkeypatch.setattr(page_cache, "code_fingerprint", lambda: "another release")

    assert_made_afresh(visitor, "/en/")


def test_a_lost_roster_version_never_brings_back_an_old_page(visitor, anne):
    assert "Anne Alvheim" in html(visitor, anne.get_absolute_url())
    write_behind_djangos_back("UPDATE directory_peersupporter SET name = %s WHERE id = %s", "Astrid Aas", anne.pk)
    page_cache.version_cache().delete(page_cache.VERSION_KEY)  # as when Redis restarts or evicts it

    assert "Astrid Aas" in html(visitor, anne.get_absolute_url())


class BrokenCache:
    def __getattr__(self, name):
        def broken(*args, **kwargs):
            raise ConnectionError("the cache server is away")

        return broken


def test_a_failing_page_cache_only_costs_the_saving(visitor, anne, monkeypatch):
    visitor.get("/en/")
    monkeypatch.setattr(page_cache, "caches", {"default": BrokenCache(), "roster_version": BrokenCache()})

    assert assert_made_afresh(visitor, "/en/").status_code == 200
    assert assert_made_afresh(visitor, "/en/search/").status_code == 200
    assert page_cache.reference_version() is None


def test_a_page_cache_of_zero_seconds_is_no_page_cache(visitor, anne, settings):
    settings.PAGE_CACHE_SECONDS = 0
    visitor.get("/en/")
    assert_made_afresh(visitor, "/en/")


def test_the_reference_version_changes_with_counties_municipalities_specialties_and_languages_only(anne):
    before = page_cache.reference_version()
    anne.town = "Arna"
    anne.save()
    anne.specialties.clear()
    assert page_cache.reference_version() == before

    for change in (
        lambda: County.objects.filter(number="46").update(name="Vestlandet"),
        lambda: Municipality.objects.filter(number="4601").update(name="Bjørgvin"),
        lambda: Specialty.objects.filter(slug="psychiatry").update(name_en="Psychiatry of the mind"),
        lambda: Language.objects.filter(code="en").update(name_en="English language"),
    ):
        change()
        assert page_cache.reference_version() != before
        before = page_cache.reference_version()


def test_every_connection_watches_the_roster_tables(anne):
    connection.ensure_connection()
    assert page_cache.watch_roster_writes in connection.execute_wrappers
    pattern, reference = page_cache.watched_tables()
    assert reference == {"directory_specialty", "directory_language", "counties_county", "counties_municipality"}
    for table in (
        "directory_peersupporter",
        "directory_peersupporter_specialties",
        "directory_peersupporter_languages",
        "directory_specialty",
        "directory_language",
        "counties_county",
        "counties_municipality",
    ):
        assert pattern.search(f'UPDATE "{table}" SET x = 1'), table
    for table in (
        "directory_historicalpeersupporter",
        "directory_reminder",
        "accounts_user",
        "counties_historicalcounty",
    ):
        assert not pattern.search(f'INSERT INTO "{table}" VALUES (1)'), table
