"""What doctors, supporters and coordinators do, in a real browser; each journey also checks the promise.

The promise, as the browser sees it: the public part sets no cookie (and stores nothing else in the browser), and no
request leaves 127.0.0.1.
"""

import csv
import datetime
import io
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from django.utils import timezone
from playwright.sync_api import expect

from browser_tests.conftest import log_in, submit
from directory.models import PeerSupporter


def settle(page):
    """Wait until nothing on the page moves. A <details> that opens grows for a moment (Designsystemet animates it),
    and a click whose press and release land on different elements as the content shifts does nothing."""
    page.wait_for_function("() => document.getAnimations().every(animation => animation.playState !== 'running')")


def change_filter(page, action):
    """Change one filter. The search form may send itself as filters change (static/js/site.js): wait for that."""
    settle(page)
    if page.get_by_role("search").get_attribute("data-autosubmit") is not None:
        with page.expect_navigation():
            action()
    else:
        action()


def reveal(page, control):
    """Open the folded parts of the form (<details>) that hold control, outermost first."""
    while (folded := page.locator("details:not([open])", has=control)).count():
        folded.first.locator("> summary").click()
        settle(page)


def query_of(url):
    return parse_qs(urlsplit(url).query, keep_blank_values=False)


def test_a_doctor_searches_by_county_and_specialty_opens_a_profile_and_saves_the_vcard(doctor, roster):
    page = doctor.page
    per = roster["per"]
    page.goto("/en/")

    change_filter(page, lambda: page.get_by_role("combobox", name="County", exact=True).select_option(label="Oslo"))
    # Folded away (in <details>) until opened, so not yet in the accessibility tree.
    specialty = page.get_by_role("checkbox", name="Psychiatry", exact=True, include_hidden=True)
    reveal(page, specialty)
    change_filter(page, specialty.click)
    expect(specialty).to_be_checked()
    if "/search/" not in page.url:
        page.get_by_role("button", name="Search").click()

    expect(page).to_have_url(re.compile(r"/en/search/\?"))
    query = query_of(page.url)
    assert query["county"] == ["03"]
    assert query["specialty"] == ["psychiatry"]
    results = page.get_by_role("region", name=re.compile(r"\d+ peer supporters?")).first
    expect(results.get_by_role("link", name="Per Psykiater")).to_be_visible()
    expect(results.get_by_role("link", name="Pia Psykiater")).to_be_visible()
    expect(page.get_by_role("link", name="Anne Allmenn")).to_have_count(0)

    results.get_by_role("link", name="Per Psykiater").click()
    expect(page).to_have_url(re.compile(rf"/en/supporters/{per.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Per Psykiater")
    phone = page.get_by_role("link", name="91 23 45 67")
    expect(phone).to_have_attribute("href", "tel:+4791234567")
    expect(page.get_by_role("link", name="per@example.org")).to_have_attribute("href", "mailto:per@example.org")

    with page.expect_download() as download_info:
        page.locator(f'a[href$="/supporters/{per.pk}/vcard/"]').click()
    download = download_info.value
    assert download.suggested_filename.endswith(".vcf")
    card = Path(download.path()).read_bytes().decode()
    assert card.startswith("BEGIN:VCARD\r\n")
    assert "FN:Per Psykiater\r\n" in card
    assert "+4791234567" in card
    assert card.rstrip().endswith("END:VCARD")

    doctor.assert_left_no_trace()
    doctor.assert_stayed_local()


def test_the_language_switch_keeps_the_search(doctor, roster):
    page = doctor.page
    page.goto("/en/search/?county=03&specialty=psychiatry")
    expect(page.get_by_role("link", name="Per Psykiater")).to_be_visible()

    switch = page.get_by_role("banner").get_by_role("link", name="Norsk bokmål")
    expect(switch).to_have_attribute("hreflang", "nb")
    switch.click()

    expect(page).to_have_url(re.compile(r"/nb/search/\?"))
    assert query_of(page.url) == {"county": ["03"], "specialty": ["psychiatry"]}
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    # The form still shows the chosen filters (by field name: the labels are now in Norwegian).
    expect(page.locator("select[name=county]")).to_have_value("03")
    expect(page.locator("input[name=specialty][value=psychiatry]")).to_be_checked()
    expect(page.locator("input[name=specialty]:checked")).to_have_count(1)
    expect(page.get_by_role("link", name="Per Psykiater")).to_be_visible()
    expect(page.get_by_role("link", name="Anne Allmenn")).to_have_count(0)

    back = page.get_by_role("banner").get_by_role("link", name="English")
    expect(back).to_have_attribute("hreflang", "en")
    back.click()
    expect(page).to_have_url(re.compile(r"/en/search/\?"))
    assert query_of(page.url) == {"county": ["03"], "specialty": ["psychiatry"]}

    doctor.assert_left_no_trace()
    doctor.assert_stayed_local()


def test_a_supporter_pauses_the_listing_until_a_date_and_doctors_see_it_paused(visitors, supporter_account):
    kari = PeerSupporter.objects.get(account=supporter_account)
    last_day = timezone.localdate() + datetime.timedelta(days=14)

    supporter = visitors()
    page = supporter.page
    log_in(page, supporter_account)
    expect(page).to_have_url(re.compile(r"/en/my/$"))
    page.get_by_role("radio", name="Paused").check()
    page.locator("input[name=availability_until]").fill(last_day.isoformat())
    submit(page, page.get_by_role("button", name="Save my listing").click)
    expect(page).to_have_url(re.compile(r"/en/my/$"))
    expect(page.get_by_role("status")).to_contain_text("saved")
    expect(page.get_by_role("radio", name="Paused")).to_be_checked()
    supporter.assert_stayed_local()

    # A doctor, in a browser of their own.
    doctor = visitors()
    page = doctor.page
    page.goto(f"/en/supporters/{kari.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kari Nordmann")
    expect(page.locator("main")).to_contain_text(f"Paused until {last_day.day} {last_day:%B %Y}")
    page.goto("/en/search/?county=03&open=on")
    expect(page.get_by_role("link", name="Kari Nordmann")).to_have_count(0)
    page.goto("/en/search/?county=03")
    expect(page.get_by_role("link", name="Kari Nordmann")).to_be_visible()

    doctor.assert_left_no_trace()
    doctor.assert_stayed_local()


def roster_csv(rows):
    stream = io.StringIO(newline="")
    writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return stream.getvalue().encode()


def test_a_coordinator_imports_a_roster_and_doctors_find_the_new_supporters(visitors, coordinator_account):
    data = roster_csv(
        [
            {
                "name": "Nina Ny",
                "county": "03",
                "municipality": "0301",
                "email": "nina@example.org",
                "phone": "+47 22 12 34 56",
                "languages": "nb",
                "specialties": "Psychiatry",
                "listed": "yes",
            },
            {
                "name": "Ola Ny",
                "county": "Oslo",
                "municipality": "Oslo",
                "email": "ola@example.org",
                "phone": "22123457",
                "languages": "nb; en",
                "specialties": "Allmennmedisin",
                "listed": "ja",
            },
        ]
    )

    coordinator = visitors()
    page = coordinator.page
    log_in(page, coordinator_account)
    page.goto("/admin/directory/peersupporter/")
    page.locator('a[href$="/admin/directory/peersupporter/import/"]').click()
    page.locator("input[name=import_file]").set_input_files(
        files=[{"name": "roster.csv", "mimeType": "text/csv", "buffer": data}]
    )
    file_format = page.locator("select[name=format]")
    if file_format.count():  # The library leaves the choice out when there is only one format.
        labels = file_format.locator("option").all_inner_texts()
        file_format.select_option(label=next(label for label in labels if "csv" in label.lower()))
    submit(page, page.locator("form[enctype='multipart/form-data'] [type=submit]").click)

    preview = page.locator("#roster-preview")
    expect(preview).to_be_visible()
    expect(preview.locator("tbody tr")).to_have_count(2)
    for name in ("Nina Ny", "Ola Ny"):
        expect(preview.locator("tbody tr").filter(has_text=name)).to_contain_text("new")
    assert not PeerSupporter.objects.filter(name__in=["Nina Ny", "Ola Ny"]).exists(), "saved before confirmation"

    submit(page, page.locator("[type=submit][name=confirm]").click)
    expect(page).to_have_url(re.compile(r"/admin/directory/peersupporter/$"))
    expect(page.get_by_role("link", name="Nina Ny")).to_be_visible()
    expect(page.get_by_role("link", name="Ola Ny")).to_be_visible()
    coordinator.assert_stayed_local()

    doctor = visitors()
    page = doctor.page
    page.goto("/en/search/?county=03")
    expect(page.get_by_role("link", name="Nina Ny")).to_be_visible()
    expect(page.get_by_role("link", name="Ola Ny")).to_be_visible()
    page.get_by_role("link", name="Nina Ny").click()
    expect(page.get_by_role("link", name="22 12 34 56")).to_have_attribute("href", "tel:+4722123456")

    doctor.assert_left_no_trace()
    doctor.assert_stayed_local()
