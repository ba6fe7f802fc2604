"""Open data: the public roster as JSON at /api/roster.json, and the page at /open-data/ that documents it."""

import datetime
import html
import json
import logging
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from directory.models import PeerSupporter
from tests.test_search import PUBLIC_PAGE_MAX_QUERIES, cold_queries

pytestmark = pytest.mark.django_db

ROSTER = "/api/roster.json"
BERGEN, VOSS, OSLO, TROMSO, BAERUM = "4601", "4621", "0301", "5501", "3201"
GP = "general-practice-family-medicine"
MARKER = "zebra-marker-4711"

PAGE_KEYS = {
    "total_items",
    "total_pages",
    "page_number",
    "size",
    "first_page",
    "last_page",
    "empty",
    "notices",
    "contents",
}
SUPPORTER_KEYS = {
    "id",
    "name",
    "title",
    "status",
    "availability",
    "description",
    "specialties",
    "languages",
    "service_area",
    "contact",
    "meeting_modes",
    "evenings",
    "weekends",
    "last_assured_date",
    "distance_km",
    "url",
}


def roster(client, query="", **extra):
    """GET the roster with a raw query string (in English, so that notices can be read) and check it worked."""
    response = client.get(f"{ROSTER}?{query}", HTTP_ACCEPT_LANGUAGE="en", **extra)
    assert response.status_code == 200, response.content
    assert response.headers["Content-Type"] == "application/json"
    return response


def roster_ids(response):
    return [supporter["id"] for supporter in response.json()["contents"]]


def search_ids(client, query=""):
    response = client.get(f"/en/search/?{query}")
    assert response.status_code == 200
    return [supporter.pk for supporter in response.context["page"].object_list]


def populate(make_supporter, count):
    """count supporters over five municipalities, with specialties and languages to prefetch, some paused."""
    places = [BERGEN, VOSS, OSLO, TROMSO, BAERUM]
    for index in range(count):
        make_supporter(
            municipality=places[index % len(places)],
            specialties=["psychiatry", GP] if index % 2 else [GP],
            languages=["nb", "en"] if index % 3 else ["nb"],
            meets_by_video=index % 4 == 0,
            evenings=index % 2 == 0,
            availability=PeerSupporter.Availability.PAUSED if index % 5 == 0 else PeerSupporter.Availability.OPEN,
        )


# Same filters, same order as the search


@pytest.mark.parametrize(
    "query",
    [
        "",
        "county=46",
        f"municipality={BERGEN}",
        f"municipality={TROMSO}&specialty=psychiatry&mode=video",
        "specialty=psychiatry&specialty=" + GP + "&language=en",
        "mode=phone&mode=video&open=on",
        "q=bergen&evenings=on",
        "q=psykiatri&county=03",
        "page=2",
        "county=99&evenings=on",
        "page=9999",
    ],
)
def test_roster_gives_the_same_supporters_in_the_same_order_as_the_search(client, make_supporter, query):
    populate(make_supporter, 45)

    assert roster_ids(roster(client, query)) == search_ids(client, query)


def test_roster_pages_together_give_everyone_once_in_the_search_order(client, make_supporter):
    populate(make_supporter, 45)

    pages = [roster(client, f"per_page=20&page={number}").json() for number in (1, 2, 3)]
    everyone = [supporter["id"] for page in pages for supporter in page["contents"]]

    assert everyone == search_ids(client) + search_ids(client, "page=2") + search_ids(client, "page=3")
    assert sorted(everyone) == sorted(PeerSupporter.objects.values_list("pk", flat=True))
    assert [(page["page_number"], page["first_page"], page["last_page"]) for page in pages] == [
        (1, True, False),
        (2, False, False),
        (3, False, True),
    ]
    assert {(page["total_items"], page["total_pages"], page["size"]) for page in pages} == {(45, 3, 20)}


def test_unlisted_supporters_never_appear(client, make_supporter):
    listed = make_supporter(name="Listed Person")
    make_supporter(name="Hidden Person", listed=False)

    response = roster(client)

    assert roster_ids(response) == [listed.pk]
    assert response.json()["total_items"] == 1
    assert "Hidden Person" not in response.content.decode()


def test_an_empty_result_is_one_empty_page(client, make_supporter):
    make_supporter(municipality=OSLO)

    data = roster(client, "county=46").json()

    assert data == {
        "total_items": 0,
        "total_pages": 1,
        "page_number": 1,
        "size": 20,
        "first_page": True,
        "last_page": True,
        "empty": True,
        "notices": [],
        "contents": [],
    }


# Public fields only


def test_each_supporter_has_exactly_the_public_fields(client, make_supporter):
    make_supporter()

    data = roster(client).json()

    assert set(data) == PAGE_KEYS
    assert set(data["contents"][0]) == SUPPORTER_KEYS


def test_supporter_fields_say_what_the_profile_page_says(client, make_supporter):
    today = timezone.localdate()
    supporter = make_supporter(
        name="Kari Nordmann",
        title="Fastlege",
        municipality=BERGEN,
        town="Fana",
        specialties=[GP],
        languages=["nb", "en"],
        phone="+4741234567",
        email="kari@example.org",
        meets_by_video=True,
        evenings=True,
        note="Ring gjerne.",
        availability=PeerSupporter.Availability.FEW_PLACES,
        availability_until=today + datetime.timedelta(days=10),
        last_confirmed=datetime.date(2026, 9, 14),
    )

    (data,) = roster(client).json()["contents"]

    assert data == {
        "id": supporter.pk,
        "name": "Kari Nordmann",
        "title": "Fastlege",
        "status": "active",
        "availability": {"status": "few_places", "until": (today + datetime.timedelta(days=10)).isoformat()},
        "description": "Ring gjerne.",
        "specialties": [
            {"slug": GP, "name": {"nb": "Allmennmedisin", "en": "General practice (family medicine)"}},
        ],
        "languages": [
            {"code": "en", "name": {"nb": "Engelsk", "en": "English"}},
            {"code": "nb", "name": {"nb": "Norsk", "en": "Norwegian"}},
        ],
        "service_area": {
            "town": "Fana",
            "municipality": {"number": BERGEN, "name": "Bergen"},
            "county": {"number": "46", "name": "Vestland"},
        },
        "contact": {"phone": "+4741234567", "phone_national": "41 23 45 67", "email": "kari@example.org"},
        "meeting_modes": ["in_person", "phone", "video"],
        "evenings": True,
        "weekends": False,
        "last_assured_date": "2026-09-14",
        "distance_km": None,
        "url": {
            "nb": f"http://testserver/nb/supporters/{supporter.pk}/",
            "en": f"http://testserver/en/supporters/{supporter.pk}/",
        },
    }


def test_contact_details_not_shown_publicly_are_left_out(client, make_supporter):
    make_supporter(phone="+4741999888", show_phone=False, email="private@example.org", show_email=True)
    make_supporter(phone="+4741777666", email="hidden@example.org", show_email=False)

    response = roster(client)

    contacts = sorted((s["contact"] for s in response.json()["contents"]), key=lambda contact: str(contact["email"]))
    assert contacts == [
        {"phone": "+4741777666", "phone_national": "41 77 76 66", "email": None},
        {"phone": None, "phone_national": None, "email": "private@example.org"},
    ]
    body = response.content.decode()
    assert "41999888" not in body
    assert "hidden@example.org" not in body


def test_nothing_private_is_in_the_answer(client, make_supporter, django_user_model):
    supporter = make_supporter(appointed=datetime.date(2020, 1, 1), phone="+4741999888", show_phone=False)
    supporter.account = django_user_model.objects.create_user("login.only@example.org")
    supporter.save()

    body = roster(client).content.decode()

    for private in ("2020-01-01", "login.only@example.org", "41999888", "listed", "appointed", "account", "updated"):
        assert private not in body, private


def test_a_pause_that_has_ended_shows_as_open(client, make_supporter):
    make_supporter(
        availability=PeerSupporter.Availability.PAUSED,
        availability_until=timezone.localdate() - datetime.timedelta(days=1),
    )

    (data,) = roster(client).json()["contents"]

    assert data["availability"] == {"status": "open", "until": None}


def test_nearest_first_gives_the_distance_as_the_search_shows_it(client, make_supporter):
    bergen = make_supporter(municipality=BERGEN)
    oslo = make_supporter(municipality=OSLO)

    contents = roster(client, f"municipality={BERGEN}").json()["contents"]

    assert [supporter["id"] for supporter in contents] == [bergen.pk, oslo.pk]
    assert contents[0]["distance_km"] == 0
    assert 290 < contents[1]["distance_km"] < 330


# Paging and bad input: status 200, the rest applied, and the answer says what was left out


def test_page_size_can_be_chosen_up_to_the_most(client, make_supporter):
    populate(make_supporter, 25)

    assert len(roster(client, "per_page=5").json()["contents"]) == 5
    data = roster(client, "per_page=1000").json()
    assert (data["size"], len(data["contents"])) == (100, 25)
    assert data["notices"] == ["A page holds at most 100 supporters."]


@pytest.mark.parametrize(
    ("query", "notice"),
    [
        ("county=99", "There is no county “99”."),
        ("specialty=no-such-specialty", "There is no specialty “no-such-specialty”."),
        ("mode=teleport", "There is no meeting mode “teleport”."),
        ("language=xx", "There is no language “xx”."),
        ("municipality=9999", "There is no municipality “9999”."),
        ("q=" + "a" * 101, "The search text can be at most 100 characters."),
        ("q=%00", "Null characters are not allowed."),
        ("page=abc", "“abc” is not a page number, so the first page is shown."),
        ("page=0", "Page numbers start at 1, so the first page is shown."),
        ("page=12", "There is no page 12; the last page (1) is shown."),
        ("per_page=many", "“many” is not a page size, so pages of 20 are given."),
        ("per_page=-3", "Page sizes start at 1, so pages of 20 are given."),
    ],
)
def test_bad_input_is_left_out_and_the_answer_says_so(client, make_supporter, query, notice):
    evening = make_supporter(municipality=BERGEN, evenings=True)
    make_supporter(municipality=OSLO, evenings=False)

    data = roster(client, f"{query}&evenings=on").json()

    assert data["notices"] == [notice]
    assert [supporter["id"] for supporter in data["contents"]] == [evening.pk]


@pytest.mark.parametrize(
    "query",
    [
        "page=%00",
        "per_page=%00",
        "county=%00&municipality=%00&specialty=%00&language=%00&mode=%00&open=%00",
        "page=99999999999999999999999999",
        "per_page=99999999999999999999999999",
        "page=1e3&per_page=2.5",
        "page=-1&per_page=0",
        "open=no&evenings=false&weekends=",
        "unknown=1&page=1&page=2",
        "q=%F0%9F%A4%94%20%27%3B--",
        "municipality=4601&municipality=0301",
    ],
)
def test_no_parameter_breaks_the_roster(client, make_supporter, query):
    make_supporter(municipality=BERGEN, evenings=True)

    response = client.get(f"{ROSTER}?{query}")

    assert response.status_code == 200
    assert set(response.json()) == PAGE_KEYS


# HTTP: ETag, CORS, caching, methods


def test_roster_answers_304_to_its_own_etag(client, make_supporter):
    make_supporter()
    first = roster(client, "county=03")
    etag = first.headers["ETag"]

    again = client.get(f"{ROSTER}?county=03", HTTP_ACCEPT_LANGUAGE="en", HTTP_IF_NONE_MATCH=etag)

    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Access-Control-Allow-Origin"] == "*"
    assert again.headers["Cache-Control"] == "no-store"
    assert not again.cookies


def test_the_etag_changes_with_the_answer(client, make_supporter):
    supporter = make_supporter()
    etag = roster(client).headers["ETag"]

    assert roster(client, "county=03").headers["ETag"] == etag
    assert roster(client, "county=46").headers["ETag"] != etag
    supporter.evenings = True
    supporter.save()
    changed = client.get(ROSTER, HTTP_ACCEPT_LANGUAGE="en", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.json()["contents"][0]["evenings"] is True


def test_head_gives_the_headers_and_honours_the_etag(client, make_supporter):
    make_supporter()
    etag = roster(client).headers["ETag"]

    assert client.head(ROSTER, HTTP_ACCEPT_LANGUAGE="en").headers["ETag"] == etag
    assert client.head(ROSTER, HTTP_ACCEPT_LANGUAGE="en", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_roster_may_be_read_by_a_script_on_another_website(client, make_supporter):
    make_supporter()

    response = roster(client, HTTP_ORIGIN="https://legeforeningen.example")

    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    # A CORS read is not subject to Cross-Origin-Resource-Policy, so the site-wide value stays.
    assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_roster_sets_no_cookie_and_writes_nothing(client, make_supporter):
    make_supporter()

    with CaptureQueriesContext(connection) as queries:
        response = roster(client, f"q={MARKER}&county=03")

    assert not response.cookies
    assert "Set-Cookie" not in response.headers
    # A UNION of SELECTs (the reference data) starts with "(" on PostgreSQL.
    assert all(query["sql"].lstrip("( \n").upper().startswith("SELECT") for query in queries)


def test_roster_and_its_page_accept_only_get_and_head(make_supporter):
    make_supporter()
    client = Client()
    for path in (ROSTER, "/en/open-data/"):
        assert client.head(path).status_code == 200, path
        for method in ("post", "put", "patch", "delete", "options"):
            assert getattr(client, method)(path).status_code == 405, (path, method)


def test_roster_logs_nothing(client, make_supporter):
    make_supporter()
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    keeper = Keep(level=logging.DEBUG)
    logging.getLogger().addHandler(keeper)
    logging.getLogger("django").addHandler(keeper)
    try:
        roster(client, f"q={MARKER}")
        client.get(f"{ROSTER}?page={MARKER}")
    finally:
        logging.getLogger().removeHandler(keeper)
        logging.getLogger("django").removeHandler(keeper)

    assert records == []


# Query count


@pytest.mark.parametrize(
    "query",
    [
        "per_page=100",
        "county=46&per_page=100",
        f"municipality={BERGEN}&specialty=psychiatry&specialty={GP}&language=nb&mode=phone&q=bergen",
        "municipality=Bergen&language=en&language=nb&open=on&page=2&per_page=5",
    ],
)
def test_roster_needs_at_most_five_queries_cold_at_any_roster_size(client, make_supporter, query):
    populate(make_supporter, 10)
    _, with_ten = cold_queries(client, f"{ROSTER}?{query}")

    populate(make_supporter, 290)
    response, with_three_hundred = cold_queries(client, f"{ROSTER}?{query}")

    assert response.json()["contents"]
    assert with_ten <= PUBLIC_PAGE_MAX_QUERIES
    assert with_three_hundred == with_ten


# The page that documents it


def documented_fields(page, table_id):
    table = re.search(rf'<table class="ds-table" id="{table_id}">(.*?)</table>', page, re.S).group(1)
    first_cells = re.findall(r"<tr><td>(.*?)</td>", table)
    return {name for cell in first_cells for name in re.findall(r"<code>(\w+)</code>", cell)}


def test_open_data_page_documents_every_field_the_roster_gives(client, make_supporter):
    make_supporter()
    data = roster(client).json()

    response = client.get("/en/open-data/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "http://testserver/api/roster.json" in page
    assert documented_fields(page, "page-fields") == set(data)
    assert documented_fields(page, "supporter-fields") == set(data["contents"][0])
    example = json.loads(html.unescape(re.search(r'<pre class="open-data__example"><code>(.*?)</code>', page, re.S)[1]))
    assert set(example) == set(data)
    assert set(example["contents"][0]) == set(data["contents"][0])
    for key in ("availability", "service_area", "contact", "url"):
        assert set(example["contents"][0][key]) == set(data["contents"][0][key]), key


def test_open_data_page_is_in_both_languages(client):
    for language in ("nb", "en"):
        response = client.get(f"/{language}/open-data/")
        assert response.status_code == 200
        assert f'<html lang="{language}"' in response.content.decode()
