"""The staff dashboard: overview, coverage, statistics, the compensation export and closing a month."""

import csv
import datetime
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from directory.models import Specialty, SpecialtyGroup
from tallies.models import ClosedMonth, MonthlyTally, recent_months
from training.models import Attendance, TrainingMeeting

ROLES = ["oslo_coordinator", "vestland_coordinator", "administrator", "supporter", "anonymous"]


def months():
    """This month first, then the 11 before it."""
    return recent_months(timezone.localdate())


def export_url(query=None):
    if query is None:
        query = f"start={months()[-1]:%Y-%m}&end={months()[0]:%Y-%m}"
    return f"{reverse('staff:export')}?{query}"


# (name, method, address, data) of every staff address.
PAGES = {
    "dashboard": ("get", lambda: reverse("staff:dashboard")),
    "coverage": ("get", lambda: reverse("staff:coverage")),
    "statistics": ("get", lambda: reverse("staff:statistics")),
    "export": ("get", export_url),
    "close_month_form": ("get", lambda: reverse("staff:close_month")),
    "close_month": ("post", lambda: reverse("staff:close_month")),
}

# The status each role gets on each page; 302 for visitors is a redirect to the login page.
EXPECTED = {
    "dashboard": {"oslo_coordinator": 200, "vestland_coordinator": 200, "administrator": 200},
    "coverage": {"oslo_coordinator": 200, "vestland_coordinator": 200, "administrator": 200},
    "statistics": {"oslo_coordinator": 200, "vestland_coordinator": 200, "administrator": 200},
    "export": {"oslo_coordinator": 200, "vestland_coordinator": 200, "administrator": 200},
    "close_month_form": {"oslo_coordinator": 403, "vestland_coordinator": 403, "administrator": 200},
    "close_month": {"oslo_coordinator": 403, "vestland_coordinator": 403, "administrator": 302},
}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", ROLES)
def test_staff_pages_are_for_staff_only(roles, role, page):
    method, address = PAGES[page]
    data = {"month": f"{months()[1]:%Y-%m}"} if method == "post" else None
    response = getattr(roles.clients[role], method)(address(), data)
    expected = {"supporter": 403, "anonymous": 302, **EXPECTED[page]}[role]
    assert response.status_code == expected
    if role == "anonymous":
        assert response.url.startswith(reverse("accounts:login"))
    if response.status_code == 200:
        assert response.headers["Cache-Control"] == "private, no-store"
    if page == "close_month":
        assert ClosedMonth.objects.exists() == (role == "administrator")


def test_staff_without_second_factor_is_sent_to_give_it(roles, client):
    client.force_login(roles.oslo_coordinator)
    response = client.get(reverse("staff:dashboard"))
    assert response.status_code == 302
    assert response.url == reverse("accounts:two_factor")


def slug(group):
    return Specialty.objects.filter(group=group).order_by("pk").first().slug


def attend(supporter, day):
    meeting, _ = TrainingMeeting.objects.get_or_create(date=day, place="Gardermoen")
    Attendance.objects.create(meeting=meeting, supporter=supporter)


@pytest.fixture
def roster(roles, make_supporter):
    """A small roster with known specialties, modes, statuses, pauses, training and counts.

    Oslo (with Olga from `roles`: listed, open, no specialty, in person and phone, never confirmed, never trained):
    A open, psychiatry, all three modes, confirmed, trained; B paused to next week, family medicine and psychiatry,
    phone only, confirmed 200 days ago, never trained; C pause ended yesterday, surgery, in person and phone,
    never confirmed, trained 4 years ago; E few places left, internal medicine, in person only; D unlisted.
    Vestland: Vera from `roles` and V, psychiatry and video, with counts no Oslo coordinator may see.
    """
    today = timezone.localdate()
    recent = today - datetime.timedelta(days=365)
    a = make_supporter(
        name="Anne Åsheim",
        specialties=[slug(SpecialtyGroup.PSYCHIATRY)],
        meets_by_video=True,
        last_confirmed=today,
    )
    attend(a, recent)
    b = make_supporter(
        name="Bjørn Berg",
        specialties=[slug(SpecialtyGroup.FAMILY_MEDICINE), slug(SpecialtyGroup.PSYCHIATRY)],
        meets_in_person=False,
        availability="paused",
        availability_until=today + datetime.timedelta(days=7),
        last_confirmed=today - datetime.timedelta(days=200),
    )
    c = make_supporter(
        name="Cecilie Dahl",
        specialties=[slug(SpecialtyGroup.SURGERY)],
        availability="paused",
        availability_until=today - datetime.timedelta(days=1),
    )
    attend(c, today - datetime.timedelta(days=4 * 365))
    e = make_supporter(
        name="Erik Ek",
        specialties=[slug(SpecialtyGroup.INTERNAL_MEDICINE)],
        meets_by_phone=False,
        availability="few_places",
        last_confirmed=today,
    )
    attend(e, recent)
    make_supporter(
        name="Dag Unlisted", specialties=[slug(SpecialtyGroup.PSYCHIATRY)], meets_by_video=True, listed=False
    )
    v = make_supporter(
        name="Vidar Voss",
        municipality="Bergen",
        specialties=[slug(SpecialtyGroup.PSYCHIATRY)],
        meets_by_video=True,
        last_confirmed=today,
    )
    this, last = months()[0], months()[1]
    long_ago = datetime.date(this.year - 2, 6, 1)
    MonthlyTally.objects.create(supporter=a, month=this, in_person=1, phone=2, video=3)
    MonthlyTally.objects.create(supporter=a, month=last, in_person=2, phone=0, video=1)
    MonthlyTally.objects.create(supporter=b, month=last, in_person=0, phone=4, video=0)
    MonthlyTally.objects.create(supporter=a, month=long_ago, in_person=5, phone=0, video=0)
    MonthlyTally.objects.create(supporter=v, month=last, in_person=11, phone=13, video=17)
    MonthlyTally.objects.create(supporter=roles.vestland, month=long_ago, in_person=19, phone=0, video=0)
    return {"a": a, "b": b, "c": c, "e": e, "v": v, "this": this, "last": last, "long_ago": long_ago}


def by_county(rows):
    return {row.county.name: row for row in rows}


def test_overview_counts_listed_open_paused_training_and_confirmation(roles, roster):
    response = roles.clients["administrator"].get(reverse("staff:dashboard"))
    rows = by_county(response.context["rows"])
    oslo, vestland = rows["Oslo"], rows["Vestland"]
    assert (oslo.listed, oslo.open_now, oslo.paused, oslo.training_due, oslo.not_confirmed) == (5, 4, 1, 3, 3)
    assert (vestland.listed, vestland.open_now, vestland.paused, vestland.training_due, vestland.not_confirmed) == (
        2,
        2,
        0,
        2,
        1,
    )
    assert len(rows) == 15
    assert rows["Agder"].listed == 0
    changelist = reverse("admin:directory_peersupporter_changelist")
    assert f"{changelist}?municipality__county__id__exact={oslo.county.pk}" in response.text


def test_coverage_counts_listed_supporters_by_group_and_mode(roles, roster):
    response = roles.clients["administrator"].get(reverse("staff:coverage"))
    oslo = by_county(response.context["rows"])["Oslo"]
    assert [cell.count for cell in oslo.groups] == [1, 2, 1, 1, 0, 0]
    assert [cell.label for cell in oslo.groups] == [group.label for group in SpecialtyGroup]
    assert [cell.count for cell in oslo.modes] == [4, 4, 1]
    vestland = by_county(response.context["rows"])["Vestland"]
    assert [cell.count for cell in vestland.groups] == [0, 1, 0, 0, 0, 0]
    assert [cell.count for cell in vestland.modes] == [2, 2, 1]


def test_coverage_marks_gaps_in_text_not_colour_alone(roles, roster):
    response = roles.clients["oslo_coordinator"].get(reverse("staff:coverage"))
    oslo = response.context["rows"][0]
    assert [cell.label for cell in oslo.gaps] == ["Laboratory medicine", "Other"]
    assert response.text.count('class="num gap"') == 2
    assert "a gap in laboratory medicine" in response.text
    assert "<strong>Oslo:</strong> no one in laboratory medicine, other." in response.text


def test_coverage_marks_a_county_with_no_video(roles, roster):
    roster["a"].meets_by_video = False
    roster["a"].save()
    response = roles.clients["oslo_coordinator"].get(reverse("staff:coverage"))
    assert [cell.label for cell in response.context["rows"][0].gaps] == ["Laboratory medicine", "Other", "By video"]
    assert "a gap in by video" in response.text


def test_statistics_sum_counts_per_county_month_year_and_mode(roles, roster):
    response = roles.clients["administrator"].get(reverse("staff:statistics"))
    sections = {section["county"].name: section for section in response.context["counties"]}
    oslo = {row.month: row.by_mode for row in sections["Oslo"]["months"]}
    assert len(oslo) == 12
    assert oslo[roster["this"]] == [1, 2, 3]
    assert oslo[roster["last"]] == [2, 4, 1]
    assert sum(sum(counts) for counts in oslo.values()) == 13
    all_counties = {row.month: row.total for row in response.context["months"]}
    assert all_counties[roster["last"]] == 7 + 41
    years = {row.label: row.by_mode for row in sections["Oslo"]["years"]}
    assert years[str(roster["long_ago"].year)] == [5, 0, 0]
    assert sum(sum(counts) for counts in years.values()) == 13 + 5
    assert {row.label: row.total for row in response.context["years"]}[str(roster["long_ago"].year)] == 5 + 19


def test_statistics_chart_is_accessible_server_side_svg(roles, roster):
    response = roles.clients["oslo_coordinator"].get(reverse("staff:statistics"))
    text = response.text
    assert text.count('role="img"') == 2  # All counties shown, and Oslo.
    assert '<title id="chart-all-title">Conversations per month, all counties shown</title>' in text
    assert "<caption>Conversations per month, all counties shown</caption>" in text
    assert "<title>" in text
    assert 'class="bar bar--video"' in text
    # The chart needs no script: the only one on the page is the site's small optional one.
    assert re.findall(r"<script[^>]*>", text) == ['<script src="/static/js/site.js" defer>']
    assert "style=" not in text
    assert "<style" not in text


def test_coordinator_never_sees_another_county(roles, roster):
    client = roles.clients["oslo_coordinator"]
    for name in ["dashboard", "coverage", "statistics"]:
        response = client.get(reverse(f"staff:{name}"))
        assert response.status_code == 200
        for other in ["Vestland", "Bergen", "Vidar Voss", "Vera Vestland", "Agder", "Troms"]:
            assert other not in response.text, (name, other)
        if name == "statistics":
            assert [section["county"] for section in response.context["counties"]] == [roles.oslo.county]
        else:
            assert [row.county for row in response.context["rows"]] == [roles.oslo.county]
    statistics = client.get(reverse("staff:statistics")).context
    assert {row.month: row.total for row in statistics["months"]}[roster["last"]] == 7
    assert [row.total for row in statistics["years"]] == [5, 13]
    export = client.get(export_url("year=" + str(roster["long_ago"].year))).content.decode("utf-8-sig")
    assert "Vera" not in export
    assert len(export.splitlines()) == 2


def test_vestland_coordinator_sees_vestland_only(roles, roster):
    response = roles.clients["vestland_coordinator"].get(reverse("staff:dashboard"))
    assert [row.county.name for row in response.context["rows"]] == ["Vestland"]
    assert "Oslo" not in response.text
    export = roles.clients["vestland_coordinator"].get(export_url()).content.decode("utf-8-sig")
    assert "Anne" not in export
    assert "Vidar Voss" in export


def read_csv(response):
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_export_csv_per_supporter_and_month(roles, roster):
    response = roles.clients["oslo_coordinator"].get(export_url())
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    first, last = months()[-1], months()[0]
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="conversations-{first:%Y-%m}-to-{last:%Y-%m}.csv"'
    )
    a, b = roster["a"], roster["b"]
    assert read_csv(response) == [
        ["county", "supporter name", "supporter id", "month", "in person", "phone", "video", "total"],
        ["Oslo", "Anne Åsheim", str(a.pk), f"{roster['last']:%Y-%m}", "2", "0", "1", "3"],
        ["Oslo", "Anne Åsheim", str(a.pk), f"{roster['this']:%Y-%m}", "1", "2", "3", "6"],
        ["Oslo", "Bjørn Berg", str(b.pk), f"{roster['last']:%Y-%m}", "0", "4", "0", "4"],
    ]


def test_export_by_year(roles, roster):
    year = roster["long_ago"].year
    response = roles.clients["administrator"].get(export_url(f"year={year}"))
    assert response.headers["Content-Disposition"] == f'attachment; filename="conversations-{year}.csv"'
    rows = read_csv(response)[1:]
    assert [(row[0], row[1], row[3], row[7]) for row in rows] == [
        ("Oslo", "Anne Åsheim", f"{year}-06", "5"),
        ("Vestland", "Vera Vestland", f"{year}-06", "19"),
    ]


def test_export_keeps_names_from_becoming_formulas(roles, make_supporter):
    supporter = make_supporter(name="=HYPERLINK(1)")
    MonthlyTally.objects.create(supporter=supporter, month=months()[0], phone=1)
    rows = read_csv(roles.clients["administrator"].get(export_url()))
    assert rows[1][1] == "'=HYPERLINK(1)"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Give a year"),
        ("year=abc", "four digits"),
        ("year=1800", "greater than or equal to 2000"),
        ("year=99999999999999999999", "less than or equal to 2100"),
        ("start=2026-13&end=2027-01", "YYYY-MM"),
        ("start=2026-05&end=2026-01", "must come before"),
        ("start=2020-01&end=2026-01", "at most 36 months"),
        ("year=2026&start=2026-01&end=2026-02", "not both"),
        ("start=2026-01", "Give a year"),
        ("start=%00&end=2026-01", "YYYY-MM"),
    ],
)
def test_export_with_bad_parameters_is_a_clear_400(roles, query, message):
    response = roles.clients["administrator"].get(export_url(query))
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/html")
    assert "The export could not be made" in response.text
    assert message in response.text


def test_administrator_closes_a_month_once(roles):
    client = roles.clients["administrator"]
    month = months()[1]
    response = client.post(reverse("staff:close_month"), {"month": f"{month:%Y-%m}"}, follow=True)
    assert list(ClosedMonth.objects.values_list("month", flat=True)) == [month]
    assert ClosedMonth.objects.get().closed_by == roles.administrator
    assert "is closed: supporters can no longer change its counts" in response.text
    response = client.post(reverse("staff:close_month"), {"month": f"{month:%Y-%m}"}, follow=True)
    assert ClosedMonth.objects.count() == 1
    assert "was already closed; nothing has changed" in response.text
    assert response.context["months"][0] == (month, True)


def test_closed_month_refuses_the_supporters_edits(roles):
    month = months()[1]
    roles.clients["administrator"].post(reverse("staff:close_month"), {"month": f"{month:%Y-%m}"})
    edit = reverse("tallies:edit", args=[month.year, month.month])
    supporter = roles.clients["supporter"]
    assert supporter.get(edit).status_code == 403
    response = supporter.post(edit, {"in_person": 3, "phone": 0, "video": 0})
    assert response.status_code == 403
    assert "is closed" in response.text
    assert not MonthlyTally.objects.exists()
    other = months()[2]
    assert supporter.get(reverse("tallies:edit", args=[other.year, other.month])).status_code == 200


@pytest.mark.parametrize("role", ["oslo_coordinator", "vestland_coordinator"])
def test_coordinator_cannot_close_a_month(roles, role):
    response = roles.clients[role].post(reverse("staff:close_month"), {"month": f"{months()[1]:%Y-%m}"})
    assert response.status_code == 403
    assert not ClosedMonth.objects.exists()
    assert "Close a month" not in roles.clients[role].get(reverse("staff:statistics")).text


def test_viewing_the_close_form_changes_nothing(roles):
    client = roles.clients["administrator"]
    response = client.get(reverse("staff:close_month"), {"month": f"{months()[1]:%Y-%m}"})
    assert response.status_code == 200
    assert not ClosedMonth.objects.exists()
    assert len(response.context["months"]) == 12


@pytest.mark.parametrize("month", ["this month", "2001-01", "soon", ""])
def test_only_the_last_twelve_finished_months_can_be_closed(roles, month):
    value = f"{months()[0]:%Y-%m}" if month == "this month" else month
    response = roles.clients["administrator"].post(reverse("staff:close_month"), {"month": value})
    assert response.status_code == 400
    assert "Nothing was closed" in response.text
    assert not ClosedMonth.objects.exists()


def grow_roster(make_supporter, count):
    groups = list(SpecialtyGroup)
    for index in range(count):
        supporter = make_supporter(
            municipality=["Oslo", "Bergen", "Tromsø"][index % 3],
            specialties=[slug(groups[index % len(groups)])],
            meets_by_video=bool(index % 2),
        )
        attend(supporter, timezone.localdate() - datetime.timedelta(days=30 * index))
        for month in months()[: index % 4]:
            MonthlyTally.objects.create(supporter=supporter, month=month, phone=1)


# Session, user and second-factor device, then the page's own queries (one per column, plus the counties).
QUERIES = {"dashboard": 3 + 5, "coverage": 3 + 3, "statistics": 3 + 3}


@pytest.mark.parametrize("name", QUERIES)
@pytest.mark.parametrize("role", ["administrator", "oslo_coordinator"])
def test_pages_take_a_fixed_number_of_queries(roles, make_supporter, django_assert_max_num_queries, name, role):
    client = roles.clients[role]
    url = reverse(f"staff:{name}")
    for size in (3, 30):
        grow_roster(make_supporter, size)
        with django_assert_max_num_queries(QUERIES[name]):
            assert client.get(url).status_code == 200


def test_export_takes_a_fixed_number_of_queries(roles, make_supporter, django_assert_max_num_queries):
    grow_roster(make_supporter, 30)
    with django_assert_max_num_queries(8):
        response = roles.clients["administrator"].get(export_url())
    assert len(read_csv(response)) == 1 + sum(index % 4 for index in range(30))


# Languages and accessibility


def test_the_dashboard_speaks_bokmal_under_nb(roles, roster):
    response = roles.clients["oslo_coordinator"].get("/nb/staff/")
    html = response.text
    assert response.status_code == 200
    assert '<html lang="nb"' in html
    with translation.override("nb"):
        today = date_format(timezone.localdate(), "DATE_FORMAT")
    assert '<h1 class="ds-heading" data-size="lg">Status per fylke</h1>' in html
    assert f"Kollegastøttere som er oppført i fylket ditt, per {today}." in html
    assert "Trenger opplæring" in html
    assert "Ikke bekreftet på 180 dager" in html
    assert "(bør følges opp)" in html
    assert '<a class="ds-link" href="/nb/staff/" aria-current="page">Status</a>' in html
    assert "Staff dashboard" not in html


def test_the_dashboard_still_speaks_english_under_en(roles, roster):
    html = roles.clients["oslo_coordinator"].get("/en/staff/").text
    assert '<html lang="en"' in html
    assert "Listed supporters in your county on" in html
    assert '<a class="ds-link" href="/en/staff/" aria-current="page">Dashboard</a>' in html
    assert "(needs follow-up)" in html


def test_statistics_coverage_and_export_errors_in_bokmal(roles, roster):
    client = roles.clients["oslo_coordinator"]
    statistics = client.get("/nb/staff/statistics/").text
    with translation.override("nb"):
        last = date_format(roster["last"], "YEAR_MONTH_FORMAT")
    assert "Samtaler per måned, alle viste fylker" in statistics
    assert f'<th scope="row">{last[:1].upper()}{last[1:]}</th>' in statistics
    assert "Last ned CSV" in statistics
    # The chart's coordinates stay numbers an SVG understands, with no Norwegian decimal comma.
    coordinates = re.findall(
        r' (?:x|y|width|height)="([^"]*)"', statistics.split('role="img"', 1)[1].split("</svg>")[0]
    )
    assert coordinates
    assert all(re.fullmatch(r"-?[0-9]+(\.[0-9]+)?%?", value) for value in coordinates), coordinates
    assert "<strong>Oslo:</strong> ingen dekning for " in client.get("/nb/staff/coverage/").text

    refused = client.get("/nb/staff/statistics/export.csv?start=2026-05&end=2026-01")
    assert refused.status_code == 400
    assert "Eksporten kunne ikke lages" in refused.text
    assert "Den første måneden må komme før den siste." in refused.text
    refused = client.get("/nb/staff/statistics/export.csv?year=abc")
    assert '<a class="ds-link" href="#id_year">År: Skriv året med fire sifre, for eksempel 2026.</a>' in refused.text


def test_the_export_keeps_its_column_names_in_every_language(roles, roster):
    query = f"start={months()[-1]:%Y-%m}&end={months()[0]:%Y-%m}"
    response = roles.clients["oslo_coordinator"].get(f"/nb/staff/statistics/export.csv?{query}")
    assert read_csv(response)[0] == [
        "county",
        "supporter name",
        "supporter id",
        "month",
        "in person",
        "phone",
        "video",
        "total",
    ]


def test_closing_a_month_in_bokmal(roles):
    client = roles.clients["administrator"]
    refused = client.post("/nb/staff/months/close/", {"month": "soon"})
    assert refused.status_code == 400
    assert "Ingenting ble avsluttet" in refused.text
    assert 'id="error-summary"' in refused.text

    response = client.post("/nb/staff/months/close/", {"month": f"{months()[1]:%Y-%m}"}, follow=True)
    assert "er avsluttet: kollegastøtterne kan ikke lenger endre tallene for måneden." in response.text
    assert "Avslutt måneden" in response.text


@pytest.mark.parametrize("name", ["dashboard", "coverage", "statistics", "close_month"])
def test_every_table_scrolls_in_its_own_labelled_region(roles, roster, name):
    html = roles.clients["administrator"].get(reverse(f"staff:{name}")).text
    regions = re.findall(r'<div class="table-scroll" tabindex="0" role="region" aria-label(?:ledby)?="[^"]+">', html)
    assert len(regions) == html.count("<table") > 0
    assert html.count("<caption") == html.count("<table")
    assert 'href="/static/css/staff.css"' in html
