"""Staff set up their second factor only from an invitation, never with a password alone; an administrator resets a
lost one, and the reset is in the account's history."""

import pytest
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Invitation, User
from accounts.two_factor import ENROLMENT_SESSION_KEY, recovery_codes_issue
from counties.models import County
from tests.conftest import current_code, invitation_link, log_in_verified

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_admin")]

PASSWORD = "a long and unusual passphrase"
USERS = reverse("admin:accounts_user_changelist")


def log_in(client, email, password=PASSWORD):
    return client.post("/en/accounts/login/", {"username": email, "password": password})


def set_up_authenticator(client, user):
    """Scan the QR code (read the secret from the unconfirmed device) and give the first code."""
    page = client.get("/en/accounts/two-factor/setup/")
    assert page.status_code == 200, page.status_code
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    return client.post("/en/accounts/two-factor/setup/", {"code": current_code(device)})


@pytest.fixture
def administrator(django_user_model):
    user = django_user_model.objects.create_user("admin.national@example.org", role="administrator")
    return user, log_in_verified(Client(), user)


@pytest.fixture
def coordinator_with_password(django_user_model):
    """A coordinator whose password someone else has learnt, before any second factor was set up."""
    user = django_user_model.objects.create_user("coordinator@example.org", password=PASSWORD, role="coordinator")
    user.counties.set([County.objects.get(number="03")])
    return user


def test_a_staff_password_alone_does_not_set_up_a_second_factor(client, coordinator_with_password):
    log_in(client, "coordinator@example.org")

    page = client.get("/en/accounts/two-factor/setup/")
    forged = client.post("/en/accounts/two-factor/setup/", {"code": "123456"})

    assert page.status_code == forged.status_code == 403
    assert "Ask a national administrator to send you a new invitation" in page.content.decode()
    assert "<svg" not in page.content.decode()
    assert not TOTPDevice.objects.filter(user=coordinator_with_password).exists()
    assert client.get("/admin/")["Location"] == "/en/accounts/two-factor/"


def test_a_new_staff_member_chooses_a_password_and_sets_up_the_second_factor_from_the_invitation(administrator):
    _admin, staff = administrator

    staff.post(
        reverse("admin:accounts_user_add"),
        {"email": "new.coord@example.org", "name": "Nora", "language": "en", "role": "coordinator", "_save": "Save"},
    )
    user = User.objects.get(email="new.coord@example.org")
    assert user.is_staff
    assert not user.has_usable_password()
    (message,) = mail.outbox
    assert "staff account" in message.body
    assert "authenticator app" in message.body

    newcomer = Client()
    link = invitation_link(message)
    assert "authenticator app" in newcomer.get(link).content.decode()
    accepted = newcomer.post(link, {"new_password1": PASSWORD, "new_password2": PASSWORD}, follow=True)
    assert accepted.redirect_chain[-1][0] == "/en/accounts/two-factor/setup/"
    confirmed = set_up_authenticator(newcomer, user)

    assert confirmed["Location"] == "/en/accounts/two-factor/recovery-codes/"
    assert newcomer.get("/admin/").status_code == 200
    # The window closes once the authenticator is set up.
    assert ENROLMENT_SESSION_KEY not in newcomer.session


def test_the_invitation_opens_the_setup_only_in_its_own_session_and_only_for_a_while(coordinator_with_password):
    _invitation, token = Invitation.issue(user=coordinator_with_password)
    invited = Client()
    invited.post(f"/en/accounts/invitation/{token}/", {"new_password1": PASSWORD, "new_password2": PASSWORD})

    # Someone else who knows the new password, in another browser.
    other = Client()
    log_in(other, "coordinator@example.org")
    assert other.get("/en/accounts/two-factor/setup/").status_code == 403

    # The invited session itself, once its half hour is over.
    session = invited.session
    session[ENROLMENT_SESSION_KEY] -= 31 * 60
    session.save()
    assert invited.get("/en/accounts/two-factor/setup/").status_code == 403
    assert not TOTPDevice.objects.filter(user=coordinator_with_password).exists()


def test_a_supporter_may_still_add_a_second_factor_whenever_they_like(make_supporter, django_user_model):
    supporter = make_supporter(email="kari@example.org")
    supporter.account = django_user_model.objects.create_user("kari@example.org", password=PASSWORD)
    supporter.save()
    client = Client()
    log_in(client, "kari@example.org")

    assert set_up_authenticator(client, supporter.account).status_code == 302
    assert TOTPDevice.objects.filter(user=supporter.account, confirmed=True).exists()


# Resetting a lost second factor


@pytest.fixture
def coordinator(django_user_model):
    """A coordinator with an authenticator app and recovery codes, logged in with them."""
    user = django_user_model.objects.create_user(
        "coordinator@example.org", password=PASSWORD, role="coordinator", language="en"
    )
    client = log_in_verified(Client(), user)
    recovery_codes_issue(user)
    return user, client


def reset(staff, *users):
    return staff.post(
        USERS, {"action": "reset_second_factor", "_selected_action": [user.pk for user in users]}, follow=True
    )


def test_an_administrator_resets_a_lost_second_factor_and_the_person_sets_up_a_new_one(administrator, coordinator):
    admin, staff = administrator
    user, old_session = coordinator
    assert old_session.get("/admin/").status_code == 200

    response = reset(staff, user)

    assert "1 invitation sent." in response.content.decode()
    assert "The second factor of coordinator@example.org is removed" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticDevice.objects.filter(user=user).exists()
    # A session verified with the old device is verified no more, and cannot set up a new one.
    assert old_session.get("/admin/")["Location"] == "/en/accounts/two-factor/"
    assert old_session.get("/en/accounts/two-factor/setup/").status_code == 403
    # The reset is in the account's history, with who did it.
    entry = LogEntry.objects.get(object_id=str(user.pk))
    assert entry.user == admin
    assert "Second factor reset" in entry.get_change_message()
    history = staff.get(reverse("admin:accounts_user_history", args=[user.pk])).content.decode()
    assert "Second factor reset" in history

    # The invitation leads to a new password and a new authenticator.
    (message,) = mail.outbox
    person = Client()
    person.post(invitation_link(message), {"new_password1": "a new passphrase", "new_password2": "a new passphrase"})
    assert set_up_authenticator(person, user).status_code == 302
    assert person.get("/admin/").status_code == 200


def test_an_administrator_cannot_reset_their_own_second_factor(administrator):
    admin, staff = administrator

    response = reset(staff, admin)

    assert "You cannot reset your own second factor" in response.content.decode()
    assert TOTPDevice.objects.filter(user=admin, confirmed=True).exists()
    assert mail.outbox == []


def test_a_reset_whose_invitation_cannot_be_mailed_changes_nothing(administrator, coordinator, settings):
    _admin, staff = administrator
    user, _client = coordinator
    settings.MAILERS = {"default": {"BACKEND": "tests.conftest.FailingMailServer"}}

    response = reset(staff, user)

    assert "No invitation was sent to coordinator@example.org" in response.content.decode()
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert StaticDevice.objects.filter(user=user).exists()
    assert not Invitation.objects.filter(user=user).exists()
    assert not LogEntry.objects.filter(object_id=str(user.pk)).exists()


def test_coordinators_cannot_reset_anyones_second_factor(administrator, coordinator, django_user_model):
    admin, _staff = administrator
    _user, coordinator_client = coordinator

    coordinator_client.post(USERS, {"action": "reset_second_factor", "_selected_action": [admin.pk]})

    assert TOTPDevice.objects.filter(user=admin, confirmed=True).exists()


# The first administrator, from the server


def test_the_first_administrator_is_invited_from_the_server(capsys):
    call_command("invite_staff", "First.Admin@Example.org", "--name", "Frida", "--language", "en")

    user = User.objects.get(email__iexact="first.admin@example.org")
    assert user.is_administrator
    assert not user.has_usable_password()
    (message,) = mail.outbox
    client = Client()
    client.post(invitation_link(message), {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert set_up_authenticator(client, user).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_inviting_staff_from_the_server_refuses_a_supporters_account(django_user_model):
    django_user_model.objects.create_user("kari@example.org", password=PASSWORD)

    with pytest.raises(CommandError, match="has no staff role"):
        call_command("invite_staff", "kari@example.org")
    assert mail.outbox == []


def test_inviting_staff_from_the_server_creates_nothing_when_the_mail_fails(settings):
    settings.MAILERS = {"default": {"BACKEND": "tests.conftest.FailingMailServer"}}

    with pytest.raises(CommandError, match="could not be sent"):
        call_command("invite_staff", "first.admin@example.org")
    assert not User.objects.exists()


# An account that becomes staff


def test_an_account_given_a_staff_role_loses_its_second_factor_and_is_invited(administrator, make_supporter):
    """A supporter may have set up a second factor with their password alone; as staff they set one up again from an
    invitation."""
    _admin, staff = administrator
    supporter = make_supporter(email="kari@example.org")
    supporter.account = User.objects.create_user("kari@example.org", password=PASSWORD, language="en")
    supporter.save()
    account = supporter.account
    own_session = log_in_verified(Client(), account)
    recovery_codes_issue(account)

    response = staff.post(
        reverse("admin:accounts_user_change", args=[account.pk]),
        {
            "email": account.email,
            "name": "",
            "language": "en",
            "role": "coordinator",
            "counties": [County.objects.get(number="03").pk],
            "is_active": "on",
            "_save": "Save",
        },
        follow=True,
    )

    account.refresh_from_db()
    assert account.is_staff
    assert "now has a staff role" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=account).exists()
    assert not StaticDevice.objects.filter(user=account).exists()
    assert [message.to for message in mail.outbox] == [["kari@example.org"]]
    assert own_session.get("/en/accounts/two-factor/setup/").status_code == 403


def test_a_secret_shown_before_the_invitation_is_not_the_one_set_up_after_it(coordinator_with_password):
    # Someone with the password opens the set-up page while the account is not yet staff, and notes the secret.
    coordinator_with_password.role = ""
    coordinator_with_password.save()
    early = Client()
    log_in(early, "coordinator@example.org")
    early.get("/en/accounts/two-factor/setup/")
    noted = TOTPDevice.objects.get(user=coordinator_with_password, confirmed=False).key
    coordinator_with_password.role = "coordinator"
    coordinator_with_password.save()

    _invitation, token = Invitation.issue(user=coordinator_with_password)
    invited = Client()
    invited.post(f"/en/accounts/invitation/{token}/", {"new_password1": PASSWORD, "new_password2": PASSWORD})
    invited.get("/en/accounts/two-factor/setup/")

    assert TOTPDevice.objects.get(user=coordinator_with_password, confirmed=False).key != noted


def test_a_new_invitation_works_in_a_browser_still_logged_in_without_the_second_factor(
    administrator, coordinator_with_password
):
    _admin, staff = administrator
    browser = Client()
    log_in(browser, "coordinator@example.org")
    assert browser.get("/en/accounts/two-factor/setup/").status_code == 403

    staff.post(USERS, {"action": "send_invitation", "_selected_action": [coordinator_with_password.pk]})
    link = invitation_link(mail.outbox[-1])

    assert browser.get(link).status_code == 200
    browser.post(link, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert set_up_authenticator(browser, coordinator_with_password).status_code == 302


# A secret is confirmed only in the browser it was shown to


@pytest.fixture
def supporter_account(make_supporter):
    supporter = make_supporter(email="kari@example.org")
    supporter.account = User.objects.create_user("kari@example.org", password=PASSWORD)
    supporter.save()
    return supporter.account


def test_a_secret_noted_by_someone_else_is_never_the_one_confirmed(supporter_account):
    intruder = Client()
    log_in(intruder, "kari@example.org")
    intruder.get("/en/accounts/two-factor/setup/")
    noted = TOTPDevice.objects.get(user=supporter_account, confirmed=False)

    # The supporter sets up their own authenticator later, in their own browser.
    supporter = Client()
    log_in(supporter, "kari@example.org")
    assert set_up_authenticator(supporter, supporter_account).status_code == 302
    confirmed = TOTPDevice.objects.get(user=supporter_account, confirmed=True)
    assert confirmed.key != noted.key

    # The intruder's page, and its code, lead nowhere: the account now asks for the supporter's own.
    late = intruder.post("/en/accounts/two-factor/setup/", {"code": current_code(noted)}, follow=True)
    assert late.redirect_chain[-1][0] == "/en/accounts/two-factor/verify/"
    refused = intruder.post("/en/accounts/two-factor/verify/", {"code": current_code(noted)})
    assert "not right" in refused.content.decode()
    assert TOTPDevice.objects.filter(user=supporter_account, confirmed=True).count() == 1


def test_a_set_up_page_replaced_by_a_newer_one_says_so(supporter_account):
    first = Client()
    log_in(first, "kari@example.org")
    first.get("/en/accounts/two-factor/setup/")
    noted = TOTPDevice.objects.get(user=supporter_account, confirmed=False)
    second = Client()
    log_in(second, "kari@example.org")
    second.get("/en/accounts/two-factor/setup/")

    late = first.post("/en/accounts/two-factor/setup/", {"code": current_code(noted)}, follow=True)

    assert "That set-up page is no longer valid" in late.content.decode()
    assert not TOTPDevice.objects.filter(user=supporter_account, confirmed=True).exists()


def test_the_set_up_page_works_beside_stray_unconfirmed_secrets(supporter_account):
    client = Client()
    log_in(client, "kari@example.org")
    client.get("/en/accounts/two-factor/setup/")
    shown = TOTPDevice.objects.get(user=supporter_account, confirmed=False)
    # As two quick loads of the page at once may leave behind.
    TOTPDevice.objects.create(user=supporter_account, confirmed=False, name="stray")

    response = client.post("/en/accounts/two-factor/setup/", {"code": current_code(shown)})

    assert response.status_code == 302
    assert TOTPDevice.objects.get(user=supporter_account, confirmed=True).pk == shown.pk


def test_the_admin_shows_no_authenticators_secret_and_adds_none(administrator, coordinator):
    _admin, staff = administrator
    user, _client = coordinator
    device = TOTPDevice.objects.get(user=user)

    page = staff.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk])).content.decode()

    assert device.key not in page
    assert staff.get(reverse("admin:otp_totp_totpdevice_config", args=[device.pk])).status_code == 403
    assert staff.get(reverse("admin:otp_totp_totpdevice_qrcode", args=[device.pk])).status_code == 403
    assert staff.get(reverse("admin:otp_totp_totpdevice_add")).status_code == 403
    staff.post(reverse("admin:otp_totp_totpdevice_add"), {"user": user.pk, "name": "planted", "confirmed": "on"})
    assert TOTPDevice.objects.filter(user=user).count() == 1


@pytest.mark.parametrize("lookup", ["key__startswith", "key", "key__contains", "key__regex"])
def test_the_device_list_cannot_be_filtered_on_the_secret(administrator, coordinator, lookup):
    _admin, staff = administrator
    user, _client = coordinator
    device = TOTPDevice.objects.get(user=user)

    response = staff.get(reverse("admin:otp_totp_totpdevice_changelist"), {"id": device.pk, lookup: device.key[:2]})

    assert response.status_code == 400


def test_a_confirmed_set_up_page_cannot_confirm_again(supporter_account):
    client = Client()
    log_in(client, "kari@example.org")
    client.get("/en/accounts/two-factor/setup/")
    device = TOTPDevice.objects.get(user=supporter_account, confirmed=False)
    code = current_code(device)
    assert client.post("/en/accounts/two-factor/setup/", {"code": code}).status_code == 302

    # The same page sent again (a second press of Confirm): the account has its authenticator already.
    again = Client()
    again.cookies = client.cookies
    response = again.post("/en/accounts/two-factor/setup/", {"code": code})

    assert response["Location"] == "/en/accounts/two-factor/"
    assert TOTPDevice.objects.filter(user=supporter_account, confirmed=True).count() == 1
    assert StaticDevice.objects.filter(user=supporter_account).count() == 1
