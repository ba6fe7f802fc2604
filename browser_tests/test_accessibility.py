"""WCAG 2.2 AA, as axe-core checks it in a real browser, on every kind of page, in both languages.

A failure lists each rule broken, how much it matters, what it asks for, and the elements that break it, page by page,
so that whoever fixes the templates can act on it.
"""

import datetime

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from browser_tests.conftest import log_in
from counties.models import County

# axe-core's rules for WCAG 2.0, 2.1 and 2.2, levels A and AA.
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
LANGUAGES = ["en", "nb"]

axe = Axe()


def violations_on(page):
    results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}, "resultTypes": ["violations"]})
    return results.response["violations"]


def report(violations_by_page):
    lines = []
    for url, violations in violations_by_page.items():
        for violation in violations:
            lines.append(f"{url}: {violation['id']} ({violation['impact']}): {violation['help']}")
            lines += [f"    {' '.join(node['target'])}  {node['html'][:120]}" for node in violation["nodes"]]
    return "\n".join(lines)


def assert_no_violations(page, paths):
    found = {}
    for path in paths:
        page.goto(path)
        violations = violations_on(page)
        if violations:
            found[path] = violations
    if found:
        pytest.fail("axe-core found WCAG 2.2 AA violations:\n" + report(found), pytrace=False)


@pytest.fixture
def varied_roster(roster, make_supporter):
    """Cards in every availability, with a note, a title, a town and evening and weekend hours."""
    today = timezone.localdate()
    make_supporter(
        name="Paula Pause",
        municipality="Oslo",
        availability="paused",
        availability_until=today + datetime.timedelta(days=10),
        title="Overlege",
        town="Grünerløkka",
        note="I work nights in the emergency department, so evenings suit me best.\nCall or send a text.",
        evenings=True,
        weekends=True,
    )
    make_supporter(name="Frida Fåplasser", municipality="Tromsø", availability="few_places", meets_by_video=True)
    return roster


PUBLIC_PAGES = {
    "home": "/{language}/",
    "search with results": "/{language}/search/?county=03",
    "empty search": "/{language}/search/?q=nobody-is-called-this",
    "profile": "/{language}/supporters/{per}/",
    "about": "/{language}/about/",
    "privacy": "/{language}/privacy/",
    "accessibility statement": "/{language}/accessibility/",
    "open data": "/{language}/open-data/",
    "login": "/{language}/accounts/login/",
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_page_has_no_accessibility_violations(doctor, varied_roster, name, language):
    path = PUBLIC_PAGES[name].format(language=language, per=varied_roster["per"].pk)
    assert_no_violations(doctor.page, [path])


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_county_page_has_no_accessibility_violations(doctor, varied_roster, language):
    numbers = County.objects.filter(active=True).order_by("number").values_list("number", flat=True)
    assert len(numbers) == 15
    assert_no_violations(doctor.page, [f"/{language}/counties/{number}/" for number in numbers])


@pytest.mark.parametrize("language", LANGUAGES)
def test_my_listing_has_no_accessibility_violations(visitors, supporter_account, language):
    page = visitors().page
    log_in(page, supporter_account)
    assert_no_violations(page, [f"/{language}/my/"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_staff_dashboard_has_no_accessibility_violations(visitors, varied_roster, coordinator_account, language):
    page = visitors().page
    log_in(page, coordinator_account)
    assert_no_violations(page, [f"/{language}/staff/"])
