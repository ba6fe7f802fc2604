"""The language switch links to this same page in the other language, and never to another site."""

import html
import re
from urllib.parse import unquote_to_bytes, urljoin, urlsplit

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

SITE = "https://directory.example/en/search/"
SWITCH_LINKS = re.compile(
    r'<a class="ds-link language-switch" href="([^"]*)"|<link rel="alternate" [^>]*href="([^"]*)"'
)

# Request targets as curl --path-as-is or a hand-made request sends them: each would be read as another host if the
# switch copied its path. Two slashes, a backslash instead of either (browsers read `\` as `/`), the slashes
# percent-encoded (a WSGI server decodes PATH_INFO), a tab or line break between them (browsers drop those), more
# slashes, and a language prefix in front.
HOSTILE_TARGETS = [
    "//evil.example/en/search/",
    "//evil.example/en/search/?q=lege&county=03",
    "///evil.example/en/",
    "/\\evil.example/en/search/",
    "/\\\\evil.example/",
    "/%2Fevil.example/en/search/",
    "/%2F%2Fevil.example/",
    "/%5Cevil.example/en/search/",
    "/%5C%5Cevil.example/",
    "/%09/evil.example/",
    "/%0A/evil.example/",
    "/%0D%0A/evil.example/",
    "/%20//evil.example/",
    "/%2F%09%2Fevil.example/",
    "/en//evil.example/",
    "/nb/%2F%2Fevil.example/",
    "//evil.example:443/nb/about/",
    "//user@evil.example/",
    "//evil.example/%2E%2E/en/",
]


def get_as_sent(client, target, **headers):
    """GET target exactly as sent, passed on as a WSGI server passes it: PATH_INFO percent-decoded, the query string
    as it came. (The test client's get() would read `//host/path` as a host and keep only /path.)"""
    path, _, query = target.partition("?")
    return client.get("/", PATH_INFO=unquote_to_bytes(path).decode("latin-1"), QUERY_STRING=query, **headers)


def switch_links(response):
    """Every language-switch address on the page: the header link and the <link rel="alternate"> ones."""
    found = SWITCH_LINKS.findall(response.content.decode())
    return [html.unescape(anchor or alternate) for anchor, alternate in found]


def host_as_a_browser_reads(href):
    """The host a browser goes to when this page links to href (the URL Standard's reading of a relative link)."""
    # Leading and trailing spaces and control characters are dropped, tabs and line breaks anywhere, and in http(s)
    # addresses a backslash is a slash.
    href = href.strip("".join(map(chr, range(0x21))))
    href = re.sub(r"[\t\n\r]", "", href).replace("\\", "/")
    return urlsplit(urljoin(SITE, href)).netloc


def test_the_browser_reading_recognises_another_host():
    assert host_as_a_browser_reads("/nb/search/?q=x") == "directory.example"
    assert host_as_a_browser_reads("/%2Fevil.example/") == "directory.example"
    assert host_as_a_browser_reads("//evil.example/en/") == "evil.example"
    assert host_as_a_browser_reads("/\\evil.example/") == "evil.example"
    assert host_as_a_browser_reads("\\\\evil.example/") == "evil.example"
    assert host_as_a_browser_reads(" /\t/evil.example/") == "evil.example"


@pytest.mark.parametrize("language", ["en", "nb"])
@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_the_not_found_page_links_to_the_other_language_on_this_site(target, language):
    response = get_as_sent(Client(), target, HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 404
    links = switch_links(response)
    assert len(links) == 2, links  # the header link and the alternate
    for href in links:
        assert host_as_a_browser_reads(href) == "directory.example", href
        assert href.startswith("/"), href
        assert href[1:2] not in ("/", "\\"), href
    # The address is none of the site's: the switch goes to the other language's front page.
    page_language = re.search(r'<html lang="(\w+)"', response.content.decode())[1]
    assert set(links) == {"/nb/" if page_language == "en" else "/en/"}


def test_the_not_found_page_keeps_the_language_of_its_address():
    english = get_as_sent(Client(), "/en/no-such-page/?q=lege", HTTP_ACCEPT_LANGUAGE="nb")
    bokmal = get_as_sent(Client(), "/nb/no-such-page/?q=lege", HTTP_ACCEPT_LANGUAGE="en")

    assert english.status_code == bokmal.status_code == 404
    assert set(switch_links(english)) == {"/nb/"}
    assert set(switch_links(bokmal)) == {"/en/"}


# Ordinary pages: the switch keeps the page and the whole search.

WHOLE_SEARCH = (
    "q=lege+%C3%B8ye+%2F%2Fevil.example+%5C&county=46&municipality=4601&mode=phone&open=on&language=nb"
    "&specialty=psychiatry&specialty=general-practice&page=2"
)


@pytest.mark.parametrize(("language", "other"), [("en", "nb"), ("nb", "en")])
def test_the_switch_keeps_the_whole_search(language, other):
    response = get_as_sent(Client(), f"/{language}/search/?{WHOLE_SEARCH}")

    assert response.status_code == 200
    assert switch_links(response) == [f"/{other}/search/?{WHOLE_SEARCH}"] * 2


@pytest.mark.parametrize(("language", "other"), [("en", "nb"), ("nb", "en")])
def test_the_switch_of_an_ordinary_page_is_that_page_in_the_other_language(make_supporter, language, other):
    supporter = make_supporter(municipality="Bergen")
    pages = [
        "/",
        "/about/",
        "/privacy/",
        "/counties/46/",
        "/counties/46/?page=2",
        f"/supporters/{supporter.pk}/",
        "/search/",
        "/search/?q=",
    ]

    for page in pages:
        response = get_as_sent(Client(), f"/{language}{page}")
        assert response.status_code == 200, page
        assert switch_links(response) == [f"/{other}{page}"] * 2, page


def test_a_page_that_resolves_but_is_not_found_links_to_the_same_address_in_the_other_language():
    response = get_as_sent(Client(), "/en/supporters/999999/?q=x")

    assert response.status_code == 404
    assert switch_links(response) == ["/nb/supporters/999999/?q=x"] * 2
