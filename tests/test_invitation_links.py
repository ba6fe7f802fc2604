"""An invitation link sets a password once: it stops working as soon as the account has a password set or changed by
any other path, or the account is closed."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.models import Invitation
from accounts.services import supporter_retire
from tests.conftest import log_in_verified

pytestmark = pytest.mark.django_db

PASSWORD = "a long and unusual passphrase"
NEW_PASSWORD = "another long passphrase entirely"


@pytest.fixture
def account(make_supporter, django_user_model):
    """A supporter with an account and a password, and a link from an invitation sent to them afterwards."""
    supporter = make_supporter(name="Kari Nordmann", email="kari@example.org")
    supporter.account = django_user_model.objects.create_user("kari@example.org", password=PASSWORD, language="en")
    supporter.save()
    return supporter.account


@pytest.fixture
def link(account):
    _invitation, token = Invitation.issue(user=account)
    return f"/en/accounts/invitation/{token}/"


def assert_spent(link, phrase):
    get = Client().get(link)
    post = Client().post(link, {"new_password1": "yet another passphrase", "new_password2": "yet another passphrase"})
    assert get.status_code == post.status_code == 410
    assert phrase in get.content.decode()
    assert "_auth_user_id" not in post.wsgi_request.session


def test_the_link_works_while_nothing_has_changed(link):
    assert Client().get(link).status_code == 200


def test_a_password_changed_on_the_account_page_spends_the_link(client, account, link):
    client.force_login(account)
    client.post(
        "/en/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert_spent(link, "A password has been set for this account since this invitation was sent")
    account.refresh_from_db()
    assert account.check_password(NEW_PASSWORD)


def test_a_password_reset_by_email_spends_the_link(account, link):
    client = Client()
    client.post("/en/accounts/password/reset/", {"email": "kari@example.org"})
    reset = re.search(r"https?://[^/\s]+(/[a-z]+/accounts/password/reset/\S+/)", mail.outbox[-1].body)[1]
    form = client.get(reset, follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    account.refresh_from_db()
    assert account.check_password(NEW_PASSWORD)
    assert_spent(link, "A password has been set for this account since this invitation was sent")


def test_a_password_set_by_an_administrator_in_the_admin_spends_the_link(account, link, django_user_model):
    administrator = django_user_model.objects.create_user("admin.national@example.org", role="administrator")
    staff = log_in_verified(Client(HTTP_ACCEPT_LANGUAGE="en"), administrator)

    response = staff.post(
        f"/admin/accounts/user/{account.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    assert response.status_code == 302
    assert_spent(link, "A password has been set for this account since this invitation was sent")


def test_a_password_set_on_the_server_spends_the_link(account, link):
    account.set_password(NEW_PASSWORD)
    account.save()

    assert_spent(link, "A password has been set for this account since this invitation was sent")


def test_a_retired_supporters_link_says_the_account_is_closed(account, link):
    supporter_retire(supporter=account.supporter)

    assert_spent(link, "This account has been closed")


def test_an_account_deactivated_in_the_admin_spends_the_link(account, link):
    get_user_model().objects.filter(pk=account.pk).update(is_active=False)

    assert_spent(link, "This account has been closed")


def test_an_invitation_sent_after_the_change_works(account, link):
    account.set_password(NEW_PASSWORD)
    account.save()
    call_command("invite_supporter", "kari@example.org", "--language", "en")
    fresh = re.search(r"https?://[^/\s]+(/en/accounts/invitation/[^/\s]+/)", mail.outbox[-1].body)[1]

    response = Client().post(fresh, {"new_password1": PASSWORD, "new_password2": PASSWORD})

    assert response.status_code == 302
    assert_spent(link, "This link no longer works")


def test_a_staff_members_spent_link_sends_them_to_a_national_administrator(django_user_model):
    staff = django_user_model.objects.create_user("coordinator@example.org", role="coordinator")
    invitation, token = Invitation.issue(user=staff)
    Invitation.objects.filter(pk=invitation.pk).update(
        created_at=invitation.created_at - timezone.timedelta(days=8),
        expires_at=invitation.created_at - timezone.timedelta(days=1),
    )
    link = f"/en/accounts/invitation/{token}/"

    expired = Client().get(link).content.decode()
    django_user_model.objects.filter(pk=staff.pk).update(is_active=False)
    closed = Client().get(link).content.decode()

    assert "Ask a national administrator to send a new one" in expired
    assert "ask a national administrator" in closed
    assert "coordinator in your county" not in expired + closed
