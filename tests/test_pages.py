"""The home, county, about and privacy pages, and the data credit."""

import re

import pytest

from counties.models import County

pytestmark = pytest.mark.django_db

KARTVERKET_CREDIT = "Contains data from Kartverket, CC BY 4.0."


def county_counts(html):
    """County name -> the supporter count shown beside its link on the home page."""
    pattern = (
        r'<a class="ds-link" href="/en/counties/(\d\d)/">([^<]+)</a>\s*<span class="count">(\d+) supporters?</span>'
    )
    return {name: (number, int(count)) for number, name, count in re.findall(pattern, html)}


def main_and_remote(html):
    """The main result list and the "outside the county, by phone or video" list of a county page."""
    main, _, remote = html.partition('id="remote-heading"')
    return main, remote


# --- Home -----------------------------------------------------------------------------------------------------


def test_home_shows_the_emergency_numbers(client):
    html = client.get("/en/").content.decode()

    assert '<a class="ds-link" href="tel:113">113</a>' in html
    assert '<a class="ds-link" href="tel:116117">116 117</a>' in html


def test_home_shows_the_search_form(client):
    html = client.get("/en/").content.decode()

    assert re.search(r'<form class="search-form" method="get" action="/en/search/"', html)
    assert 'name="q"' in html
    assert 'name="county"' in html
    assert '<button type="submit" class="ds-button" data-variant="primary">Search</button>' in html


def test_home_lists_every_active_county_with_a_link_to_its_page(client):
    html = client.get("/en/").content.decode()

    counts = county_counts(html)
    expected = {county.name: county.number for county in County.objects.all()}
    assert {name: number for name, (number, _) in counts.items()} == expected
    assert len(counts) == 15


def test_home_counts_only_listed_supporters_per_county(client, make_supporter):
    make_supporter(municipality="Oslo")
    make_supporter(municipality="Oslo")
    make_supporter(municipality="Oslo", listed=False)
    make_supporter(municipality="Bergen")
    make_supporter(municipality="Bergen", listed=False)
    make_supporter(municipality="Bergen", listed=False)

    counts = county_counts(client.get("/en/").content.decode())

    assert counts["Oslo"] == ("03", 2)
    assert counts["Vestland"] == ("46", 1)
    assert counts["Finnmark"] == ("56", 0)


def test_home_hides_an_inactive_county(client, make_supporter):
    make_supporter(municipality="Alta")
    County.objects.filter(number="56").update(active=False)

    html = client.get("/en/").content.decode()

    assert "Finnmark" not in county_counts(html)
    assert 'href="/en/counties/56/"' not in html
    assert len(county_counts(html)) == 14


def test_home_has_the_what_to_expect_box(client):
    html = client.get("/en/").content.decode()

    assert 'class="what-to-expect ds-card"' in html


# --- County pages -------------------------------------------------------------------------------------------------


def test_county_page_lists_only_that_countys_supporters_and_remote_ones_separately(client, make_supporter):
    make_supporter(name="Bergen Inperson", municipality="Bergen", meets_by_phone=False, meets_by_video=False)
    make_supporter(name="Voss Phone", municipality="Voss")
    make_supporter(name="Oslo Phone", municipality="Oslo", meets_in_person=False, meets_by_phone=True)
    make_supporter(name="Tromso Video", municipality="Tromsø", meets_in_person=False, meets_by_video=True)
    make_supporter(name="Oslo Inperson", municipality="Oslo", meets_by_phone=False, meets_by_video=False)
    make_supporter(name="Bergen Unlisted", municipality="Bergen", listed=False)

    response = client.get("/en/counties/46/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<h1 class="ds-heading" data-size="lg">Peer supporters in Vestland</h1>' in html
    main, remote = main_and_remote(html)
    assert "Bergen Inperson" in main
    assert "Voss Phone" in main
    assert "Oslo Phone" not in main
    assert "Tromso Video" not in main
    assert "2 peer supporters" in main
    assert "Oslo Phone" in remote
    assert "Tromso Video" in remote
    assert "Bergen Inperson" not in remote
    assert "Voss Phone" not in remote
    # Neither in the county nor meeting remotely; and unlisted supporters appear nowhere.
    assert "Oslo Inperson" not in html
    assert "Bergen Unlisted" not in html


def test_county_page_context_holds_only_that_countys_supporters(client, make_supporter):
    make_supporter(municipality="Bergen")
    make_supporter(municipality="Oslo", meets_by_phone=True)

    context = client.get("/en/counties/46/").context

    assert {s.county.number for s in context["page"].object_list} == {"46"}
    assert {s.county.number for s in context["remote"]} == {"03"}


def test_county_page_does_not_show_a_hidden_phone_on_cards(client, make_supporter):
    make_supporter(municipality="Bergen", phone="+4722123456", show_phone=False)
    make_supporter(municipality="Oslo", phone="+4722654321", show_phone=False, meets_by_phone=True)

    html = client.get("/en/counties/46/").content.decode()

    for hidden in ("22123456", "22 12 34 56", "22654321", "22 65 43 21"):
        assert hidden not in html


@pytest.mark.parametrize("number", ["99", "00", "4", "046", "abc"])
def test_an_unknown_county_number_is_not_found(client, number):
    assert client.get(f"/en/counties/{number}/").status_code == 404


def test_an_inactive_county_page_is_not_found(client):
    County.objects.filter(number="56").update(active=False)

    assert client.get("/en/counties/56/").status_code == 404


# --- About and privacy ----------------------------------------------------------------------------------------


def test_about_page_explains_the_service_and_its_limits(client):
    response = client.get("/en/about/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Up to three conversations are free of charge" in html
    assert "Not treatment and not a medical consultation" in html
    assert "Not an emergency service" in html
    assert '<a class="ds-link" href="tel:113">113</a>' in html


def test_every_page_links_to_the_privacy_page(client, make_supporter):
    supporter = make_supporter()
    for url in ("/en/", "/en/search/", "/en/counties/03/", f"/en/supporters/{supporter.pk}/", "/en/about/"):
        assert 'href="/en/privacy/"' in client.get(url).content.decode(), url


# --- Data credit ----------------------------------------------------------------------------------------------


def test_pages_showing_county_data_credit_kartverket(client, make_supporter):
    supporter = make_supporter()
    for url in ("/en/", "/en/search/", "/en/search/?county=46", "/en/counties/46/", f"/en/supporters/{supporter.pk}/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert KARTVERKET_CREDIT in response.content.decode(), url


def test_home_lists_the_counties_in_norwegian_alphabetical_order(client):
    html = client.get("/en/").content.decode()

    assert list(county_counts(html)) == [
        "Agder", "Akershus", "Buskerud", "Finnmark", "Innlandet", "Møre og Romsdal", "Nordland", "Oslo",
        "Rogaland", "Telemark", "Troms", "Trøndelag", "Vestfold", "Vestland", "Østfold",
    ]  # fmt: skip


# --- Languages ----------------------------------------------------------------------------------------------------


def test_bokmal_home_page_is_in_norwegian(client):
    html = client.get("/nb/").content.decode()

    assert '<html lang="nb"' in html
    assert "Finn en kollega å snakke med" in html
    assert "I en nødsituasjon" in html
    assert "Hva du kan forvente" in html
    assert "Kollegastøttere per fylke" in html
    assert '<button type="submit" class="ds-button" data-variant="primary">Søk</button>' in html
    assert '<option value="" selected>Alle fylker</option>' in html
    assert "Find a colleague to talk to" not in html


def test_english_home_page_is_in_english(client):
    html = client.get("/en/").content.decode()

    assert '<html lang="en"' in html
    assert "Find a colleague to talk to" in html
    assert "In an emergency" in html
    assert "Finn en kollega å snakke med" not in html


def test_each_page_links_to_itself_in_the_other_language(client):
    english = client.get("/en/about/").content.decode()
    bokmal = client.get("/nb/about/").content.decode()

    assert '<a class="ds-link language-switch" href="/nb/about/" hreflang="nb" lang="nb">Norsk bokmål</a>' in english
    assert '<link rel="alternate" hreflang="nb" href="/nb/about/">' in english
    assert '<a class="ds-link language-switch" href="/en/about/" hreflang="en" lang="en">English</a>' in bokmal
    assert '<link rel="alternate" hreflang="en" href="/en/about/">' in bokmal


def test_the_language_link_keeps_the_search(client):
    html = client.get("/en/search/?county=03&q=x").content.decode()

    assert 'class="ds-link language-switch" href="/nb/search/?county=03&amp;q=x" hreflang="nb" lang="nb"' in html
    assert '<link rel="alternate" hreflang="nb" href="/nb/search/?county=03&amp;q=x">' in html


def test_bokmal_county_page_is_in_norwegian(client, make_supporter):
    make_supporter(municipality="Bergen")

    html = client.get("/nb/counties/46/").content.decode()

    assert '<h1 class="ds-heading" data-size="lg">Kollegastøttere i Vestland</h1>' in html
    assert "1 kollegastøtter" in html
    assert 'href="/nb/search/">søk i hele landet</a>' in html


def test_bokmal_error_page_for_an_unknown_address(client):
    response = client.get("/nb/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="nb"' in html
    assert "Fant ikke siden" in html
    assert 'href="/nb/search/">Finn en kollegastøtter</a>' in html


def test_english_error_page_for_an_unknown_address(client):
    response = client.get("/en/no-such-page/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@pytest.mark.parametrize(
    ("path", "title", "back"),
    [("/nb/search/", "Noe gikk galt", 'href="/nb/"'), ("/en/search/", "Something went wrong", 'href="/en/"')],
)
def test_the_server_error_page_speaks_the_language_of_the_address(monkeypatch, path, title, back):
    from django.test import Client

    def broken(*args, **kwargs):
        raise RuntimeError("the search broke")

    monkeypatch.setattr("directory.views.results_context", broken)
    response = Client(raise_request_exception=False).get(path)

    assert response.status_code == 500
    html = response.content.decode()
    assert f'<html lang="{path[1:3]}"' in html
    assert title in html
    assert back in html
    assert 'href="tel:113"' in html


# --- The search form works without JavaScript -------------------------------------------------------------------


def test_home_search_form_is_a_plain_get_form_that_submits_itself_when_a_choice_changes(client):
    html = client.get("/nb/").content.decode()

    form = re.search(r"<form [^>]*>", html[html.index('class="search-form"') - 6 :]).group(0)
    assert 'method="get"' in form
    assert 'action="/nb/search/"' in form
    assert "data-autosubmit" in form
    # The note about choices applying at once is shown by the script only, so it is never wrong without it.
    assert re.search(r"<p [^>]*data-autosubmit-hint hidden>", html)
    assert 'type="submit"' in html


def test_the_home_search_form_fields_give_a_search_without_javascript(client, make_supporter):
    kari = make_supporter(name="Kari Nordmann", municipality="Oslo")
    make_supporter(name="Kari Berg", municipality="Bergen")
    html = client.get("/nb/").content.decode()
    assert 'name="q"' in html
    assert 'name="county"' in html

    response = client.get("/nb/search/", {"q": "kari", "county": "03"})

    assert [supporter.pk for supporter in response.context["page"].object_list] == [kari.pk]


# --- Accessibility statement -------------------------------------------------------------------------------------


def test_accessibility_statement_in_english(client):
    html = client.get("/en/accessibility/").content.decode()

    assert "WCAG 2.2" in html
    assert "likestillings- og diskrimineringsloven" in html
    assert "axe-core" in html
    assert "Known limitations" in html
    assert "association's secretariat" in html or "association&#x27;s secretariat" in html
    assert '<a class="ds-link" href="https://www.uutilsynet.no/">' in html
    assert '<time datetime="2026-11-26">26 November 2026</time>' in html


def test_accessibility_statement_in_bokmal(client):
    html = client.get("/nb/accessibility/").content.decode()

    assert "Tilgjengelighetserklæring</h1>" in html
    assert "WCAG 2.2" in html
    assert "forskrift om universell utforming" in html
    assert "Kjente begrensninger" in html
    assert "sekretariatet i Legeforeningen" in html
    assert '<time datetime="2026-11-26">26. november 2026</time>' in html


def test_bokmal_about_and_privacy_pages_are_in_norwegian(client):
    about = client.get("/nb/about/").content.decode()
    privacy = client.get("/nb/privacy/").content.decode()

    assert "Inntil tre samtaler er gratis" in about
    assert "Ikke en akuttjeneste" in about
    assert "De offentlige sidene setter ingen informasjonskapsler" in privacy
    assert '<code class="cookie-name">' in privacy
