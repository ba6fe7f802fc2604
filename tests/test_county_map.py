"""The county map on the home page and the data file it is drawn from (scripts/make_county_map.py)."""

import importlib.util
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings

from counties import map as county_map_module
from counties.map import MAP_FILE, map_data, shade
from counties.models import County
from tests.test_search import PUBLIC_PAGE_MAX_QUERIES, cold_queries

pytestmark = pytest.mark.django_db

MAP_LINK = re.compile(
    r'<a href="/en/counties/(\d\d)/" class="map-link" aria-label="([^"]+)"><title>([^<]+)</title>'
    r'<path class="map-county map-county--(\w+)" d="([^"]+)"/></a>'
)
PATH_DATA = re.compile(r"^(M\d+ \d+L\d+ \d+(?: \d+ \d+)*Z)+\Z")


def svg_of(html):
    start = html.index('<svg class="county-map"')
    return html[start : html.index("</svg>", start) + len("</svg>")]


def map_links(html):
    """County number -> (aria-label, title, shade, path data) for every linked county on the map."""
    return {number: tuple(rest) for number, *rest in MAP_LINK.findall(svg_of(html))}


def test_the_map_links_every_active_county_to_its_page(client):
    links = map_links(client.get("/en/").content.decode())

    assert set(links) == set(County.objects.values_list("number", flat=True))
    assert len(links) == 15
    for number, (label, title, _, path) in links.items():
        county = County.objects.get(number=number)
        assert label == title == f"{county.name}: 0 supporters"
        assert path == map_data()["counties"][number]


def test_the_map_shows_the_count_of_listed_supporters_only(client, make_supporter):
    make_supporter(municipality="Oslo")
    make_supporter(municipality="Oslo")
    make_supporter(municipality="Oslo", listed=False)
    make_supporter(municipality="Bergen")
    make_supporter(municipality="Bergen", listed=False)

    links = map_links(client.get("/en/").content.decode())

    assert links["03"][:3] == ("Oslo: 2 supporters", "Oslo: 2 supporters", "few")
    assert links["46"][:3] == ("Vestland: 1 supporter", "Vestland: 1 supporter", "few")
    assert links["11"][:3] == ("Rogaland: 0 supporters", "Rogaland: 0 supporters", "none")


@pytest.mark.parametrize(
    ("count", "expected"), [(0, "none"), (1, "few"), (2, "few"), (3, "some"), (6, "some"), (7, "many"), (40, "many")]
)
def test_counties_are_shaded_by_their_number_of_supporters(count, expected):
    assert shade(count) == expected


def test_an_inactive_county_is_drawn_without_link_or_name(client):
    County.objects.filter(number="03").update(active=False)

    svg = svg_of(client.get("/en/").content.decode())

    assert "03" not in map_links(svg)
    assert len(map_links(svg)) == 14
    assert "Oslo" not in svg
    oslo = map_data()["counties"]["03"]
    assert f'<path class="map-county map-county--inactive" d="{oslo}"/>' in svg


def test_the_map_and_the_list_sit_below_the_emergency_numbers_and_the_search_form(client):
    html = client.get("/en/").content.decode()

    assert html.index('href="tel:113"') < html.index('class="search-form"') < html.index('class="county-map"')
    assert html.index('class="county-map"') < html.index('class="county-list"')


class InlineStyles(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script") or any(name == "style" or name.startswith("on") for name, _ in attrs):
            self.found.append(tag)


def test_the_map_has_no_inline_style_or_script(client):
    parser = InlineStyles()
    parser.feed(svg_of(client.get("/en/").content.decode()))

    assert parser.found == []


def test_the_map_styles_are_in_the_stylesheet():
    css = (Path(settings.BASE_DIR) / "static" / "css" / "site.css").read_text()

    for name in ("county-map", "map-county--none", "map-county--few", "map-county--some", "map-county--many"):
        assert f".{name}" in css
    assert ".map-link:focus-visible" in css


def test_the_map_data_is_small_and_its_paths_well_formed():
    assert MAP_FILE.stat().st_size < 60_000
    data = map_data()
    assert re.fullmatch(r"0 0 \d+ \d+", data["viewBox"])
    assert "Kartverket, CC BY 4.0" in data["source"]
    width, height = map(int, data["viewBox"].split()[2:])
    assert set(data["counties"]) == set(County.objects.values_list("number", flat=True))
    for number, path in data["counties"].items():
        assert PATH_DATA.match(path), number
        coordinates = [int(value) for value in re.findall(r"\d+", path)]
        assert all(0 <= x <= width for x in coordinates[::2]), number
        assert all(0 <= y <= height for y in coordinates[1::2]), number


def test_the_map_file_is_read_once_per_process(client, monkeypatch):
    client.get("/en/")
    monkeypatch.setattr(county_map_module, "MAP_FILE", Path("/nonexistent/county-map.json"))

    assert client.get("/en/").status_code == 200
    assert map_data() is map_data()


def test_the_home_page_query_count_is_unchanged_by_the_map(client, django_assert_num_queries):
    _, cold = cold_queries(client, "/en/")

    # The reference data (counties, the form's choices; read afresh inside a test's transaction), then the counts.
    with django_assert_num_queries(2):
        client.get("/en/")
    assert cold <= PUBLIC_PAGE_MAX_QUERIES


def load_script():
    path = Path(settings.BASE_DIR) / "scripts" / "make_county_map.py"
    spec = importlib.util.spec_from_file_location("make_county_map", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_script_simplifies_a_nearly_straight_line_to_its_ends_and_keeps_a_corner():
    script = load_script()

    assert script.douglas_peucker([(0, 0), (5, 0.5), (10, 0)], tolerance=1) == [(0, 0), (10, 0)]
    assert script.douglas_peucker([(0, 0), (5, 5), (10, 0)], tolerance=1) == [(0, 0), (5, 5), (10, 0)]


def test_the_script_projects_the_central_meridian_to_x_zero():
    script = load_script()

    x, y = script.project(15.0, 60.0)
    assert x == pytest.approx(0)
    assert y == pytest.approx(6371.0 * 60 * 3.141592653589793 / 180)
    assert script.project(20.0, 60.0)[0] > 0 > script.project(10.0, 60.0)[0]
