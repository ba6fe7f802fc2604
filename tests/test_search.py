"""The public search at /search/: filters, free text, nearest first, the remote list, paging and bad input."""

import datetime
import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from counties.models import Municipality
from directory.models import PeerSupporter
from directory.reference import forget_reference

pytestmark = pytest.mark.django_db

BERGEN, VOSS, OSLO, TROMSO, BAERUM = "4601", "4621", "0301", "5501", "3201"
ENT = "otorhinolaryngology-ear-nose-and-throat"
GP = "general-practice-family-medicine"

# Every public page, on a cold request (no rendered page cached, no reference data in memory), at any number of
# supporters. The search with a county: the reference data (counties, municipalities, specialties, languages, in
# one query), the count, one page of cards, the remote list; the other pages need fewer. Any more means a query per
# supporter, per card or per filter crept in.
PUBLIC_PAGE_MAX_QUERIES = 5
# The search page with twenty cards, and with the ten of the remote list, in bytes.
SEARCH_PAGE_MAX_BYTES = 40_000


def search(client, data=None):
    """GET /search/ with data (a dict, lists for repeated keys, or a raw query string) and check it worked."""
    response = client.get(f"/en/search/?{data}") if isinstance(data, str) else client.get("/en/search/", data or {})
    assert response.status_code == 200
    return response


def found(response):
    """The supporters on this page of results, in the order shown."""
    return list(response.context["page"].object_list)


def found_ids(response):
    return [supporter.pk for supporter in found(response)]


def remote_ids(response):
    remote = response.context["remote"]
    return None if remote is None else [supporter.pk for supporter in remote]


def cards(response):
    """The HTML of each supporter card in the main results (not the remote list), by supporter id."""
    results = response.content.decode().split('<section class="remote"')[0]
    pattern = r'<article class="ds-card supporter-card" aria-labelledby="supporter-(\d+)">(.*?)</article>'
    return {int(pk): body for pk, body in re.findall(pattern, results, re.S)}


def notice(response):
    """The text of the "could not be understood" notice, or "" when there is none."""
    match = re.search(
        r'<div class="ds-alert notice" data-color="warning" role="status">(.*?)</div>', response.content.decode(), re.S
    )
    return html.unescape(match.group(1)) if match else ""


# Each filter alone


def test_no_filter_shows_every_listed_supporter(client, make_supporter):
    supporters = {make_supporter(municipality=number).pk for number in (OSLO, BERGEN, TROMSO)}

    response = search(client)

    assert set(found_ids(response)) == supporters
    assert "3 peer supporters" in response.content.decode()


def test_county_filter_keeps_only_that_county(client, make_supporter):
    bergen = make_supporter(municipality=BERGEN)
    voss = make_supporter(municipality=VOSS)
    make_supporter(municipality=OSLO)
    make_supporter(municipality=TROMSO)

    response = search(client, {"county": "46"})

    assert set(found_ids(response)) == {bergen.pk, voss.pk}
    assert "2 peer supporters" in response.content.decode()


def test_municipality_orders_nearest_first_without_hiding_anyone(client, make_supporter):
    # Created far to near, so that creation order cannot pass for distance order.
    tromso = make_supporter(municipality=TROMSO)
    oslo = make_supporter(municipality=OSLO)
    voss = make_supporter(municipality=VOSS)
    bergen = make_supporter(municipality=BERGEN)

    response = search(client, {"municipality": BERGEN})

    assert found_ids(response) == [bergen.pk, voss.pk, oslo.pk, tromso.pk]


def test_specialty_filter_with_several_values_means_either(client, make_supporter):
    psychiatrist = make_supporter(specialties=["psychiatry"])
    gp = make_supporter(specialties=[GP])
    make_supporter(specialties=[ENT])
    make_supporter(specialties=[])

    assert set(found_ids(search(client, {"specialty": "psychiatry"}))) == {psychiatrist.pk}
    assert set(found_ids(search(client, {"specialty": ["psychiatry", GP]}))) == {psychiatrist.pk, gp.pk}


@pytest.mark.parametrize(
    ("modes", "expected"),
    [
        (["in_person"], {"in_person_only", "everything"}),
        (["phone"], {"phone_only", "everything"}),
        (["video"], {"video_only", "everything"}),
        (["phone", "video"], {"phone_only", "video_only", "everything"}),
        (["in_person", "video"], {"in_person_only", "video_only", "everything"}),
    ],
)
def test_mode_filter_with_several_values_means_either(client, make_supporter, modes, expected):
    supporters = {
        "in_person_only": make_supporter(meets_in_person=True, meets_by_phone=False, meets_by_video=False),
        "phone_only": make_supporter(meets_in_person=False, meets_by_phone=True, meets_by_video=False),
        "video_only": make_supporter(meets_in_person=False, meets_by_phone=False, meets_by_video=True),
        "everything": make_supporter(meets_in_person=True, meets_by_phone=True, meets_by_video=True),
    }

    response = search(client, {"mode": modes})

    assert set(found_ids(response)) == {supporters[key].pk for key in expected}


def test_language_filter_with_several_values_means_either(client, make_supporter):
    norwegian = make_supporter(languages=["nb"])
    english = make_supporter(languages=["en"])
    sami = make_supporter(languages=["se"])
    make_supporter(languages=["de"])

    assert set(found_ids(search(client, {"language": "se"}))) == {sami.pk}
    assert set(found_ids(search(client, {"language": ["nb", "en"]}))) == {norwegian.pk, english.pk}


def test_open_filter_keeps_supporters_open_to_new_contacts_today(client, make_supporter):
    today = timezone.localdate()
    day = datetime.timedelta(days=1)
    open_ = make_supporter(availability="open")
    few_places = make_supporter(availability="few_places", availability_until=today + day)
    pause_ended_yesterday = make_supporter(availability="paused", availability_until=today - day)
    make_supporter(availability="paused")
    make_supporter(availability="paused", availability_until=today)  # the last day of the pause
    make_supporter(availability="paused", availability_until=today + day)

    response = search(client, {"open": "on"})

    assert set(found_ids(response)) == {open_.pk, few_places.pk, pause_ended_yesterday.pk}


def test_open_now_counts_a_pause_that_has_ended_as_open(make_supporter, today):
    ended = make_supporter(availability="paused", availability_until=today - datetime.timedelta(days=1))
    ends_today = make_supporter(availability="paused", availability_until=today)
    open_today = PeerSupporter.objects.open_now(today)

    assert ended in open_today
    assert ends_today not in open_today


@pytest.mark.parametrize("flag", ["evenings", "weekends"])
def test_ticked_time_box_keeps_only_supporters_who_can_meet_then(client, make_supporter, flag):
    can = make_supporter(**{flag: True})
    make_supporter(**{flag: False})

    assert found_ids(search(client, {flag: "on"})) == [can.pk]


@pytest.mark.parametrize("flag", ["evenings", "weekends"])
@pytest.mark.parametrize("unticked", [{}, {"evenings": "", "weekends": ""}, {"evenings": "false", "weekends": "false"}])
def test_unticked_time_box_means_no_filter(client, make_supporter, flag, unticked):
    can = make_supporter(**{flag: True})
    cannot = make_supporter(**{flag: False})

    assert set(found_ids(search(client, unticked))) == {can.pk, cannot.pk}


def test_free_text_filter_keeps_matching_supporters(client, make_supporter):
    kari = make_supporter(name="Kari Nordmann")
    make_supporter(name="Ola Hansen")

    assert found_ids(search(client, {"q": "nordmann"})) == [kari.pk]


# Combinations


def test_different_filters_must_all_match(client, make_supporter):
    everything = {
        "municipality": OSLO,
        "specialties": ["psychiatry"],
        "languages": ["en"],
        "meets_in_person": False,
        "meets_by_video": True,
        "evenings": True,
        "weekends": True,
        "name": "Anne Lie",
    }
    match = make_supporter(**everything)
    # Each of these misses exactly one of the criteria.
    for miss in [
        {"municipality": BERGEN},
        {"specialties": [GP]},
        {"languages": ["nb"]},
        {"meets_by_video": False, "meets_by_phone": True},
        {"evenings": False},
        {"weekends": False},
        {"name": "Berit Lie"},
        {"availability": "paused"},
    ]:
        make_supporter(**{**everything, **miss})
    query = {
        "county": "03",
        "specialty": "psychiatry",
        "language": "en",
        "mode": "video",
        "evenings": "on",
        "weekends": "on",
        "open": "on",
        "q": "anne",
    }

    response = search(client, query)

    assert found_ids(response) == [match.pk]
    assert "1 peer supporter" in response.content.decode()


def test_filters_combine_with_nearest_first_order(client, make_supporter):
    far = make_supporter(municipality=TROMSO, specialties=["psychiatry"])
    near = make_supporter(municipality=VOSS, specialties=["psychiatry"])
    make_supporter(municipality=BERGEN, specialties=[GP])

    response = search(client, {"municipality": BERGEN, "specialty": "psychiatry"})

    assert found_ids(response) == [near.pk, far.pk]


# Free text: folding, words, duplicates


@pytest.mark.parametrize(
    ("query", "municipality"),
    [("tromso", TROMSO), ("baerum", BAERUM), ("TROMSØ", TROMSO), ("Bærum", BAERUM), ("aalesund", "1508")],
)
def test_free_text_finds_municipality_typed_without_norwegian_letters(client, make_supporter, query, municipality):
    wanted = make_supporter(municipality=municipality)
    make_supporter(municipality=OSLO)
    make_supporter(municipality=BERGEN)

    assert found_ids(search(client, {"q": query})) == [wanted.pk]


@pytest.mark.parametrize("query", ["ore-nese-hals", "Øre-nese-hals", "ØRE NESE HALS", "ear nose throat"])
def test_free_text_finds_specialty_with_folded_hyphenated_name(client, make_supporter, query):
    ent = make_supporter(specialties=[ENT])
    make_supporter(specialties=["psychiatry"])
    make_supporter(specialties=[])

    assert found_ids(search(client, {"q": query})) == [ent.pk]


@pytest.mark.parametrize("query", ["odegard", "ÅSE", "Ødegård", "aase odegaard", "ØDEGÅRD åse"])
def test_free_text_is_blind_to_case_and_norwegian_letters_in_names(client, make_supporter, query):
    aase = make_supporter(name="Åse Ødegård")
    make_supporter(name="Ola Hansen")

    assert found_ids(search(client, {"q": query})) == [aase.pk]


@pytest.mark.parametrize("query", ["more og romsdal", "Møre", "ROMSDAL"])
def test_free_text_finds_the_county_by_name(client, make_supporter, query):
    in_county = make_supporter(municipality="Molde")
    make_supporter(municipality=OSLO)

    assert found_ids(search(client, {"q": query})) == [in_county.pk]


def test_free_text_finds_a_town_that_is_not_the_municipality(client, make_supporter):
    sandvika = make_supporter(municipality=BAERUM, town="Sandvika")
    make_supporter(municipality=BAERUM)

    assert found_ids(search(client, {"q": "sandvika"})) == [sandvika.pk]


def test_free_text_finds_by_title(client, make_supporter):
    chief = make_supporter(title="Overlege")
    make_supporter(title="Fastlege")

    assert found_ids(search(client, {"q": "overlege"})) == [chief.pk]


def test_every_word_of_free_text_must_match_somewhere(client, make_supporter):
    bergen_psychiatrist = make_supporter(municipality=BERGEN, specialties=["psychiatry"])
    make_supporter(municipality=OSLO, specialties=["psychiatry"])
    make_supporter(municipality=BERGEN, specialties=[GP])

    assert found_ids(search(client, {"q": "psykiatri bergen"})) == [bergen_psychiatrist.pk]
    assert found_ids(search(client, {"q": "Bergen   Psychiatry"})) == [bergen_psychiatrist.pk]


def test_free_text_of_only_punctuation_hides_nobody(client, make_supporter):
    supporters = {make_supporter().pk, make_supporter().pk}

    assert set(found_ids(search(client, {"q": " - / "}))) == supporters


def test_supporter_with_several_matching_specialties_is_shown_once(client, make_supporter):
    both = make_supporter(specialties=["psychiatry", "child-and-adolescent-psychiatry", "addiction-medicine"])

    for query in [
        {"q": "psykiatri"},
        {"specialty": ["psychiatry", "child-and-adolescent-psychiatry", "addiction-medicine"]},
        {"q": "psykiatri", "specialty": ["psychiatry", "child-and-adolescent-psychiatry"]},
    ]:
        response = search(client, query)
        assert found_ids(response) == [both.pk], query
        assert "1 peer supporter" in response.content.decode()


def test_supporter_with_several_matching_languages_is_shown_once(client, make_supporter):
    polyglot = make_supporter(languages=["nb", "en", "se", "de"])

    response = search(client, {"language": ["nb", "en", "se", "de"]})

    assert found_ids(response) == [polyglot.pk]
    assert "1 peer supporter" in response.content.decode()


def test_matching_text_queryset_folds_and_needs_every_word(make_supporter):
    wanted = make_supporter(municipality=TROMSO, specialties=[ENT], name="Per Ås")
    make_supporter(municipality=TROMSO, specialties=["psychiatry"])
    make_supporter(municipality=OSLO, specialties=[ENT])

    matches = PeerSupporter.objects.matching_text("Tromsø ØRE-nese-hals")

    assert list(matches) == [wanted]


# Nearest first


def test_nearest_first_orders_bergen_voss_oslo_tromso(client, make_supporter):
    # Created in a scrambled order, two in each municipality.
    created = {number: [] for number in (BERGEN, VOSS, OSLO, TROMSO)}
    for number in (OSLO, TROMSO, BERGEN, VOSS, TROMSO, BERGEN, OSLO, VOSS):
        created[number].append(make_supporter(municipality=number))

    response = search(client, {"municipality": BERGEN})

    numbers = [supporter.municipality.number for supporter in found(response)]
    assert numbers == [BERGEN, BERGEN, VOSS, VOSS, OSLO, OSLO, TROMSO, TROMSO]


def test_nearest_first_shows_distances_and_the_chosen_municipality(client, make_supporter):
    bergen = make_supporter(municipality=BERGEN)
    voss = make_supporter(municipality=VOSS)
    oslo = make_supporter(municipality=OSLO)
    tromso = make_supporter(municipality=TROMSO)

    response = search(client, {"municipality": BERGEN})

    page = response.content.decode()
    shown = cards(response)
    assert "nearest to Bergen first" in page
    assert "in the municipality you chose" in shown[bergen.pk]

    def km(supporter):
        match = re.search(r"about (\d+) km away", shown[supporter.pk])
        assert match, shown[supporter.pk]
        return int(match.group(1))

    # Great-circle distances between the municipalities' centroids.
    assert 55 <= km(voss) <= 85
    assert 280 <= km(oslo) <= 320
    assert 1100 <= km(tromso) <= 1300


def test_no_distances_without_a_chosen_municipality(client, make_supporter):
    make_supporter(municipality=BERGEN)
    make_supporter(municipality=OSLO)

    page = search(client, {"county": ""}).content.decode()

    assert "km away" not in page
    assert "in the municipality you chose" not in page
    assert "nearest to" not in page


def test_nearest_first_queryset_annotates_distance(make_supporter, today):
    make_supporter(municipality=OSLO)
    make_supporter(municipality=BERGEN)

    ordered = list(PeerSupporter.objects.nearest_to(Municipality.objects.get(number=BERGEN), today))

    assert [supporter.municipality.number for supporter in ordered] == [BERGEN, OSLO]
    assert ordered[0].distance_km == pytest.approx(0, abs=0.01)
    assert ordered[1].distance_km == pytest.approx(299, abs=5)


# Remote list: other counties, by phone or video


def test_remote_list_shows_other_counties_by_phone_or_video_matching_the_rest(client, make_supporter):
    def supporter(municipality, *modes, specialty="psychiatry", **fields):
        meets = {f"meets_{mode}": mode in modes for mode in ("in_person", "by_phone", "by_video")}
        return make_supporter(municipality=municipality, specialties=[specialty], **meets, **fields)

    in_county = supporter(BERGEN, "by_phone", "by_video")
    by_phone = supporter(OSLO, "by_phone")
    by_video = supporter(TROMSO, "by_video")
    every_way = supporter(OSLO, "in_person", "by_phone", "by_video")
    supporter(OSLO, "in_person")
    supporter(OSLO, "by_phone", specialty=GP)
    supporter(OSLO, "by_phone", listed=False)

    response = search(client, {"county": "46", "specialty": "psychiatry"})

    assert found_ids(response) == [in_county.pk]
    assert set(remote_ids(response)) == {by_phone.pk, by_video.pk, every_way.pk}
    assert "Outside Vestland, by phone or video" in response.content.decode()


def test_remote_list_never_shows_supporters_from_the_chosen_county(client, make_supporter):
    bergen = make_supporter(municipality=BERGEN, meets_by_phone=True, meets_by_video=True)
    voss = make_supporter(municipality=VOSS, meets_by_phone=True)
    oslo = make_supporter(municipality=OSLO, meets_by_phone=True)

    response = search(client, {"county": "46"})

    assert set(found_ids(response)) == {bergen.pk, voss.pk}
    assert remote_ids(response) == [oslo.pk]


def test_remote_list_keeps_free_text_language_and_open_filters(client, make_supporter):
    phone = {"municipality": OSLO, "meets_by_phone": True, "languages": ["en"], "name": "Kari Lie"}
    wanted = make_supporter(**phone)
    make_supporter(**{**phone, "languages": ["nb"]})
    make_supporter(**{**phone, "name": "Kari Berg"})
    make_supporter(**{**phone, "availability": "paused"})

    response = search(client, {"county": "46", "q": "lie", "language": "en", "open": "on"})

    assert found_ids(response) == []
    assert remote_ids(response) == [wanted.pk]


def test_no_remote_list_without_a_county(client, make_supporter):
    make_supporter(municipality=OSLO, meets_by_phone=True, meets_by_video=True)

    for query in [{}, {"municipality": BERGEN}, {"county": "99"}, {"specialty": "psychiatry"}]:
        response = search(client, query)
        assert response.context["remote"] is None, query
        assert "by phone or video</h2>" not in response.content.decode()


def test_remote_list_links_to_everyone_who_meets_remotely_keeping_the_rest_of_the_search(client, make_supporter):
    make_supporter(municipality=OSLO, meets_by_video=True, languages=["en"])

    response = search(client, {"county": "46", "language": "en", "open": "on", "mode": "in_person", "page": "2"})

    link = html.unescape(
        re.search(r'<a href="([^"]+)" class="ds-link">Everyone in the country who meets', response.content.decode())[1]
    )
    path, query = urlsplit(link).path, parse_qs(urlsplit(link).query)
    assert path == "/en/search/"
    assert query == {"language": ["en"], "open": ["on"], "mode": ["phone", "video"]}


# Unlisted supporters


def test_unlisted_supporters_never_appear(client, make_supporter):
    hidden = make_supporter(name="Skjult Person", municipality=OSLO, listed=False, meets_by_video=True)
    shown = make_supporter(name="Synlig Person", municipality=BERGEN)

    for query in [{}, {"q": "skjult"}, {"municipality": OSLO}, {"county": "46"}, {"county": "03"}, {"open": "on"}]:
        response = search(client, query)
        assert hidden.pk not in found_ids(response), query
        assert hidden.pk not in (remote_ids(response) or []), query
        assert "Skjult" not in response.content.decode(), query
    assert found_ids(search(client)) == [shown.pk]


# Paging


@pytest.fixture
def forty_five_in_oslo_on_evenings(make_supporter):
    """45 supporters matching county=03&evenings=on, and some that do not."""
    wanted = [make_supporter(municipality=OSLO, evenings=True).pk for _ in range(45)]
    make_supporter(municipality=OSLO, evenings=False)
    make_supporter(municipality=BERGEN, evenings=True, meets_by_phone=False, meets_in_person=True)
    return wanted


def test_twenty_per_page_with_the_total_shown(client, forty_five_in_oslo_on_evenings):
    response = search(client, {"county": "03", "evenings": "on"})

    assert len(found(response)) == 20
    assert len(cards(response)) == 20
    page = response.content.decode()
    assert "45 peer supporters" in page
    assert "Page 1 of 3" in page


def test_pages_keep_the_filters_and_together_show_everyone_once(client, forty_five_in_oslo_on_evenings):
    seen = []
    response = search(client, {"county": "03", "evenings": "on"})
    for number in (1, 2, 3):
        assert f"Page {number} of 3" in response.content.decode()
        seen += found_ids(response)
        next_link = re.search(r'<a rel="next" href="([^"]*)"', response.content.decode())
        if number == 3:
            assert next_link is None
            break
        href = html.unescape(next_link.group(1))
        params = parse_qs(urlsplit(href).query, keep_blank_values=True)
        assert params == {"county": ["03"], "evenings": ["on"], "page": [str(number + 1)]}
        response = search(client, urlsplit(href).query)

    assert len(seen) == 45
    assert sorted(seen) == sorted(forty_five_in_oslo_on_evenings)


def test_previous_link_keeps_the_filters(client, forty_five_in_oslo_on_evenings):
    response = search(client, {"county": "03", "evenings": "on", "page": "2"})

    previous = re.search(r'<a rel="prev" href="([^"]*)"', response.content.decode())
    params = parse_qs(urlsplit(html.unescape(previous.group(1))).query)
    assert params == {"county": ["03"], "evenings": ["on"], "page": ["1"]}
    assert len(found(response)) == 20


def test_page_beyond_the_end_shows_the_last_page_and_says_so(client, forty_five_in_oslo_on_evenings):
    response = search(client, {"county": "03", "evenings": "on", "page": "99999"})

    assert response.context["page"].number == 3
    assert len(found(response)) == 5
    assert "There is no page 99999; the last page (3) is shown." in notice(response)


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("abc", "“abc” is not a page number, so the first page is shown."),
        ("-1", "Page numbers start at 1, so the first page is shown."),
        ("0", "Page numbers start at 1, so the first page is shown."),
        ("2.5", "“2.5” is not a page number, so the first page is shown."),
    ],
)
def test_page_that_is_not_a_page_number_shows_the_first_page_and_says_so(
    client, forty_five_in_oslo_on_evenings, page, message
):
    response = search(client, {"county": "03", "evenings": "on", "page": page})

    assert response.context["page"].number == 1
    assert len(found(response)) == 20
    assert message in notice(response)


def test_a_valid_page_gives_no_notice(client, forty_five_in_oslo_on_evenings):
    response = search(client, {"county": "03", "evenings": "on", "page": "2"})

    assert response.context["page"].number == 2
    assert notice(response) == ""


# Bad input: status 200, a clear message, the rest of the search still applied


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("county=99", "There is no county “99”."),
        ("specialty=no-such-specialty", "There is no specialty “no-such-specialty”."),
        ("mode=teleport", "There is no meeting mode “teleport”."),
        ("language=xx", "There is no language “xx”."),
        ("municipality=9999", "There is no municipality “9999”."),
        ("q=" + "a" * 101, "The search text can be at most 100 characters."),
        ("q=%00", "Null characters are not allowed."),
        ("q=bergen%00", "Null characters are not allowed."),
    ],
)
def test_bad_input_is_left_out_with_a_clear_message(client, make_supporter, query, message):
    evening = make_supporter(municipality=BERGEN, evenings=True)
    make_supporter(municipality=OSLO, evenings=False)

    response = search(client, f"{query}&evenings=on")

    assert message in notice(response)
    assert "could not be understood and was left out" in notice(response)
    # The rest of the search still applies.
    assert found_ids(response) == [evening.pk]


@pytest.mark.parametrize("field", ["county", "municipality", "specialty", "language", "mode", "open", "page"])
def test_nul_byte_in_any_field_never_breaks_the_page(client, make_supporter, field):
    supporter = make_supporter(municipality=BERGEN)

    response = search(client, f"{field}=%00")

    assert found_ids(response) == [supporter.pk]


def test_a_valid_search_gives_no_notice(client, make_supporter):
    make_supporter(specialties=["psychiatry"])

    response = search(client, {"county": "03", "specialty": "psychiatry", "mode": "phone", "q": "oslo"})

    assert notice(response) == ""
    assert len(found(response)) == 1


def test_q_of_exactly_100_characters_is_accepted(client, make_supporter):
    make_supporter()

    response = search(client, {"q": "x" * 100})

    assert notice(response) == ""
    assert found(response) == []


def test_empty_result_suggests_widening_the_search(client, make_supporter):
    make_supporter(municipality=OSLO, specialties=[GP])

    response = search(client, {"county": "03", "specialty": "psychiatry"})

    page = response.content.decode()
    assert found(response) == []
    assert "0 peer supporters" in page
    assert "No peer supporter matches all of these choices." in page
    assert "Try fewer filters, another county" in page
    assert 'href="/en/search/">Show all supporters</a>' in page


def test_results_page_gives_no_empty_state_when_something_matches(client, make_supporter):
    make_supporter()

    assert "No peer supporter matches" not in search(client).content.decode()


# Query count


def populate(make_supporter, count):
    """count supporters spread over Vestland and other counties, with specialties and languages to read."""
    places = [BERGEN, VOSS, OSLO, TROMSO, BAERUM]
    for index in range(count):
        make_supporter(
            municipality=places[index % len(places)],
            specialties=["psychiatry", GP],
            languages=["nb", "en"],
            meets_by_video=True,
        )


def cold_queries(client, path):
    """The SQL queries of a request with nothing in memory or cached: no page, no reference data."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()
    forget_reference()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, path
    return response, len(queries)


EVERY_FILTER = (
    f"county=46&municipality={BERGEN}&specialty=psychiatry&specialty={GP}&language=nb&language=en"
    "&mode=phone&mode=video&q=psykiatri&open=on"
)
PUBLIC_PAGES = [
    "/en/",
    "/en/search/",
    "/en/search/?county=46&specialty=psychiatry",
    "/en/search/?q=bergen+psykiatri",
    f"/en/search/?municipality={BERGEN}",
    "/en/search/?municipality=Bergen&q=lege",
    f"/en/search/?{EVERY_FILTER}",
    "/en/search/?county=46&page=2",
    "/en/counties/46/",
    "/api/roster.json",
    f"/api/roster.json?{EVERY_FILTER}&per_page=100",
]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_needs_at_most_five_queries_cold_at_any_roster_size(client, make_supporter, path):
    populate(make_supporter, 10)
    _, with_ten = cold_queries(client, path)

    populate(make_supporter, 290)
    response, with_three_hundred = cold_queries(client, path)

    assert PeerSupporter.objects.count() == 300
    assert with_ten <= PUBLIC_PAGE_MAX_QUERIES
    assert with_three_hundred == with_ten
    if "/counties/" in path or ("county=46" in path and "/search/" in path):
        assert response.context["remote"], "the remote list must be part of the measured page"


def test_profile_needs_at_most_five_queries_cold(client, make_supporter):
    supporter = make_supporter(specialties=["psychiatry", GP], languages=["nb", "en"])
    populate(make_supporter, 30)

    response, count = cold_queries(client, supporter.get_absolute_url())

    assert count <= PUBLIC_PAGE_MAX_QUERIES
    assert "Psychiatry" in response.content.decode()


def test_the_search_page_reads_reference_data_count_page_and_remote_list(
    client, make_supporter, django_assert_num_queries
):
    populate(make_supporter, 30)
    client.get("/en/search/?county=46")

    # The reference data (read afresh inside a test's transaction; kept in memory between requests otherwise), the
    # count, one page of cards with their specialties and languages, the remote list.
    with django_assert_num_queries(4):
        response = search(client, {"county": "46", "specialty": "psychiatry", "language": "en"})
    assert len(found(response)) == 12
    assert len(remote_ids(response)) == 10


def test_cards_show_specialties_and_languages_read_with_the_page(client, make_supporter):
    make_supporter(name="Both Lists", specialties=["psychiatry", GP], languages=["nb", "en"])

    (card,) = cards(search(client, {"q": "both"})).values()

    assert "General practice (family medicine), Psychiatry" in card
    assert "Speaks English, Norwegian" in card


# Page size


def realistic_roster(make_supporter, county_count=25, elsewhere=12):
    """Supporters with details as long as the demo roster's, in Oslo and elsewhere, meeting by phone or video."""
    long_names = ["Kristoffer Johannessen", "Marianne Abrahamsen-Kristiansen", "Åse Ødegård"]
    places = [OSLO] * county_count + [BERGEN, TROMSO, BAERUM, VOSS] * (elsewhere // 4)
    for index, place in enumerate(places):
        name = long_names[index % 3]
        make_supporter(
            name=name,
            title="Overlege",
            municipality=place,
            town="Sandvika" if place == BAERUM else "",
            email=f"{name.lower().replace(' ', '.')}.{index}@legeforeningen-eksempel.no",
            specialties=["psychiatry", "child-and-adolescent-psychiatry"],
            languages=["nb", "en", "se"],
            meets_by_phone=True,
            meets_by_video=True,
            evenings=True,
            weekends=True,
        )


@pytest.mark.parametrize("language", ["nb", "en"])
@pytest.mark.parametrize(
    "query",
    ["", "county=03", f"county=03&municipality={OSLO}&specialty=psychiatry&language=en&mode=phone&evenings=on"],
)
def test_the_search_page_with_twenty_cards_and_the_remote_list_stays_under_40_kb(
    client, make_supporter, language, query
):
    realistic_roster(make_supporter)

    response = client.get(f"/{language}/search/?{query}")

    assert len(response.context["page"].object_list) == 20
    if query:
        assert len(response.context["remote"]) == 10
    assert len(response.content) <= SEARCH_PAGE_MAX_BYTES


# Nearest to a municipality typed by name


@pytest.mark.parametrize("typed", ["Bergen", "bergen", " BERGEN ", BERGEN])
def test_nearest_first_takes_the_municipality_by_name_or_number(client, make_supporter, typed):
    tromso = make_supporter(municipality=TROMSO)
    bergen = make_supporter(municipality=BERGEN)
    voss = make_supporter(municipality=VOSS)

    response = search(client, {"municipality": typed})

    assert found_ids(response) == [bergen.pk, voss.pk, tromso.pk]
    assert notice(response) == ""
    assert 'name="municipality" value="Bergen"' in response.content.decode()


@pytest.mark.parametrize(
    ("typed", "number"), [("tromso", TROMSO), ("Baerum", BAERUM), ("Trondheim", "5001"), ("Tråante", "5001")]
)
def test_a_municipality_is_found_however_it_is_typed(client, make_supporter, typed, number):
    wanted = make_supporter(municipality=number)
    make_supporter(municipality=OSLO if number != OSLO else BERGEN)

    response = search(client, {"municipality": typed})

    assert found_ids(response)[0] == wanted.pk
    assert response.context["search"].chosen_municipality.number == number


def test_a_name_two_municipalities_share_needs_the_county(client, make_supporter):
    make_supporter(municipality="1515")  # Herøy in Møre og Romsdal
    nordland = make_supporter(municipality="1818")  # Herøy in Nordland

    ambiguous = search(client, {"municipality": "Herøy"})
    chosen = search(client, {"municipality": "Herøy (Nordland)"})
    by_number = search(client, {"municipality": "1818"})

    assert "Several municipalities are called “Herøy”: write “Herøy (Møre og Romsdal)” or “Herøy (Nordland)”." in (
        notice(ambiguous)
    )
    assert len(found_ids(ambiguous)) == 2
    assert found_ids(chosen)[0] == nordland.pk
    assert notice(chosen) == ""
    assert 'name="municipality" value="Herøy (Nordland)"' in by_number.content.decode()


def test_an_unknown_municipality_name_is_left_out_with_a_message(client, make_supporter):
    make_supporter()

    response = search(client, {"municipality": "Atlantis"})

    assert "There is no municipality “Atlantis”." in notice(response)
    assert 'name="municipality" value="Atlantis"' in response.content.decode()


def test_bokmal_explains_an_ambiguous_municipality_in_norwegian(client, make_supporter):
    make_supporter()

    page = html.unescape(client.get("/nb/search/", {"municipality": "Våler"}).content.decode())

    assert "Flere kommuner heter «Våler»: skriv «Våler (Innlandet)» eller «Våler (Østfold)»." in page


# Only what someone offers is offered as a choice


def test_the_form_offers_only_specialties_and_languages_that_someone_has(client, make_supporter):
    make_supporter(specialties=["psychiatry"], languages=["se"])
    make_supporter(specialties=[GP], languages=["nb"], listed=False)

    page = search(client).content.decode()
    chosen = search(client, {"language": "de"}).content.decode()

    assert 'name="specialty" value="psychiatry"' in page
    assert f'name="specialty" value="{GP}"' not in page
    assert 'name="language" value="se"' in page
    assert 'name="language" value="nb"' not in page
    # A language chosen in the address is understood and shown ticked, even if nobody speaks it.
    assert 'name="language" value="de" class="ds-input" checked' in chosen


# Languages and markup


def test_bokmal_search_explains_bad_input_in_norwegian(client, make_supporter):
    make_supporter(municipality=BERGEN)

    response = client.get("/nb/search/?county=99&page=abc")

    assert response.status_code == 200
    text = notice(response)
    assert "En del av søket ble ikke forstått og er utelatt:" in text
    assert "Det finnes ikke noe fylke «99»." in text
    assert "«abc» er ikke et sidenummer, så første side vises." in text


def test_bokmal_search_shows_results_and_filters_in_norwegian(client, make_supporter):
    make_supporter(municipality=BERGEN, meets_by_video=True, evenings=True)
    make_supporter(municipality=VOSS)

    html = client.get("/nb/search/", {"municipality": BERGEN}).content.decode()

    assert '<html lang="nb"' in html
    assert "2 kollegastøttere" in html
    assert "nærmest Bergen først" in html
    assert "i kommunen du valgte" in html
    assert re.search(r"omtrent \d+ km unna", html)
    assert "Møteform: ved oppmøte, på telefon, på video · kveldstid" in html
    assert "Tar imot nye henvendelser" in html
    assert "Flere filtre" in html
    assert '<legend class="ds-label">Møteform</legend>' in html


def test_bokmal_empty_search_suggests_widening_it(client, make_supporter):
    make_supporter(municipality=OSLO)

    html = client.get("/nb/search/", {"q": "ingen-slik-person"}).content.decode()

    assert "0 kollegastøttere" in html
    assert "Ingen kollegastøtter passer med alle disse valgene." in html
    assert 'href="/nb/search/">Vis alle kollegastøttere</a>' in html


def test_paging_uses_the_design_system_markup_and_marks_the_current_page(client, forty_five_in_oslo_on_evenings):
    page = search(client, {"county": "03", "evenings": "on", "page": "2"}).content.decode()

    nav = re.search(r'<nav class="ds-pagination" aria-label="Pages of results">(.*?)</nav>', page, re.S).group(1)
    current = re.findall(r'<a href="([^"]*)" class="ds-button" data-variant="tertiary" aria-current="true">', nav)
    assert len(current) == 1
    assert parse_qs(urlsplit(html.unescape(current[0])).query)["page"] == ["2"]
    assert '<a rel="prev"' in nav
    assert '<a rel="next"' in nav


def test_filters_open_by_themselves_when_one_is_chosen(client, make_supporter):
    make_supporter()

    folded = search(client).content.decode()
    chosen = search(client, {"mode": "video"}).content.decode()

    assert re.search(r'<details class="ds-details search-form__more"[^>]*data-open-wide>', folded)
    assert re.search(r'<details class="ds-details search-form__more"[^>]*data-open-wide open>', chosen)
