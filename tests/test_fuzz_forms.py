"""Whatever a supporter or a staff member posts, a form saves all of it as the form reads it, or nothing: never a
server error, never half a change, and a refused form says why on the page. Hypothesis writes the posts: NUL bytes,
huge and broken text, markup, numbers and dates that are none, unknown choices, missing and repeated fields, sent
as a browser sends them or as a raw body with broken percent-encodings.
"""

import csv
import datetime
import io
from urllib.parse import quote

import pytest
from django import forms
from django.test import Client
from django.utils import timezone
from django.utils.html import escape
from hypothesis import event, given
from hypothesis import strategies as st

from accounts.admin_site import has_nul_character
from directory import forms as directory_forms
from directory.admin import TrainingMeetingChoiceForm
from directory.forms import ListingForm
from directory.models import PeerSupporter
from staff import forms as staff_forms
from staff.forms import CloseMonthForm, ExportForm, closable_months
from tallies import forms as tallies_forms
from tallies.forms import TallyForm
from tallies.models import MAX_PER_MODE, ClosedMonth, MonthlyTally, recent_months
from tests.test_fuzz_public import BROKEN_ENCODINGS, LONG, MARKUP, ODD_NUMBERS, SQL, Markup, fuzz
from tests.test_my_listing import form_data, stored
from training.models import Attendance, TrainingMeeting

pytestmark = pytest.mark.django_db

MY_LISTING = "/en/my/"
CONFIRM = "/en/my/confirm/"

# Text of every kind: any Unicode (NUL and control characters included), markup, SQL, numbers that are not, dates
# that are not, and text past every length limit.
nasty = st.one_of(
    st.text(max_size=30),
    st.sampled_from(MARKUP + SQL + ODD_NUMBERS),
    st.sampled_from(["", " ", "\x00", "on", "off", "None", "null", "[]", "\r\n", "a\x00b", "\ufeff", "٣"]),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["2026-02-30", "9999-12-31", "0001-01-01", "10000-01-01", "31.12.2026", "2026-13-01", "2026-1"]),
    st.builds(
        lambda text, length: text * length, st.sampled_from(["9", "a", "\x00", "ø", "<", "\r\n"]), st.sampled_from(LONG)
    ),
)
EXTRA_NAMES = ["id", "pk", "supporter", "account", "listed", "name", "month", "csrfmiddlewaretoken", "", "\x00"]
# After a field's value, in a raw body: nothing mostly, sometimes an encoding that is broken.
SUFFIXES = ["", "", "", "", *BROKEN_ENCODINGS]


def draw_post(data, base, good, odd=None, *, multiple=()):
    """Draw a post from base (what the browser sends for the stored values). Returns the arguments for client.post().

    Either as the form itself would send it: any number of fields changed to good values (names in multiple to a
    list of them), so that many posts are valid; or wild: a few fields changed to good, odd (odd[name]) or nasty
    values, repeated or sent with no value at all, some left out, unknown ones added, sent as a multipart body or as
    a raw one with broken percent-encodings.
    """
    fields = {name: value if isinstance(value, list) else [value] for name, value in base.items()}
    names = sorted(good)
    if not data.draw(st.booleans(), label="wild"):
        for name in names:
            if data.draw(st.booleans(), label=f"change {name}"):
                many = st.lists(good[name], max_size=3, unique=True)
                fields[name] = data.draw(many) if name in multiple else [data.draw(good[name])]
        return {"data": fields}
    for name in data.draw(st.sets(st.sampled_from(names), max_size=4), label="changed"):
        value = st.one_of(good[name], (odd or good).get(name, good[name]), nasty)
        fields[name] = data.draw(st.one_of(value.map(lambda v: [v]), st.lists(value, min_size=0, max_size=3)))
    for name in data.draw(st.sets(st.sampled_from(names), max_size=2), label="missing"):
        fields.pop(name, None)
    for name in data.draw(st.lists(st.sampled_from(EXTRA_NAMES) | st.text(max_size=8), max_size=2), label="added"):
        fields[name] = [data.draw(nasty)]
    if data.draw(st.booleans(), label="raw body"):
        pairs = [
            f"{quote(name, safe='')}={quote(value, safe='')}{data.draw(st.sampled_from(SUFFIXES))}"
            for name, values in fields.items()
            for value in values
        ]
        return {"data": "&".join(pairs), "content_type": "application/x-www-form-urlencoded"}
    return {"data": fields}


def as_query(post):
    """A drawn post as a query string, for a form sent with GET."""
    if isinstance(post["data"], str):
        return post["data"]
    return "&".join(
        f"{quote(name, safe='')}={quote(value, safe='')}" for name, values in post["data"].items() for value in values
    )


def assert_page_is_sane(response):
    """A page in UTF-8 that runs nothing it was sent."""
    body = response.content.decode("utf-8")
    for markup in MARKUP:
        assert markup not in body, markup
    parser = Markup()
    parser.feed(body)
    assert parser.problems == []
    return body


def assert_errors_are_shown(response, form):
    """The page shows each of the form's errors (escaped, as the page shows text)."""
    body = response.content.decode()
    for errors in form.errors.values():
        for error in errors:
            assert escape(error) in body, error


def history_counts(*models):
    return [model.history.model.objects.count() for model in models]


# --- My listing -----------------------------------------------------------------------------------------------


@pytest.fixture
def supporter(make_supporter, django_user_model):
    supporter = make_supporter(
        name="Anne Alvheim",
        specialties=["psychiatry"],
        languages=["nb", "en"],
        municipality="Bergen",
        town="Fana",
        note="Ring gjerne.",
        phone="+4722123456",
        email="anne@example.org",
        meets_in_person=True,
    )
    supporter.account = django_user_model.objects.create_user("anne@example.org", password="a long passphrase A")
    supporter.save()
    return supporter


@pytest.fixture
def logged_in(supporter):
    client = Client()
    client.force_login(supporter.account)
    return client


def listing_values(today):
    """(good, odd): values the form takes for each field, and values close to them that it may refuse."""
    boolean = st.sampled_from(["on", "", "true", "false"])
    good = {
        "availability": st.sampled_from(["open", "few_places", "paused"]),
        "availability_until": st.sampled_from(["", today.isoformat(), (today + datetime.timedelta(30)).isoformat()]),
        "meets_in_person": boolean,
        "meets_by_phone": boolean,
        "meets_by_video": boolean,
        "evenings": boolean,
        "weekends": boolean,
        "show_phone": boolean,
        "show_email": boolean,
        "languages": st.sampled_from(["nb", "en", "se", "sv"]),
        "phone": st.sampled_from(["", "22 12 34 56", "+46 8 123 456 78", "0047 22123456", "+4791234567"]),
        "email": st.sampled_from(["", "kari@example.org", "Kari.Nordmann@Example.ORG"]),
        "municipality": st.sampled_from(["0301", "4601", "5501"]),
        "town": st.sampled_from(["", "Nesttun", "Fana", *MARKUP]),
        "note": st.sampled_from(["", "Ring gjerne.", "Line one\r\nline two", "x" * 500, *MARKUP]),
    }
    odd = {
        "availability": st.sampled_from(["OPEN", "closed"]),
        "availability_until": st.sampled_from(
            [(today - datetime.timedelta(1)).isoformat(), "9999-12-31", today.strftime("%d.%m.%Y")]
        ),
        "languages": st.sampled_from(["xx", "1", "NB"]),
        "phone": st.sampled_from(["12", "+999", "+47 " + "9" * 30]),
        "email": st.sampled_from(["a@b", "@", "kari@exämple.org", "x" * 250 + "@example.org"]),
        "municipality": st.sampled_from(["9999", "0", "Oslo", ""]),
        "note": st.just("x" * 501),
    }
    return good, odd


KEPT_IN_STEP = {"last_confirmed", "updated_at", "search_text", "version"}


def e164(phone):
    return phone.as_e164 if phone else ""


def as_stored(name, value):
    """A cleaned value of the listing form as stored() gives it back."""
    if name == "languages":
        return sorted(language.code for language in value)
    if name == "municipality":
        return value.pk
    if name == "phone":
        return e164(value)
    return value


def stored_value(values, name):
    return {"municipality": values["municipality_id"], "phone": e164(values["phone"])}.get(name, values.get(name))


@fuzz(50)
@given(data=st.data())
def test_a_post_to_my_listing_saves_all_of_it_or_nothing(logged_in, supporter, data):
    today = timezone.localdate()
    listing = PeerSupporter.objects.get(pk=supporter.pk)
    before, history = stored(supporter), history_counts(PeerSupporter)

    post = draw_post(data, form_data(listing), *listing_values(today), multiple=["languages"])

    response = logged_in.post(MY_LISTING, **post)
    event(f"status {response.status_code}")  # What Hypothesis tried: --hypothesis-show-statistics

    # The form as the view read it, over the listing as it was before the post.
    expected = ListingForm(response.wsgi_request.POST, instance=listing, today=today)
    if not expected.is_valid():
        event(f"refused: {', '.join(sorted(expected.errors))}")
        assert response.status_code == 200
        assert "Your listing was not saved" in assert_page_is_sane(response)
        assert_errors_are_shown(response, expected)
        assert stored(supporter) == before
        assert history_counts(PeerSupporter) == history
        return
    assert response.status_code == 302
    after = stored(supporter)
    event(f"saved, {len([name for name in before if before[name] != after[name]])} values changed")
    event("saved other languages" if before["languages"] != after["languages"] else "saved the same languages")
    for name, value in expected.cleaned_data.items():
        assert stored_value(after, name) == as_stored(name, value), name
    # Everything else stays, but for the confirmation date and what the model keeps in step with it.
    untouched = set(before) - {"municipality_id", *expected.cleaned_data, *KEPT_IN_STEP}
    assert {name: after[name] for name in untouched} == {name: before[name] for name in untouched}
    assert after["last_confirmed"] == today
    assert history_counts(PeerSupporter)[0] > history[0]
    PeerSupporter.objects.get(pk=supporter.pk).full_clean()
    # What was saved shows escaped on the supporter's page and on the public profile.
    assert_page_is_sane(logged_in.get(MY_LISTING))
    profile = Client().get(supporter.get_absolute_url())
    assert profile.status_code == 200
    assert_page_is_sane(profile)


@fuzz(30)
@given(data=st.data())
def test_confirming_my_listing_ignores_whatever_else_is_posted(logged_in, supporter, data):
    before = stored(supporter)

    response = logged_in.post(CONFIRM, **draw_post(data, {}, {"pk": nasty, "last_confirmed": nasty}))
    event(f"status {response.status_code}")

    assert response.status_code == 302
    after = stored(supporter)
    assert after["last_confirmed"] == timezone.localdate()
    changed = {name for name in before if after[name] != before[name]}
    assert changed <= {"last_confirmed", "updated_at"}


# --- Monthly counts -------------------------------------------------------------------------------------------


@pytest.fixture
def counts_world(logged_in, supporter, make_supporter):
    """Counts for last month (the supporter's and another's), and a closed month."""
    months = recent_months(timezone.localdate())
    MonthlyTally.objects.create(supporter=supporter, month=months[1], in_person=4, phone=2, video=1)
    MonthlyTally.objects.create(supporter=make_supporter(), month=months[1], in_person=9, phone=9, video=9)
    ClosedMonth.objects.create(month=months[3])
    return months


def all_tallies():
    return list(MonthlyTally.objects.order_by("pk").values_list("supporter", "month", "in_person", "phone", "video"))


def tally_choices():
    count = st.one_of(
        st.integers(min_value=-1, max_value=MAX_PER_MODE + 1).map(str),
        st.sampled_from(["-1", "0", str(MAX_PER_MODE), str(MAX_PER_MODE + 1), str(2**15), str(2**63)]),
        st.sampled_from(["", "3.0", " 3 ", "3,0", "1e2", "٣", "\uff13", "0x3", "+3", "-0"]),
    )
    return {"in_person": count, "phone": count, "video": count}


@fuzz(100)
@given(data=st.data())
def test_a_post_of_counts_saves_the_month_whole_or_changes_nothing(logged_in, supporter, counts_world, data):
    months = counts_world
    outside = [months[-1] - datetime.timedelta(days=1), months[0] + datetime.timedelta(days=40)]
    month = data.draw(st.sampled_from([*months[:5], months[-1], *(day.replace(day=1) for day in outside)]))
    before = all_tallies()

    counts = {"in_person": "1", "phone": "0", "video": "2"}
    response = logged_in.post(f"/en/my/counts/{month.year}/{month.month}/", **draw_post(data, counts, tally_choices()))
    event(f"status {response.status_code}")

    expected = TallyForm(response.wsgi_request.POST)
    if month not in months:
        assert response.status_code == 404
    elif month == months[3]:
        assert response.status_code == 403
    elif not expected.is_valid():
        assert response.status_code == 200
        assert "The counts were not saved" in assert_page_is_sane(response)
        assert_errors_are_shown(response, expected)
    else:
        assert response.status_code == 302
        saved = MonthlyTally.objects.get(supporter=supporter, month=month)
        assert [saved.in_person, saved.phone, saved.video] == [
            expected.cleaned_data[mode] for mode in ("in_person", "phone", "video")
        ]
        assert all(0 <= count <= MAX_PER_MODE for count in expected.cleaned_data.values())
        others = [row for row in all_tallies() if (row[0], row[1]) != (supporter.pk, month)]
        assert others == [row for row in before if (row[0], row[1]) != (supporter.pk, month)]
        return
    assert all_tallies() == before


@fuzz(40)
@given(
    year=st.sampled_from([timezone.localdate().year - 1, timezone.localdate().year]) | st.integers(0, 10**25),
    month=st.integers(min_value=0, max_value=13) | st.integers(min_value=0, max_value=10**25),
    method=st.sampled_from(["get", "post"]),
)
def test_any_month_in_the_address_of_the_counts_is_a_page_or_not_found(logged_in, counts_world, year, month, method):
    before = all_tallies()

    response = getattr(logged_in, method)(f"/en/my/counts/{year}/{month}/", {"in_person": "1"})
    event(f"status {response.status_code}")

    assert response.status_code in (200, 302, 403, 404)
    if response.status_code != 302:
        assert all_tallies() == before


# --- Staff: the export and closing a month --------------------------------------------------------------------


def month_text(day):
    return f"{day:%Y-%m}"


@fuzz(60)
@given(data=st.data())
def test_the_export_gives_a_csv_or_says_what_is_wrong(roles, data):
    today = timezone.localdate()
    months = recent_months(today)
    month = st.sampled_from([month_text(months[0]), month_text(months[-1]), "2020-01", "1999-12", "2026-13"])
    choices = {
        "year": st.sampled_from([str(today.year), "2000", "2100", "1999", "20260"]),
        "start": month,
        "end": month,
    }
    base = data.draw(
        st.sampled_from([{"year": str(today.year)}, {"start": month_text(months[-1]), "end": month_text(months[0])}])
    )
    query = as_query(draw_post(data, base, choices))

    response = roles.clients["administrator"].get(f"/en/staff/statistics/export.csv?{query}")
    event(f"status {response.status_code}")

    expected = ExportForm(response.wsgi_request.GET)
    if expected.is_valid():
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        first, last = expected.cleaned_data["start"], expected.cleaned_data["end"]
        assert all(month_text(first) <= row[3] <= month_text(last) for row in rows[1:])
    else:
        assert response.status_code == 400
        assert_page_is_sane(response)
        assert_errors_are_shown(response, expected)


@fuzz(60)
@given(data=st.data())
def test_closing_a_month_closes_exactly_that_month_or_nothing(roles, data):
    today = timezone.localdate()
    closable = closable_months(today)
    # Each example starts from the same closed month.
    ClosedMonth.objects.exclude(month=closable[5]).delete()
    ClosedMonth.objects.get_or_create(month=closable[5])
    before, history = set(ClosedMonth.objects.values_list("month", flat=True)), history_counts(ClosedMonth)
    choices = {
        "month": st.sampled_from(
            [*(month_text(month) for month in closable[:6]), month_text(today), "2001-01", "2026-13", "2026-1"]
        )
    }

    response = roles.clients["administrator"].post(
        "/en/staff/months/close/", **draw_post(data, {"month": month_text(closable[0])}, choices)
    )
    event(f"status {response.status_code}")

    expected = CloseMonthForm(response.wsgi_request.POST, today=today)
    after = set(ClosedMonth.objects.values_list("month", flat=True))
    if expected.is_valid():
        assert response.status_code == 302
        assert after == before | {expected.cleaned_data["month"]}
    else:
        assert response.status_code == 400
        assert "Nothing was closed" in assert_page_is_sane(response)
        assert_errors_are_shown(response, expected)
        assert after == before
        assert history_counts(ClosedMonth) == history


# --- Staff: recording attendance at a training meeting (an action of the roster admin) --------------------------


@fuzz(40)
@given(data=st.data())
def test_recording_attendance_records_exactly_the_chosen_meeting_or_nothing(roles, data):
    meetings = [
        TrainingMeeting.objects.get_or_create(date=datetime.date(2026, 9, 1), place="Soria Moria")[0],
        TrainingMeeting.objects.get_or_create(date=datetime.date(2023, 9, 1), place="Gardermoen")[0],
    ]
    # Each example starts from the same attendance: one, at the older meeting.
    Attendance.objects.exclude(meeting=meetings[1], supporter=roles.oslo).delete()
    Attendance.objects.get_or_create(meeting=meetings[1], supporter=roles.oslo)
    selected = data.draw(st.lists(st.sampled_from([roles.oslo, roles.vestland]), min_size=1, unique=True))
    before, history = set(Attendance.objects.values_list("meeting", "supporter")), history_counts(Attendance)
    base = {"action": "record_attendance", "apply": "Record attendance", "meeting": str(meetings[0].pk)}
    choices = {
        "meeting": st.sampled_from([str(meeting.pk) for meeting in meetings] + ["0", "999999", "-1", "1.0", "\uff11"]),
        "apply": st.just("1"),
    }
    post = draw_post(data, base, choices)
    # The supporters ticked in the list: the admin's own field, always ids of the list.
    if isinstance(post["data"], str):
        post["data"] += "".join(f"&_selected_action={supporter.pk}" for supporter in selected)
    else:
        post["data"]["_selected_action"] = [str(supporter.pk) for supporter in selected]

    response = roles.clients["administrator"].post("/admin/directory/peersupporter/", **post)
    event(f"status {response.status_code}")

    sent = response.wsgi_request.POST
    after = set(Attendance.objects.values_list("meeting", "supporter"))
    if has_nul_character(response.wsgi_request):
        # The admin refuses any NUL character before it reads the request (accounts/admin_site.py).
        assert response.status_code == 400
        assert_page_is_sane(response)
    elif sent.get("action") != "record_attendance":
        # A broken action name (a raw body's broken encoding after it): the admin says no action was chosen.
        assert response.status_code == 302
    elif "apply" not in sent:
        # The first step: the page that asks for the meeting.
        assert response.status_code == 200
        assert_page_is_sane(response)
    else:
        expected = TrainingMeetingChoiceForm(sent)
        if expected.is_valid():
            assert response.status_code == 302
            meeting = expected.cleaned_data["meeting"]
            assert after == before | {(meeting.pk, supporter.pk) for supporter in selected}
            return
        assert response.status_code == 200
        assert_errors_are_shown(response, expected)
        assert_page_is_sane(response)
    assert after == before
    assert history_counts(Attendance) == history


def forms_in(module):
    return {
        name
        for name, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, forms.BaseForm) and value.__module__ == module.__name__
    }


def test_every_form_is_fuzzed():
    """A new form of the logged-in area fails here until it has a test above (the admin's own forms are Django's)."""

    fuzzed = {"ListingForm", "TallyForm", "ExportForm", "CloseMonthForm"}
    assert forms_in(directory_forms) | forms_in(tallies_forms) | forms_in(staff_forms) == fuzzed
