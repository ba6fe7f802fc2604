"""Whatever a visitor puts in the address, the public pages answer with a page, never a server error."""

import pytest

BAD_SEARCHES = [
    "county=%00",
    "county=" + "9" * 5000,
    "municipality=%00",
    "municipality=abc",
    "specialty=psy%00chiatry",
    "specialty=psychiatry&specialty=%00",
    "language=e%00",
    "mode=%00",
    "mode=telepathy",
    "q=%00",
    "q=" + "a" * 101,
    "page=%00",
    "page=-5",
    "page=1e9",
]
# Odd but harmless: searched for as they are, without complaint.
ODD_SEARCHES = [
    "q=%ff%fe",
    "q=%3Cscript%3Ealert(1)%3C/script%3E",
    "q=%27%20OR%201%3D1%20--",
    "q=%25%25_",
    "open=maybe",
    "evenings=%00",
    "county=03&county=46",
    "unknown=1",
]


@pytest.mark.parametrize("query", BAD_SEARCHES)
def test_bad_search_input_gives_a_page_with_a_message(client, make_supporter, query):
    make_supporter()
    response = client.get(f"/en/search/?{query}")
    assert response.status_code == 200
    assert b"could not be understood" in response.content


@pytest.mark.parametrize("query", ODD_SEARCHES)
def test_odd_search_input_gives_a_page(client, make_supporter, query):
    make_supporter()
    assert client.get(f"/en/search/?{query}").status_code == 200


def test_markup_in_the_search_text_is_shown_escaped(client, make_supporter):
    make_supporter()
    response = client.get("/en/search/?q=%3Cscript%3Ealert(1)%3C/script%3E")
    assert b"<script>alert(1)</script>" not in response.content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.content


@pytest.mark.parametrize("path", ["/en/counties/%00/", "/en/counties/abc/", "/en/counties/999/", "/en/counties/99/"])
def test_unknown_county_page_is_not_found(client, db, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    "path", ["/en/supporters/0/", "/en/supporters/99999999999999999999999/", "/en/supporters/abc/"]
)
def test_unknown_supporter_is_not_found(client, db, path):
    assert client.get(path).status_code == 404
