"""Monthly counts: a supporter enters and corrects their own, for the last 12 open months; counts only."""

import datetime
import re

import pytest
from django.utils import timezone

from tallies.forms import TallyForm
from tallies.models import MAX_PER_MODE, OPEN_MONTHS, ClosedMonth, MonthlyTally, recent_months
from tests.test_privacy import LoadedResources, is_same_origin

pytestmark = pytest.mark.django_db

INDEX = "/en/my/counts/"


def edit_url(month):
    return f"/en/my/counts/{month.year}/{month.month}/"


@pytest.fixture
def months():
    """The months open for counts today, newest (this month) first."""
    return recent_months(timezone.localdate())


@pytest.fixture
def last_month(months):
    return months[1]


@pytest.fixture
def supporter(make_supporter, django_user_model):
    supporter = make_supporter(name="Anne Alvheim")
    supporter.account = django_user_model.objects.create_user("anne@example.org", password="a long passphrase A")
    supporter.save()
    return supporter


@pytest.fixture
def other(make_supporter, django_user_model):
    other = make_supporter(name="Bjørn Brekke")
    other.account = django_user_model.objects.create_user("bjorn@example.org", password="a long passphrase B")
    other.save()
    return other


@pytest.fixture
def logged_in(client, supporter):
    client.force_login(supporter.account)
    return client


def counts(supporter):
    """Every stored tally of a supporter, as (month, in person, phone, video)."""
    return list(
        MonthlyTally.objects.filter(supporter=supporter)
        .order_by("month")
        .values_list("month", "in_person", "phone", "video")
    )


def all_tallies():
    return list(MonthlyTally.objects.order_by("pk").values_list("supporter", "month", "in_person", "phone", "video"))


def errors_of(response):
    return {name: list(messages) for name, messages in response.context["form"].errors.items()}


# --- Who can reach what ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "which"), [("get", "index"), ("get", "edit"), ("post", "edit")])
def test_anonymous_visitor_is_sent_to_log_in(client, supporter, last_month, method, which):
    path = INDEX if which == "index" else edit_url(last_month)

    response = getattr(client, method)(path, {"in_person": "3"} if method == "post" else None)

    assert response.status_code == 302
    assert response["Location"] == f"/en/accounts/login/?next={path}"
    assert all_tallies() == []


@pytest.mark.parametrize(("method", "which"), [("get", "index"), ("get", "edit"), ("post", "edit")])
def test_account_without_a_listing_gets_not_found(client, django_user_model, last_month, method, which):
    client.force_login(django_user_model.objects.create_user("nobody@example.org", password="a long passphrase C"))
    path = INDEX if which == "index" else edit_url(last_month)

    assert getattr(client, method)(path, {"in_person": "3"} if method == "post" else None).status_code == 404
    assert all_tallies() == []


def test_the_history_shows_only_ones_own_counts(logged_in, supporter, other, months):
    MonthlyTally.objects.create(supporter=supporter, month=months[1], in_person=4, phone=2, video=1)
    MonthlyTally.objects.create(supporter=other, month=months[1], in_person=173, phone=161, video=157)
    MonthlyTally.objects.create(supporter=other, month=months[2], in_person=149, phone=0, video=0)

    response = logged_in.get(INDEX)

    rows = response.context["rows"]
    assert [row.tally.supporter_id for row in rows if row.tally] == [supporter.pk]
    html = response.content.decode()
    for number in ["173", "161", "157", "149", "491"]:
        assert f">{number}<" not in html
    assert "Bjørn Brekke" not in html


def test_entering_counts_changes_only_ones_own(logged_in, supporter, other, last_month):
    MonthlyTally.objects.create(supporter=other, month=last_month, in_person=9, phone=9, video=9)

    logged_in.post(
        edit_url(last_month), {"in_person": "1", "phone": "2", "video": "3", "supporter": other.pk, "id": other.pk}
    )

    assert counts(other) == [(last_month, 9, 9, 9)]
    assert counts(supporter) == [(last_month, 1, 2, 3)]


@pytest.mark.parametrize(
    "path", ["/en/my/counts/{pk}/", "/en/my/counts/{pk}/2026/10/", "/en/my/counts/?supporter={pk}"]
)
def test_guessing_another_supporters_id_in_the_address_reaches_nothing_of_theirs(logged_in, other, months, path):
    MonthlyTally.objects.create(supporter=other, month=months[1], in_person=173, phone=0, video=0)

    response = logged_in.get(path.format(pk=other.pk))

    assert response.status_code in (200, 404)
    assert ">173<" not in response.content.decode()


def test_the_pages_have_no_inline_script_or_style_and_load_nothing_from_elsewhere(logged_in, months):
    ClosedMonth.objects.create(month=months[2])
    responses = [
        logged_in.get(INDEX),
        logged_in.get(edit_url(months[1])),
        logged_in.post(edit_url(months[1]), {"in_person": "-1"}),
        logged_in.get(edit_url(months[2])),
    ]
    for response in responses:
        resources = LoadedResources()
        resources.feed(response.content.decode())
        assert resources.inline == []
        assert [url for url in resources.urls if not is_same_origin(url)] == []


def test_logged_in_pages_are_kept_out_of_caches(logged_in, last_month):
    for path in [INDEX, edit_url(last_month)]:
        assert logged_in.get(path)["Cache-Control"] == "private, no-store"


# --- The table of months --------------------------------------------------------------------------------------


def test_the_table_shows_the_last_12_months_newest_first_with_totals(logged_in, supporter, months):
    MonthlyTally.objects.create(supporter=supporter, month=months[0], in_person=1, phone=0, video=2)
    MonthlyTally.objects.create(supporter=supporter, month=months[11], in_person=5, phone=6, video=0)

    response = logged_in.get(INDEX)

    assert [row.month for row in response.context["rows"]] == months
    assert len(months) == OPEN_MONTHS
    assert response.context["totals"] == [6, 6, 2]
    assert response.context["total"] == 14
    html = response.content.decode()
    assert html.count("Not entered") == OPEN_MONTHS - 2
    newest = re.search(rf"<th scope=\"row\">{months[0]:%B %Y}</th>(.*?)</tr>", html, re.S).group(1)
    assert re.findall(r'<td class="num">(\d+)</td>', newest) == ["1", "0", "2", "3"]


def test_each_open_month_links_to_its_form_and_a_closed_one_does_not(logged_in, supporter, months):
    ClosedMonth.objects.create(month=months[3])

    html = logged_in.get(INDEX).content.decode()

    for month in months:
        assert (f'href="{edit_url(month)}"' in html) is (month != months[3]), month
    closed_row = re.search(rf"<th scope=\"row\">{months[3]:%B %Y}</th>(.*?)</tr>", html, re.S).group(1)
    assert "Closed" in closed_row


def test_months_older_than_the_open_ones_are_shown_but_not_offered_for_change(logged_in, supporter, months):
    older = recent_months(months[-1], count=2)[1]
    MonthlyTally.objects.create(supporter=supporter, month=older, in_person=7, phone=0, video=0)

    html = logged_in.get(INDEX).content.decode()

    earlier = re.search(r"<caption>Earlier months</caption>.*?</table>", html, re.S).group(0)
    assert f"{older:%B %Y}" in earlier
    assert ">7<" in earlier
    assert edit_url(older) not in html


def test_the_page_links_to_my_listing(logged_in):
    assert '<a class="ds-link" href="/en/my/">My listing</a>' in logged_in.get(INDEX).content.decode()


def test_the_table_loads_in_a_fixed_number_of_queries(logged_in, supporter, months, django_assert_max_num_queries):
    for month in months:
        MonthlyTally.objects.create(supporter=supporter, month=month, in_person=1, phone=1, video=1)
        ClosedMonth.objects.create(month=month)

    with django_assert_max_num_queries(7):
        logged_in.get(INDEX)


# --- Entering and correcting ----------------------------------------------------------------------------------


def test_a_supporter_enters_counts_for_a_month(logged_in, supporter, last_month):
    response = logged_in.post(edit_url(last_month), {"in_person": "3", "phone": "2", "video": "0"}, follow=True)

    assert response.redirect_chain == [(INDEX, 302)]
    assert f"Your counts for {last_month:%B %Y} are saved." in response.content.decode()
    assert counts(supporter) == [(last_month, 3, 2, 0)]


def test_a_supporter_corrects_counts_already_entered(logged_in, supporter, last_month):
    MonthlyTally.objects.create(supporter=supporter, month=last_month, in_person=3, phone=2, video=0)

    form = logged_in.get(edit_url(last_month)).context["form"]
    assert [form[name].value() for name in ["in_person", "phone", "video"]] == [3, 2, 0]

    logged_in.post(edit_url(last_month), {"in_person": "4", "phone": "2", "video": "1"})

    assert counts(supporter) == [(last_month, 4, 2, 1)]


def test_the_current_month_can_be_entered(logged_in, supporter, months):
    logged_in.post(edit_url(months[0]), {"in_person": "1", "phone": "0", "video": "0"})

    assert counts(supporter) == [(months[0], 1, 0, 0)]


def test_an_empty_box_counts_as_none(logged_in, supporter, last_month):
    logged_in.post(edit_url(last_month), {"in_person": "2", "phone": "", "video": ""})

    assert counts(supporter) == [(last_month, 2, 0, 0)]


def test_the_largest_allowed_count_is_accepted(logged_in, supporter, last_month):
    response = logged_in.post(edit_url(last_month), {"in_person": str(MAX_PER_MODE), "phone": "0", "video": "0"})

    assert response.status_code == 302
    assert counts(supporter) == [(last_month, MAX_PER_MODE, 0, 0)]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "A count cannot be less than 0."),
        (str(MAX_PER_MODE + 1), f"At most {MAX_PER_MODE} in one month; please check for a typing error."),
        ("99999999999999999999999", f"At most {MAX_PER_MODE} in one month"),
        ("2.5", "Enter a whole number, such as 0 or 3."),
        ("two", "Enter a whole number, such as 0 or 3."),
        ("1e3", "Enter a whole number, such as 0 or 3."),
        ("3 conversations with Dr X", "Enter a whole number, such as 0 or 3."),
    ],
)
def test_a_count_that_is_not_a_whole_number_in_range_is_refused_and_nothing_changes(
    logged_in, supporter, last_month, value, message
):
    MonthlyTally.objects.create(supporter=supporter, month=last_month, in_person=3, phone=2, video=1)

    response = logged_in.post(edit_url(last_month), {"in_person": "5", "phone": value, "video": "5"})

    assert response.status_code == 200
    assert any(text.startswith(message) for text in errors_of(response)["phone"]), errors_of(response)
    assert "The counts were not saved" in response.content.decode()
    assert counts(supporter) == [(last_month, 3, 2, 1)]


def test_a_refused_first_entry_stores_nothing(logged_in, supporter, last_month):
    logged_in.post(edit_url(last_month), {"in_person": "5", "phone": "-3", "video": "5"})

    assert counts(supporter) == []


def test_the_form_holds_counts_only(logged_in, supporter, last_month):
    response = logged_in.post(
        edit_url(last_month),
        {"in_person": "1", "phone": "1", "video": "1", "note": "Dr X, 3 May", "month": "2001-01-01"},
    )

    assert set(TallyForm.base_fields) == {"in_person", "phone", "video"}
    assert response.status_code == 302
    assert counts(supporter) == [(last_month, 1, 1, 1)]
    assert {field.name for field in MonthlyTally._meta.concrete_fields} == {
        "id",
        "supporter",
        "month",
        "in_person",
        "phone",
        "video",
        "updated_at",
    }


# --- Months that cannot be changed ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_closed_month_is_refused_with_a_message_and_nothing_changes(logged_in, supporter, last_month, method):
    MonthlyTally.objects.create(supporter=supporter, month=last_month, in_person=3, phone=2, video=1)
    ClosedMonth.objects.create(month=last_month)

    response = getattr(logged_in, method)(edit_url(last_month), {"in_person": "9", "phone": "9", "video": "9"})

    assert response.status_code == 403
    assert f"{last_month:%B %Y} is closed" in response.content.decode()
    assert counts(supporter) == [(last_month, 3, 2, 1)]


@pytest.mark.parametrize("which", ["older", "future"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_month_outside_the_last_12_is_refused_with_a_message(logged_in, supporter, months, which, method):
    if which == "older":
        month = recent_months(months[-1], count=2)[1]
    else:
        month = (months[0] + datetime.timedelta(days=31)).replace(day=1)

    response = getattr(logged_in, method)(edit_url(month), {"in_person": "1", "phone": "1", "video": "1"})

    assert response.status_code == 404
    html = response.content.decode()
    assert f"Counts can be entered and corrected for {OPEN_MONTHS} months" in html
    assert f"{month:%B %Y} is not one of them" in html
    assert counts(supporter) == []


@pytest.mark.parametrize(
    "path",
    ["/en/my/counts/2026/13/", "/en/my/counts/2026/0/", "/en/my/counts/0/1/", "/en/my/counts/99999999999999999999/1/"],
)
def test_a_month_that_does_not_exist_is_not_found(logged_in, path):
    assert logged_in.get(path).status_code == 404
    assert logged_in.post(path, {"in_person": "1"}).status_code == 404
    assert all_tallies() == []


# --- Staff ----------------------------------------------------------------------------------------------------


def test_staff_close_a_month_in_the_admin_and_then_it_cannot_be_changed(
    staff_client, client, supporter, last_month, django_user_model
):
    response = staff_client.post("/admin/tallies/closedmonth/add/", {"month": last_month.isoformat()})
    assert response.status_code == 302
    assert ClosedMonth.objects.filter(month=last_month).exists()

    staff_client.logout()
    client.force_login(supporter.account)
    assert client.post(edit_url(last_month), {"in_person": "1"}).status_code == 403
    assert counts(supporter) == []


def test_the_admin_asks_for_the_first_day_of_a_month(staff_client, last_month):
    response = staff_client.post("/admin/tallies/closedmonth/add/", {"month": last_month.replace(day=15).isoformat()})

    assert response.status_code == 200
    # The admin has no language in its address: it speaks the default language, Norwegian Bokmål.
    assert f"Oppgi den første dagen i måneden, for eksempel {last_month.isoformat()}." in response.content.decode()
    assert not ClosedMonth.objects.exists()


def test_staff_find_counts_by_month_and_supporter_name(staff_client, supporter, other, months):
    MonthlyTally.objects.create(supporter=supporter, month=months[1], in_person=1, phone=0, video=0)
    MonthlyTally.objects.create(supporter=other, month=months[1], in_person=2, phone=0, video=0)
    MonthlyTally.objects.create(supporter=other, month=months[2], in_person=3, phone=0, video=0)

    by_month = staff_client.get("/admin/tallies/monthlytally/", {"month": months[1].isoformat()})
    by_name = staff_client.get("/admin/tallies/monthlytally/", {"q": "Bjørn"})
    bad_month = staff_client.get("/admin/tallies/monthlytally/", {"month": "not-a-month"})

    assert {tally.pk for tally in by_month.context["cl"].result_list} == set(
        MonthlyTally.objects.filter(month=months[1]).values_list("pk", flat=True)
    )
    assert {tally.supporter_id for tally in by_name.context["cl"].result_list} == {other.pk}
    assert bad_month.status_code == 200
    assert staff_client.get(f"/admin/tallies/monthlytally/{MonthlyTally.objects.first().pk}/change/").status_code == 200


# --- Languages and the error summary --------------------------------------------------------------------------


def test_the_counts_speak_norwegian_under_nb(logged_in, supporter, months):
    MonthlyTally.objects.create(supporter=supporter, month=months[1], in_person=1, phone=2, video=3)

    html = logged_in.get("/nb/my/counts/").content.decode()

    assert '<html lang="nb"' in html
    assert re.search(r"<h1[^>]*>Samtaletall per måned</h1>", html)
    assert '<table class="ds-table' in html
    assert "Ikke ført inn" in html
    assert '<th scope="col" class="num">Totalt</th>' in html
    # Month names in Norwegian, as Django writes them: "november 2026".
    from django.utils import translation
    from django.utils.formats import date_format

    with translation.override("nb"):
        assert f'<th scope="row">{date_format(months[1], "F Y")}</th>' in html


def test_a_bad_count_in_norwegian_is_in_the_summary_linked_to_its_field(logged_in, supporter, last_month):
    response = logged_in.post(f"/nb/my/counts/{last_month.year}/{last_month.month}/", {"in_person": "1", "phone": "to"})

    assert response.status_code == 200
    html = response.content.decode()
    summary = re.search(r'<div class="ds-error-summary" id="error-summary" tabindex="-1".*?</div>', html, re.S).group(0)
    assert "Samtaletallene ble ikke lagret" in summary
    assert '<a class="ds-link" href="#id_phone">På telefon: Skriv et helt tall, for eksempel 0 eller 3.</a>' in summary
    assert re.search(r'<input type="number" name="phone"[^>]*aria-invalid="true"', html)
    assert counts(supporter) == []
