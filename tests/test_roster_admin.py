"""The roster in the admin: filters, actions, county scope of forms, concurrent editing and change history."""

import datetime

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from counties.models import County, Municipality
from directory.models import PeerSupporter
from tests.conftest import log_in_verified
from training.models import Attendance, TrainingMeeting

# The admin has no language in its address: it follows the browser's Accept-Language, here English.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_admin")]


CHANGELIST = reverse("admin:directory_peersupporter_changelist")
ADD = reverse("admin:directory_peersupporter_add")


def change_url(supporter):
    return reverse("admin:directory_peersupporter_change", args=[supporter.pk])


def history_url(supporter):
    return reverse("admin:directory_peersupporter_history", args=[supporter.pk])


def form_data(response, **overrides):
    """What the browser would send back from an admin form page, with the given fields changed."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [getattr(item, "pk", item) for item in value]
        elif value is not None:
            data[name] = str(value)
    for name, value in overrides.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    data["_save"] = "Save"
    return data


def listed_names(response):
    return sorted(supporter.name for supporter in response.context["cl"].result_list)


def run_action(client, action, supporters, **extra):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [s.pk for s in supporters], **extra})


def messages_of(response):
    return [str(message) for message in response.context["messages"]] if response.context else []


# Filters and columns


def test_coordinator_sees_only_their_counties_in_the_list_and_the_county_filter(roles, django_user_model):
    coordinator = django_user_model.objects.create_user("east.coord@example.org", role="coordinator")
    coordinator.counties.set(County.objects.filter(number__in=["03", "31"]))

    response = log_in_verified(Client(), coordinator).get(CHANGELIST)

    assert listed_names(response) == ["Olga Oslo"]
    county_filter = next(spec for spec in response.context["cl"].filter_specs if spec.title == "county")
    assert sorted(label for _, label in county_filter.lookup_choices) == sorted(
        str(county) for county in County.objects.filter(number__in=["03", "31"])
    )


def test_coordinator_filtering_by_another_county_finds_nothing_there(roles):
    bergen_county = County.objects.get(number="46")

    response = roles.clients["oslo_coordinator"].get(CHANGELIST, {"municipality__county__id__exact": bergen_county.pk})

    assert "Vera Vestland" not in listed_names(response)


def test_training_due_filter_and_column(roles, make_supporter):
    recent = TrainingMeeting.objects.create(date=timezone.localdate() - datetime.timedelta(days=30), place="Oslo")
    old = TrainingMeeting.objects.create(date=timezone.localdate() - datetime.timedelta(days=4 * 365), place="Bergen")
    trained = make_supporter(name="Trained Recently")
    lapsed = make_supporter(name="Trained Long Ago")
    Attendance.objects.create(meeting=recent, supporter=trained)
    Attendance.objects.create(meeting=old, supporter=lapsed)
    client = roles.clients["administrator"]

    due = client.get(CHANGELIST, {"training": "due"})
    current = client.get(CHANGELIST, {"training": "current"})

    assert listed_names(due) == ["Olga Oslo", "Trained Long Ago", "Vera Vestland"]
    assert listed_names(current) == ["Trained Recently"]
    rows = {supporter.name: supporter for supporter in due.context["cl"].result_list}
    assert rows["Trained Long Ago"].training_is_due is True
    assert rows["Trained Long Ago"].last_training_date == old.date
    assert {s.name: s.training_is_due for s in current.context["cl"].result_list} == {"Trained Recently": False}
    assert "training due" in due.content.decode().lower()


def test_not_confirmed_filter(roles, make_supporter):
    today = timezone.localdate()
    make_supporter(name="Confirmed Lately", last_confirmed=today - datetime.timedelta(days=10))
    make_supporter(name="Confirmed Long Ago", last_confirmed=today - datetime.timedelta(days=181))

    response = roles.clients["administrator"].get(CHANGELIST, {"confirmed": "stale"})

    # Olga and Vera have never confirmed.
    assert listed_names(response) == ["Confirmed Long Ago", "Olga Oslo", "Vera Vestland"]


@pytest.mark.parametrize(
    "params",
    [{"specialties__id__exact": "1"}, {"availability__exact": "paused"}, {"listed__exact": "0"}, {"q": "Olga"}],
)
def test_the_other_filters_and_search_open(roles, params):
    response = roles.clients["oslo_coordinator"].get(CHANGELIST, params)

    assert response.status_code == 200


def test_change_page_shows_last_training_and_whether_it_is_due(roles):
    meeting = TrainingMeeting.objects.create(date=datetime.date(2025, 9, 1), place="Soria Moria")
    Attendance.objects.create(meeting=meeting, supporter=roles.oslo)

    html = roles.clients["oslo_coordinator"].get(change_url(roles.oslo)).content.decode()

    assert "Last training" in html
    assert "2025-09-01" in html
    assert "Training due" in html


def test_changelist_query_count_does_not_grow_with_the_roster(roles, make_supporter, django_assert_max_num_queries):
    for number in range(10):
        make_supporter(name=f"Many {number}", specialties=["psychiatry"])
    client = roles.clients["administrator"]

    with django_assert_max_num_queries(25):
        client.get(CHANGELIST)


# Actions


def test_unlist_and_list_actions(roles):
    client = roles.clients["oslo_coordinator"]

    run_action(client, "unlist_supporters", [roles.oslo])
    roles.oslo.refresh_from_db()
    assert roles.oslo.listed is False

    run_action(client, "list_supporters", [roles.oslo])
    roles.oslo.refresh_from_db()
    assert roles.oslo.listed is True
    assert roles.oslo.history.first().history_user == roles.oslo_coordinator


def test_list_action_refuses_a_supporter_without_public_contact(roles, make_supporter):
    hidden = make_supporter(name="No Contact", email="", phone="", listed=False)

    run_action(roles.clients["oslo_coordinator"], "list_supporters", [hidden])
    response = roles.clients["oslo_coordinator"].get(CHANGELIST)

    hidden.refresh_from_db()
    assert hidden.listed is False
    assert any("No Contact was not listed" in message for message in messages_of(response))


def test_record_attendance_asks_for_the_meeting_then_records_it_once(roles):
    meeting = TrainingMeeting.objects.create(date=datetime.date(2026, 9, 1), place="Soria Moria")
    client = roles.clients["oslo_coordinator"]

    page = run_action(client, "record_attendance", [roles.oslo])
    assert page.status_code == 200
    assert "Soria Moria" in page.content.decode()
    assert not Attendance.objects.exists()

    run_action(client, "record_attendance", [roles.oslo], meeting=meeting.pk, apply="Record attendance")
    run_action(client, "record_attendance", [roles.oslo], meeting=meeting.pk, apply="Record attendance")

    assert list(Attendance.objects.values_list("supporter__name", "meeting__place")) == [("Olga Oslo", "Soria Moria")]
    assert PeerSupporter.objects.training_due(datetime.date(2026, 11, 26)).filter(pk=roles.oslo.pk).exists() is False


def test_record_attendance_speaks_bokmal_to_a_norwegian_browser(roles):
    meeting = TrainingMeeting.objects.create(date=datetime.date(2026, 9, 1), place="Soria Moria")
    client = roles.clients["oslo_coordinator"]
    selected = {"action": "record_attendance", "_selected_action": [roles.oslo.pk]}

    page = client.post(CHANGELIST, selected, HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "Registrer at disse kollegastøtterne deltok på samlingen du velger." in page
    assert 'value="Registrer deltakelse"' in page
    assert "Opplæringssamling" in page

    done = client.post(
        CHANGELIST, {**selected, "meeting": meeting.pk, "apply": "1"}, follow=True, HTTP_ACCEPT_LANGUAGE="nb"
    )
    assert messages_of(done) == [
        "Deltakelse på 2026-09-01 Soria Moria er registrert for 1 kollegastøtter; 0 var allerede registrert."
    ]


def test_record_attendance_with_ids_from_another_county_records_nothing(roles):
    meeting = TrainingMeeting.objects.create(date=datetime.date(2026, 9, 1), place="Soria Moria")

    run_action(
        roles.clients["oslo_coordinator"],
        "record_attendance",
        [roles.oslo, roles.vestland],
        meeting=meeting.pk,
        apply="Record attendance",
    )

    assert list(Attendance.objects.values_list("supporter__name", flat=True)) == ["Olga Oslo"]


def test_send_invitation_and_retire(roles):
    client = roles.clients["oslo_coordinator"]

    run_action(client, "send_invitation", [roles.oslo])
    assert [message.to for message in mail.outbox] == [["olga@example.org"]]

    run_action(client, "retire", [roles.oslo])
    roles.oslo.refresh_from_db()
    roles.supporter.refresh_from_db()
    assert (roles.oslo.listed, roles.supporter.is_active) == (False, False)


@pytest.mark.parametrize(
    ("language", "sent", "action"),
    [
        ("nb", "1 invitasjon er sendt.", "Send invitasjon til å opprette konto"),
        ("en", "1 invitation sent.", "Send an account invitation"),
    ],
)
def test_admin_actions_and_messages_follow_the_browsers_language(roles, language, sent, action):
    client = roles.clients["oslo_coordinator"]
    changelist = client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f'<option value="send_invitation">{action}</option>' in changelist

    response = client.post(
        CHANGELIST,
        {"action": "send_invitation", "_selected_action": [roles.oslo.pk]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert messages_of(response) == [sent]


# County scope of the form


def test_coordinator_cannot_add_a_supporter_in_another_county(roles):
    client = roles.clients["oslo_coordinator"]
    data = form_data(client.get(ADD), name="Berit Bergen", municipality=Municipality.objects.get(name="Bergen").pk)
    data.update(email="berit@example.org", show_email="on", meets_by_phone="on", availability="open", listed="on")

    response = client.post(ADD, data)

    assert response.status_code == 200
    assert "municipality" in response.context["adminform"].form.errors
    assert not PeerSupporter.objects.filter(name="Berit Bergen").exists()


def test_coordinator_can_add_a_supporter_in_their_county(roles):
    client = roles.clients["oslo_coordinator"]
    data = form_data(client.get(ADD), name="Ola Oslo", municipality=Municipality.objects.get(name="Oslo").pk)
    data.update(email="ola@example.org", show_email="on", meets_by_phone="on", availability="open", listed="on")

    response = client.post(ADD, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert PeerSupporter.objects.get(name="Ola Oslo").county.number == "03"


def test_coordinator_cannot_move_a_supporter_into_another_county(roles):
    client = roles.clients["oslo_coordinator"]
    bergen = Municipality.objects.get(name="Bergen")
    data = form_data(client.get(change_url(roles.oslo)), municipality=bergen.pk)

    response = client.post(change_url(roles.oslo), data)

    assert response.status_code == 200
    assert "municipality" in response.context["adminform"].form.errors
    roles.oslo.refresh_from_db()
    assert roles.oslo.municipality.name == "Oslo"


def test_the_form_itself_refuses_a_municipality_outside_the_users_counties(roles):
    """Even if the choices were not limited, clean refuses the municipality (a second line of defence)."""
    from directory.admin_forms import PeerSupporterAdminForm

    form_class = type(
        "Form",
        (PeerSupporterAdminForm,),
        {"Meta": type("Meta", (), {"model": PeerSupporter, "fields": ["municipality", "listed"]})},
    )
    form_class.user = roles.oslo_coordinator
    form = form_class({"municipality": Municipality.objects.get(name="Bergen").pk})

    assert form.errors["municipality"] == ["You can only place supporters in a county you maintain."]


def test_coordinator_does_not_set_the_login_account(roles):
    html = roles.clients["oslo_coordinator"].get(change_url(roles.oslo)).content.decode()

    assert 'name="account"' not in html
    assert 'name="account"' in roles.clients["administrator"].get(change_url(roles.oslo)).content.decode()


# Concurrent editing


def test_a_second_save_over_someone_elses_changes_is_refused_and_names_them(roles):
    first, second = roles.clients["oslo_coordinator"], roles.clients["administrator"]
    first_page = first.get(change_url(roles.oslo))
    second_page = second.get(change_url(roles.oslo))

    saved = first.post(change_url(roles.oslo), form_data(first_page, town="Grünerløkka", availability="paused"))
    assert saved.status_code == 302
    refused = second.post(change_url(roles.oslo), form_data(second_page, note="Ring etter kl. 17."))

    assert refused.status_code == 200
    errors = " ".join(refused.context["adminform"].form.non_field_errors())
    assert "Someone else saved this record after you opened it" in errors
    assert "Town is now “Grünerløkka”" in errors
    assert "Availability is now “Paused”" in errors
    assert "Note" not in errors
    roles.oslo.refresh_from_db()
    assert (roles.oslo.town, roles.oslo.availability, roles.oslo.note) == ("Grünerløkka", "paused", "")

    # Having read what changed, saving again is a deliberate choice and goes through.
    again = second.post(change_url(roles.oslo), form_data(refused, note="Ring etter kl. 17."))
    assert again.status_code == 302
    roles.oslo.refresh_from_db()
    assert roles.oslo.note == "Ring etter kl. 17."


def test_changes_to_specialties_by_someone_else_are_named(roles):
    client = roles.clients["administrator"]
    page = client.get(change_url(roles.oslo))
    roles.oslo.specialties.set(roles.oslo.specialties.model.objects.filter(slug="psychiatry"))

    refused = client.post(change_url(roles.oslo), form_data(page, town="Majorstuen"))

    assert "Specialties is now “" in " ".join(refused.context["adminform"].form.non_field_errors())
    roles.oslo.refresh_from_db()
    assert roles.oslo.town == ""


def test_a_save_without_the_version_it_was_loaded_with_is_refused(roles):
    client = roles.clients["administrator"]
    data = form_data(client.get(change_url(roles.oslo)), town="Majorstuen", version=None)

    response = client.post(change_url(roles.oslo), data)

    assert response.status_code == 200
    roles.oslo.refresh_from_db()
    assert roles.oslo.town == ""


def test_an_unrelated_save_in_between_does_not_block(roles):
    client = roles.clients["administrator"]
    page = client.get(change_url(roles.oslo))
    # Saved again without a change in any field of the form (updated_at moves on).
    roles.oslo.save()

    response = client.post(change_url(roles.oslo), form_data(page, town="Majorstuen"))

    assert response.status_code == 302
    roles.oslo.refresh_from_db()
    assert roles.oslo.town == "Majorstuen"


# History


def test_an_admin_edit_appears_in_the_history_with_user_and_before_and_after(roles):
    client = roles.clients["oslo_coordinator"]
    client.post(change_url(roles.oslo), form_data(client.get(change_url(roles.oslo)), town="Grünerløkka"))

    latest = roles.oslo.history.first()
    assert latest.history_user == roles.oslo_coordinator
    delta = latest.diff_against(latest.prev_record)
    assert [(change.field, change.old, change.new) for change in delta.changes] == [("town", "", "Grünerløkka")]

    response = client.get(history_url(roles.oslo))
    html = response.content.decode()
    assert response.status_code == 200
    assert "oslo.coord@example.org" in html
    assert "Grünerløkka" in html


def test_history_is_read_only(roles):
    client = roles.clients["administrator"]
    record = roles.oslo.history.first()
    url = reverse("admin:directory_peersupporter_simple_history", args=[roles.oslo.pk, record.pk])

    assert client.get(url).status_code == 200
    assert client.post(url, {"name": "Overwritten"}).status_code == 403
    roles.oslo.refresh_from_db()
    assert roles.oslo.name == "Olga Oslo"


def test_coordinator_cannot_open_another_countys_history(roles):
    client = roles.clients["oslo_coordinator"]
    record = roles.vestland.history.first()

    assert client.get(history_url(roles.vestland)).status_code in (403, 404)
    url = reverse("admin:directory_peersupporter_simple_history", args=[roles.vestland.pk, record.pk])
    assert client.get(url).status_code in (403, 404)


def test_admin_index_shows_a_coordinator_the_roster_apps_only(roles):
    response = roles.clients["oslo_coordinator"].get(reverse("admin:index"))

    models = {model["object_name"] for app in response.context["app_list"] for model in app["models"]}
    assert models == {
        "County",
        "Municipality",
        "Specialty",
        "Language",
        "PeerSupporter",
        "MonthlyTally",
        "ClosedMonth",
        "TrainingMeeting",
        "Attendance",
    }


@pytest.mark.parametrize("raw_id", ["abc", "1e9", "%00", "2026-13"])
def test_a_mistyped_id_in_a_history_address_is_not_found(roles, raw_id):
    client = roles.clients["administrator"]

    assert client.get(f"/admin/directory/peersupporter/{raw_id}/history/").status_code == 404
    assert client.get(f"/admin/directory/peersupporter/{roles.oslo.pk}/history/{raw_id}/").status_code == 404


@pytest.mark.parametrize(
    "query", ["specialties__group=%00", "availability__exact=op%00en", "q=%00", "municipality__county__id__exact=%00"]
)
def test_a_nul_character_in_an_admin_address_is_a_bad_request_not_a_server_error(roles, query):
    response = roles.clients["administrator"].get(f"/admin/directory/peersupporter/?{query}")

    assert response.status_code == 400
