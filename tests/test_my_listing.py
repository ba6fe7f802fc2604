"""A supporter keeps their own listing true: they can reach only their own, and a refused form changes nothing."""

import datetime
import re

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape

from counties.models import County, Municipality
from directory.forms import (
    NO_CONTACT_GIVEN,
    NO_CONTACT_SHOWN,
    NO_MEETING_MODE,
    UNTIL_IN_THE_PAST,
    UNTIL_WITH_OPEN,
)
from directory.models import NOTE_MAX_LENGTH, Availability, Language, PeerSupporter, Specialty
from tests.test_privacy import LoadedResources, is_same_origin

pytestmark = pytest.mark.django_db

MY_LISTING = "/en/my/"
CONFIRM = "/en/my/confirm/"
BOOLEAN_FIELDS = [
    "meets_in_person",
    "meets_by_phone",
    "meets_by_video",
    "evenings",
    "weekends",
    "show_phone",
    "show_email",
]


@pytest.fixture
def supporter(make_supporter, django_user_model):
    """Supporter A, logged in below through the client fixture, with every editable field set."""
    supporter = make_supporter(
        name="Anne Alvheim",
        title="Fastlege",
        specialties=["psychiatry"],
        languages=["nb", "en"],
        municipality="Bergen",
        town="Fana",
        note="Ring gjerne.",
        phone="+4722123456",
        email="anne@example.org",
        appointed=datetime.date(2020, 1, 15),
    )
    supporter.account = django_user_model.objects.create_user("anne@example.org", password="a long passphrase A")
    supporter.save()
    return supporter


@pytest.fixture
def other(make_supporter, django_user_model):
    """Supporter B, with an account of their own."""
    other = make_supporter(
        name="Bjørn Brekke",
        municipality="Tromsø",
        town="Kvaløya",
        note="Bjørn's own note.",
        phone="+4791234567",
        email="bjorn@example.org",
        languages=["nb"],
    )
    other.account = django_user_model.objects.create_user("bjorn@example.org", password="a long passphrase B")
    other.save()
    return other


@pytest.fixture
def logged_in(client, supporter):
    client.force_login(supporter.account)
    return client


def form_data(supporter, /, **changes):
    """What the browser posts for the listing as stored, with changes; a boolean False is an unticked box."""
    data = {
        "availability": supporter.availability,
        "availability_until": supporter.availability_until.isoformat() if supporter.availability_until else "",
        "languages": [language.code for language in supporter.languages.all()],
        "phone": supporter.phone.as_e164 if supporter.phone else "",
        "email": supporter.email,
        "municipality": supporter.municipality.number,
        "town": supporter.town,
        "note": supporter.note,
        **{name: getattr(supporter, name) for name in BOOLEAN_FIELDS},
    }
    data.update(changes)
    return {name: ("on" if value is True else value) for name, value in data.items() if value is not False}


def stored(supporter):
    """Every stored value of the listing, its specialties and languages included."""
    row = PeerSupporter.objects.get(pk=supporter.pk)
    values = {field.attname: getattr(row, field.attname) for field in PeerSupporter._meta.concrete_fields}
    values["specialties"] = sorted(row.specialties.values_list("slug", flat=True))
    values["languages"] = sorted(row.languages.values_list("code", flat=True))
    return values


def errors_of(response):
    form = response.context["form"]
    return {name: list(messages) for name, messages in form.errors.items()}


def profile_html(client, supporter):
    response = client.get(supporter.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


# --- Who can reach what ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [("get", MY_LISTING), ("post", MY_LISTING), ("post", CONFIRM)])
def test_anonymous_visitor_is_sent_to_log_in(client, supporter, method, path):
    before = stored(supporter)

    response = getattr(client, method)(path, form_data(supporter, note="Changed") if method == "post" else None)

    assert response.status_code == 302
    assert response["Location"] == f"/en/accounts/login/?next={path}"
    assert stored(supporter) == before


@pytest.mark.parametrize(("method", "path"), [("get", MY_LISTING), ("post", MY_LISTING), ("post", CONFIRM)])
def test_account_without_a_listing_gets_not_found(client, django_user_model, method, path):
    user = django_user_model.objects.create_user("nobody@example.org", password="a long passphrase C")
    client.force_login(user)

    assert getattr(client, method)(path).status_code == 404


def test_the_page_shows_the_logged_in_supporters_own_listing_only(logged_in, supporter, other):
    response = logged_in.get(MY_LISTING)

    assert response.status_code == 200
    assert response.context["form"].instance.pk == supporter.pk
    html = response.content.decode()
    assert "anne@example.org" in html
    for detail in ["Bjørn Brekke", "bjorn@example.org", "91 23 45 67", "Kvaløya", "Bjørn&#x27;s own note."]:
        assert detail not in html


@pytest.mark.parametrize(
    "guessed_id",
    ["id", "pk", "supporter", "supporter_id", "account", "account_id"],
)
def test_posting_another_supporters_id_changes_only_ones_own_listing(logged_in, supporter, other, guessed_id):
    others_before = stored(other)

    response = logged_in.post(
        MY_LISTING, form_data(supporter, note="Written by A", **{guessed_id: other.pk}), follow=True
    )

    assert response.status_code == 200
    assert stored(other) == others_before
    assert stored(supporter)["note"] == "Written by A"
    assert stored(supporter)["account_id"] == supporter.account_id


@pytest.mark.parametrize(
    "path",
    ["/en/my/{pk}/", "/en/my/?pk={pk}", "/en/my/?supporter={pk}", "/en/my/{pk}/confirm/", "/en/my/confirm/?pk={pk}"],
)
def test_guessing_another_supporters_id_in_the_address_reaches_only_ones_own_listing(logged_in, supporter, other, path):
    others_before = stored(other)
    path = path.format(pk=other.pk)

    get = logged_in.get(path)
    post = logged_in.post(path, form_data(other, note="Written by A"))

    assert get.status_code in (404, 405, 200)
    if get.status_code == 200:
        assert get.context["form"].instance.pk == supporter.pk
        assert "bjorn@example.org" not in get.content.decode()
    assert post.status_code in (302, 404)
    assert stored(other) == others_before


def test_the_confirm_button_confirms_only_ones_own_listing(logged_in, supporter, other):
    logged_in.post(CONFIRM, {"pk": other.pk, "supporter": other.pk})

    assert PeerSupporter.objects.get(pk=supporter.pk).last_confirmed == timezone.localdate()
    assert PeerSupporter.objects.get(pk=other.pk).last_confirmed is None


def test_the_page_has_no_inline_script_or_style_and_loads_nothing_from_elsewhere(logged_in, supporter):
    for response in [logged_in.get(MY_LISTING), logged_in.post(MY_LISTING, form_data(supporter, phone="x"))]:
        resources = LoadedResources()
        resources.feed(response.content.decode())
        assert resources.inline == []
        assert [url for url in resources.urls if not is_same_origin(url)] == []


def test_logged_in_pages_are_kept_out_of_caches(logged_in):
    response = logged_in.get(MY_LISTING)

    assert response["Cache-Control"] == "private, no-store"


# --- Showing and saving ---------------------------------------------------------------------------------------


def test_the_form_shows_the_current_values(logged_in, supporter):
    html = logged_in.get(MY_LISTING).content.decode()

    assert re.search(r'<input type="radio" name="availability" value="open"[^>]* checked', html)
    assert 'name="phone" value="22 12 34 56"' in html
    assert 'name="email" value="anne@example.org"' in html
    assert 'name="town" value="Fana"' in html
    assert '<option value="4601" selected>Bergen</option>' in html
    assert re.search(r'name="languages" value="en"[^>]* checked', html)
    assert re.search(r'name="languages" value="nb"[^>]* checked', html)
    assert not re.search(r'name="languages" value="sv"[^>]* checked', html)
    assert re.search(r'name="meets_in_person"[^>]* checked', html)
    assert not re.search(r'name="meets_by_video"[^>]* checked', html)
    assert "Ring gjerne." in html
    assert f"at most {NOTE_MAX_LENGTH} characters" in html


def test_the_municipalities_are_grouped_by_county(logged_in):
    html = logged_in.get(MY_LISTING).content.decode()

    vestland = re.search(r'<optgroup label="Vestland">(.*?)</optgroup>', html, re.S).group(1)
    assert "Bergen" in vestland
    assert "Tromsø" not in vestland


def test_every_editable_field_saves(logged_in, supporter):
    until = timezone.localdate() + datetime.timedelta(days=30)

    response = logged_in.post(
        MY_LISTING,
        form_data(
            supporter,
            availability=Availability.PAUSED,
            availability_until=until.isoformat(),
            meets_in_person=False,
            meets_by_phone=False,
            meets_by_video=True,
            evenings=True,
            weekends=True,
            languages=["se", "sv"],
            note="Best reached in the evening.\nI answer within a day.",
            phone="+47 91 23 45 00",
            show_phone=False,
            email="anne.alvheim@example.org",
            show_email=True,
            municipality="5501",
            town="Tromsdalen",
        ),
    )

    assert response.status_code == 302
    after = PeerSupporter.objects.get(pk=supporter.pk)
    assert after.availability == Availability.PAUSED
    assert after.availability_until == until
    assert (after.meets_in_person, after.meets_by_phone, after.meets_by_video) == (False, False, True)
    assert (after.evenings, after.weekends) == (True, True)
    assert sorted(after.languages.values_list("code", flat=True)) == ["se", "sv"]
    assert after.note == "Best reached in the evening.\nI answer within a day."
    assert after.phone.as_e164 == "+4791234500"
    assert after.show_phone is False
    assert after.email == "anne.alvheim@example.org"
    assert after.show_email is True
    assert after.municipality.name == "Tromsø"
    assert after.town == "Tromsdalen"


def test_saving_shows_a_message_and_returns_to_the_form(logged_in, supporter):
    response = logged_in.post(MY_LISTING, form_data(supporter, town="Nesttun"), follow=True)

    assert response.redirect_chain == [(MY_LISTING, 302)]
    assert "Your listing is saved." in response.content.decode()


def test_saving_also_confirms_the_listing(logged_in, supporter):
    logged_in.post(MY_LISTING, form_data(supporter, town="Nesttun"))

    assert PeerSupporter.objects.get(pk=supporter.pk).last_confirmed == timezone.localdate()


def test_fields_only_staff_may_change_cannot_be_changed_by_posting_them(logged_in, supporter, other):
    before = stored(supporter)
    staff_only = {
        "name": "Somebody Else",
        "title": "Professor",
        "specialties": [Specialty.objects.exclude(slug="psychiatry").first().pk],
        "listed": "",
        "appointed": "1999-01-01",
        "account": other.account_id,
        "last_confirmed": "2001-01-01",
        "created_at": "2001-01-01T00:00:00Z",
        "search_text": "hijacked",
    }

    response = logged_in.post(MY_LISTING, form_data(supporter, **staff_only))

    assert response.status_code == 302
    after = stored(supporter)
    for name in ["name", "title", "specialties", "listed", "appointed", "account_id", "created_at", "search_text"]:
        assert after[name] == before[name], name
    assert after["last_confirmed"] == timezone.localdate()


def test_the_changes_show_on_the_public_profile_and_in_search_at_once(client, logged_in, supporter):
    logged_in.post(
        MY_LISTING,
        form_data(supporter, town="Nesttun", note="New words for doctors.", evenings=True, show_phone=False),
    )
    client.logout()

    html = profile_html(client, supporter)
    assert "Nesttun, Bergen" in html
    assert "New words for doctors." in html
    assert "Can meet on evenings" in html
    assert "22 12 34 56" not in html
    search = client.get("/en/search/", {"q": "Nesttun", "evenings": "on"})
    assert [found.pk for found in search.context["page"]] == [supporter.pk]


def test_a_phone_number_is_stored_in_e164_and_shown_in_national_format(client, logged_in, supporter):
    for typed in ["22 12 34 56", "+47 22 12 34 56", "0047 22 12 34 56", "22123456"]:
        PeerSupporter.objects.filter(pk=supporter.pk).update(phone="+4791234500")

        response = logged_in.post(MY_LISTING, form_data(supporter, phone=typed))

        assert response.status_code == 302, typed
        assert PeerSupporter.objects.get(pk=supporter.pk).phone.as_e164 == "+4722123456", typed
    assert "22 12 34 56" in profile_html(client, supporter)


def test_a_pause_until_a_date_shows_on_the_public_profile(client, logged_in, supporter):
    until = timezone.localdate() + datetime.timedelta(days=10)

    logged_in.post(MY_LISTING, form_data(supporter, availability=Availability.PAUSED, availability_until=until))

    assert f"Paused until {date_format(until, 'j F Y')}" in profile_html(client, supporter)


def test_an_end_date_of_today_is_accepted(logged_in, supporter):
    today = timezone.localdate()

    response = logged_in.post(MY_LISTING, form_data(supporter, availability="few_places", availability_until=today))

    assert response.status_code == 302
    assert PeerSupporter.objects.get(pk=supporter.pk).availability_until == today


def test_a_pause_that_has_ended_is_offered_as_open_and_saves_without_complaint(logged_in, supporter):
    ended = timezone.localdate() - datetime.timedelta(days=3)
    PeerSupporter.objects.filter(pk=supporter.pk).update(availability=Availability.PAUSED, availability_until=ended)

    form = logged_in.get(MY_LISTING).context["form"]
    assert form["availability"].value() == Availability.OPEN
    assert form["availability_until"].value() is None

    response = logged_in.post(MY_LISTING, form_data(supporter, availability="open", availability_until=""))
    assert response.status_code == 302
    after = PeerSupporter.objects.get(pk=supporter.pk)
    assert (after.availability, after.availability_until) == (Availability.OPEN, None)


def test_line_breaks_in_the_note_count_as_one_character_each(logged_in, supporter):
    note = "\r\n".join(["x" * 49] * 10)  # 490 letters and 9 line breaks, as a browser sends them.

    response = logged_in.post(MY_LISTING, form_data(supporter, note=note))

    assert response.status_code == 302
    assert PeerSupporter.objects.get(pk=supporter.pk).note == note.replace("\r\n", "\n")


def test_an_unlisted_supporter_may_hide_every_contact_detail(logged_in, supporter):
    PeerSupporter.objects.filter(pk=supporter.pk).update(listed=False)
    supporter.refresh_from_db()

    response = logged_in.post(
        MY_LISTING, form_data(supporter, show_phone=False, show_email=False, meets_in_person=False)
    )

    assert response.status_code == 302
    after = PeerSupporter.objects.get(pk=supporter.pk)
    assert (after.show_phone, after.show_email, after.listed) == (False, False, False)


def test_a_supporter_whose_county_was_merged_away_keeps_their_municipality(logged_in, supporter):
    County.objects.filter(number="46").update(active=False)

    html = logged_in.get(MY_LISTING).content.decode()
    response = logged_in.post(MY_LISTING, form_data(supporter, town="Nesttun"))

    assert '<option value="4601" selected>Bergen</option>' in html
    assert response.status_code == 302
    assert PeerSupporter.objects.get(pk=supporter.pk).municipality == Municipality.objects.get(number="4601")


# --- Refused forms --------------------------------------------------------------------------------------------

YESTERDAY = object()
TOMORROW = object()

REFUSALS = {
    "no contact given": ({"phone": "", "email": ""}, "__all__", NO_CONTACT_GIVEN),
    "no contact shown": ({"show_phone": False, "show_email": False}, "__all__", NO_CONTACT_SHOWN),
    "phone shown but empty": ({"phone": "", "show_email": False}, "__all__", NO_CONTACT_SHOWN),
    "no meeting mode": (
        {"meets_in_person": False, "meets_by_phone": False, "meets_by_video": False},
        "__all__",
        NO_MEETING_MODE,
    ),
    "end date with open": (
        {"availability": "open", "availability_until": TOMORROW},
        "availability_until",
        UNTIL_WITH_OPEN,
    ),
    "end date in the past": (
        {"availability": "paused", "availability_until": YESTERDAY},
        "availability_until",
        UNTIL_IN_THE_PAST,
    ),
    "note too long": (
        {"note": "x" * (NOTE_MAX_LENGTH + 1)},
        "note",
        f"The note can be at most {NOTE_MAX_LENGTH} characters; it has {NOTE_MAX_LENGTH + 1}.",
    ),
    "bad phone": ({"phone": "call me maybe"}, "phone", "This is not a phone number we recognise."),
    "too short phone": ({"phone": "113"}, "phone", "This is not a phone number we recognise."),
    "bad phone and no e-mail": (
        {"phone": "12", "email": "", "show_phone": True},
        "phone",
        "This is not a phone number we recognise.",
    ),
    "bad e-mail": ({"email": "anne at example"}, "email", "Write the e-mail address in full"),
    "bad date": (
        {"availability": "paused", "availability_until": "31.12"},
        "availability_until",
        "Write the date as year-month-day",
    ),
    "unknown status": ({"availability": "closed"}, "availability", "Select a valid choice."),
    "unknown municipality": ({"municipality": "9999"}, "municipality", "Choose a municipality from the list."),
    "no municipality": ({"municipality": ""}, "municipality", "This field is required."),
    "unknown language": ({"languages": ["nb", "xx"]}, "languages", "Choose languages from the list."),
}


def with_dates(changes):
    today = timezone.localdate()
    dates = {YESTERDAY: today - datetime.timedelta(days=1), TOMORROW: today + datetime.timedelta(days=1)}
    return {
        name: dates[value].isoformat() if value in (YESTERDAY, TOMORROW) else value for name, value in changes.items()
    }


@pytest.mark.parametrize("case", REFUSALS.keys())
def test_a_refused_form_says_why(logged_in, supporter, case):
    changes, field, message = REFUSALS[case]

    response = logged_in.post(MY_LISTING, form_data(supporter, **with_dates(changes)))

    assert response.status_code == 200
    assert any(text.startswith(message) for text in errors_of(response).get(field, [])), errors_of(response)
    html = response.content.decode()
    assert "Your listing was not saved" in html
    assert escape(message) in html


@pytest.mark.parametrize("case", REFUSALS.keys())
def test_a_refused_form_leaves_the_stored_listing_unchanged(logged_in, supporter, case):
    changes, _field, _message = REFUSALS[case]
    before = stored(supporter)
    # Everything else changes too, so that a partial save would show.
    everything_else = {
        "availability": "few_places",
        "availability_until": (timezone.localdate() + datetime.timedelta(days=5)).isoformat(),
        "meets_by_video": True,
        "evenings": True,
        "weekends": True,
        "languages": ["sv"],
        "note": "Changed note",
        "phone": "+4791234500",
        "show_phone": True,
        "email": "changed@example.org",
        "show_email": True,
        "municipality": "0301",
        "town": "Changed town",
    }

    response = logged_in.post(MY_LISTING, form_data(supporter, **{**everything_else, **with_dates(changes)}))

    assert response.status_code == 200
    assert stored(supporter) == before


def test_the_no_public_contact_message_is_shown_by_the_contact_fields(logged_in, supporter):
    response = logged_in.post(MY_LISTING, form_data(supporter, show_phone=False, show_email=False))

    html = response.content.decode()
    contact = re.search(r'<fieldset class="ds-fieldset[^"]*" id="contact".*?</fieldset>', html, re.S).group(0)
    assert 'aria-describedby="contact_helptext contact_error"' in contact
    assert re.search(r'<ul class="[^"]*errorlist[^"]*"[^>]* id="contact_error"><li>Tick “show publicly”', contact)


def test_the_preview_shows_the_stored_listing_not_the_refused_one(logged_in, supporter):
    response = logged_in.post(MY_LISTING, form_data(supporter, town="Refused town", phone="nonsense"))

    preview = re.search(r'<section class="preview".*?</section>', response.content.decode(), re.S).group(0)
    assert "Fana, Bergen" in preview
    assert "Refused town" not in preview


# --- Confirming and the preview -------------------------------------------------------------------------------


def test_the_confirm_button_sets_today_and_the_public_profile_shows_it(client, logged_in, supporter):
    today = timezone.localdate()
    PeerSupporter.objects.filter(pk=supporter.pk).update(last_confirmed=datetime.date(2024, 2, 1))

    response = logged_in.post(CONFIRM, follow=True)

    assert response.redirect_chain == [(MY_LISTING, 302)]
    assert PeerSupporter.objects.get(pk=supporter.pk).last_confirmed == today
    html = response.content.decode()
    assert f'You last confirmed your details on <time datetime="{today.isoformat()}">' in html
    assert "Thank you." in html
    assert f'<time datetime="{today.isoformat()}">{date_format(today, "j F Y")}</time>' in profile_html(
        client, supporter
    )


def test_the_confirm_button_changes_nothing_else(logged_in, supporter):
    before = stored(supporter)

    logged_in.post(CONFIRM, form_data(supporter, note="Not from this button", name="Not this either"))

    after = stored(supporter)
    assert after.pop("last_confirmed") == timezone.localdate()
    after.pop("updated_at")
    before.pop("last_confirmed")
    before.pop("updated_at")
    assert after == before


def test_confirming_needs_a_post(logged_in, supporter):
    response = logged_in.get(CONFIRM)

    assert response.status_code == 405
    assert PeerSupporter.objects.get(pk=supporter.pk).last_confirmed is None


def test_the_page_shows_when_the_listing_was_last_confirmed(logged_in, supporter):
    assert "You have not confirmed your details yet." in logged_in.get(MY_LISTING).content.decode()

    PeerSupporter.objects.filter(pk=supporter.pk).update(last_confirmed=datetime.date(2026, 3, 3))

    assert "You last confirmed your details on" in logged_in.get(MY_LISTING).content.decode()
    assert "3 March 2026" in logged_in.get(MY_LISTING).content.decode()


def test_the_preview_shows_the_public_card_and_links_to_the_profile(logged_in, supporter):
    html = logged_in.get(MY_LISTING).content.decode()

    preview = re.search(r'<section class="preview".*?</section>', html, re.S).group(0)
    # The same card as in the search results (templates/includes/supporter_card.html), whatever its classes.
    assert re.search(rf'<article class="[^"]*card[^"]*" aria-labelledby="supporter-{supporter.pk}">', preview)
    assert "Anne Alvheim" in preview
    assert "Fana, Bergen, Vestland" in preview
    assert re.search(r'<a [^>]*href="tel:\+4722123456">(<span[^>]*>[^<]*</span>)?22 12 34 56</a>', preview)
    assert f'<a class="ds-link" href="/en/supporters/{supporter.pk}/">See your public profile page</a>' in preview


def test_the_preview_leaves_out_what_is_not_shown_publicly(logged_in, supporter):
    PeerSupporter.objects.filter(pk=supporter.pk).update(show_phone=False)

    preview = re.search(r'<section class="preview".*?</section>', logged_in.get(MY_LISTING).content.decode(), re.S)

    assert "22 12 34 56" not in preview.group(0)
    assert "anne@example.org" in preview.group(0)


def test_an_unlisted_supporter_is_told_the_listing_is_not_shown(logged_in, supporter):
    PeerSupporter.objects.filter(pk=supporter.pk).update(listed=False)

    html = logged_in.get(MY_LISTING).content.decode()

    assert "Your listing is not shown publicly at the moment" in html
    assert "See your public profile page" not in html


def test_the_page_links_to_the_monthly_counts(logged_in):
    html = logged_in.get(MY_LISTING).content.decode()

    assert '<a class="ds-link" href="/en/my/counts/">Monthly counts</a>' in html


def test_the_page_loads_in_a_fixed_number_of_queries(logged_in, django_assert_max_num_queries):
    # Session and account, the form's choices, the stored listing for the preview, the last training.
    with django_assert_max_num_queries(14):
        logged_in.get(MY_LISTING)


def test_the_languages_offered_are_every_known_language(logged_in):
    form = logged_in.get(MY_LISTING).context["form"]

    assert {str(code) for code, _label in form.fields["languages"].choices} == set(
        Language.objects.values_list("code", flat=True)
    )


def test_a_bad_phone_while_removing_the_only_e_mail_is_refused_with_messages_not_an_error(logged_in, supporter):
    PeerSupporter.objects.filter(pk=supporter.pk).update(phone="")
    supporter.refresh_from_db()
    before = stored(supporter)

    response = logged_in.post(MY_LISTING, form_data(supporter, phone="garbage", show_phone=True, email=""))

    assert response.status_code == 200
    assert errors_of(response)["phone"][0].startswith("This is not a phone number we recognise.")
    assert stored(supporter) == before


def test_my_listing_shows_the_last_training_and_whether_it_is_due(client, django_user_model, make_supporter):
    from training.models import Attendance, TrainingMeeting

    supporter = make_supporter()
    supporter.account = django_user_model.objects.create_user("trained@example.org", password="a long passphrase")
    supporter.save()
    client.force_login(supporter.account)

    assert "You are due to attend the next training meeting" in client.get("/en/my/").content.decode()

    today = timezone.localdate()
    meeting = TrainingMeeting.objects.create(date=today - datetime.timedelta(days=365), place="Sundvolden")
    Attendance.objects.create(meeting=meeting, supporter=supporter)
    html = client.get("/en/my/").content.decode()
    assert "Sundvolden" in html
    assert "You are due to attend the next training meeting" not in html

    meeting.date = today - datetime.timedelta(days=4 * 366)
    meeting.save()
    assert "You are due to attend the next training meeting" in client.get("/en/my/").content.decode()


# --- Languages and the error summary --------------------------------------------------------------------------


def test_my_listing_speaks_norwegian_under_nb(logged_in, supporter):
    html = logged_in.get("/nb/my/").content.decode()

    assert '<html lang="nb"' in html
    assert re.search(r"<h1[^>]*>Min oppføring</h1>", html)
    assert "Stemmer opplysningene dine?" in html
    assert "Lagre oppføringen" in html
    assert '<label class="ds-label" for="id_phone">Telefonnummer</label>' in html
    assert '<a class="ds-link" href="/nb/my/counts/">Samtaletall per måned</a>' in html
    assert "My listing" not in html


def test_a_bad_phone_number_in_norwegian_is_in_the_summary_linked_to_its_field(logged_in, supporter):
    before = stored(supporter)

    response = logged_in.post("/nb/my/", form_data(supporter, phone="ring meg"))

    assert response.status_code == 200
    assert stored(supporter) == before
    html = response.content.decode()
    summary = re.search(r'<div class="ds-error-summary" id="error-summary" tabindex="-1".*?</div>', html, re.S).group(0)
    assert "Oppføringen din ble ikke lagret" in summary
    assert re.search(
        r'<a class="ds-link" href="#id_phone">Telefonnummer: Dette kjenner vi ikke igjen som et telefonnummer\.',
        summary,
    )
    phone = re.search(r'<input[^>]*name="phone"[^>]*>', html).group(0)
    assert 'id="id_phone"' in phone
    assert 'aria-invalid="true"' in phone
    assert "id_phone_error" in phone
    assert '<ul class="ds-validation-message errorlist" data-color="danger" id="id_phone_error">' in html


def test_every_error_in_the_summary_leads_to_a_control_on_the_page(logged_in, supporter):
    changes = {"availability": "closed", "languages": ["xx"], "show_phone": False, "show_email": False}

    html = logged_in.post(MY_LISTING, form_data(supporter, **changes)).content.decode()

    summary = re.search(r'<div class="ds-error-summary".*?</div>', html, re.S).group(0)
    targets = re.findall(r'href="#([^"]+)"', summary)
    # The contact group's own error leads to its first control, the phone number.
    assert set(targets) == {"id_availability_0", "id_languages_0", "id_phone"}
    for target in targets:
        assert re.search(rf'<(input|select|textarea)[^>]* id="{target}"', html), target


def test_the_availability_is_a_group_of_labelled_radio_buttons_and_a_date(logged_in, supporter):
    html = logged_in.get(MY_LISTING).content.decode()

    group = re.search(r'<fieldset class="ds-fieldset" id="id_availability_group".*?</fieldset>', html, re.S).group(0)
    assert "<legend" in group
    for index in range(3):
        assert re.search(
            rf'<div class="ds-field"><input type="radio"[^>]* id="id_availability_{index}"[^>]*>'
            rf'<label class="ds-label" for="id_availability_{index}">',
            group,
        )
    assert re.search(r'<input type="date" name="availability_until"[^>]* class="ds-input"', html)
