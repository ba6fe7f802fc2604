"""Logging in: passwords, invitations, lockout after failures, the second factor, sessions."""

import re
import time

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core import mail
from django.core.cache import caches
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

import config.settings as production
from accounts.models import Invitation, token_digest
from accounts.services import supporter_retire
from tests.conftest import current_code, invitation_link

pytestmark = pytest.mark.django_db

PASSWORD = "a long and unusual passphrase"
HOSPITAL = "198.51.100.7"


@pytest.fixture
def supporter_account(make_supporter, django_user_model):
    supporter = make_supporter(name="Kari Nordmann", email="kari@example.org")
    supporter.account = django_user_model.objects.create_user("kari@example.org", password=PASSWORD, name="Kari")
    supporter.save()
    return supporter.account


@pytest.fixture
def staff_account(django_user_model):
    return django_user_model.objects.create_user("coordinator@example.org", password=PASSWORD, role="coordinator")


def log_in(client, email, password=PASSWORD, address=HOSPITAL):
    return client.post("/en/accounts/login/", {"username": email, "password": password}, REMOTE_ADDR=address)


# Passwords


def test_passwords_are_hashed_with_argon2_in_production():
    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert Argon2PasswordHasher().encode(PASSWORD, "somesaltvalue").startswith("argon2$argon2id$")


def test_a_supporter_logs_in_with_email_and_password_and_lands_on_their_listing(client, supporter_account):
    response = log_in(client, "KARI@example.org")

    assert response.status_code == 302
    assert client.get(response["Location"])["Location"] == "/en/my/"


def test_a_wrong_password_is_refused_with_a_message(client, supporter_account):
    response = log_in(client, "kari@example.org", "not the password")

    assert response.status_code == 200
    assert "Please enter a correct e-mail address and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_session_key_changes_at_login_and_the_session_ends_at_logout(client, supporter_account):
    client.get("/en/accounts/login/")
    session = client.session
    session["before"] = "login"
    session.save()
    before = session.session_key

    log_in(client, "kari@example.org")
    during = client.session.session_key
    assert during != before
    assert client.session.get_expiry_age() <= 8 * 60 * 60
    assert client.session.get_expire_at_browser_close()

    assert client.post("/en/accounts/logout/").status_code == 302
    assert "_auth_user_id" not in client.session
    # The old session is gone from the store: a stolen cookie is worth nothing after logout.
    from django.contrib.sessions.backends.db import SessionStore

    assert not SessionStore().exists(during)


def test_a_password_is_changed_with_the_old_one(client, supporter_account):
    log_in(client, "kari@example.org")
    new = "another long passphrase entirely"

    response = client.post(
        "/en/accounts/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )

    assert response.status_code == 302
    supporter_account.refresh_from_db()
    assert supporter_account.check_password(new)


@pytest.mark.parametrize(("language", "phrase"), [("nb", "Hvis det var deg"), ("en", "If it was you")])
def test_a_forgotten_password_is_reset_by_email_in_the_accounts_language(client, supporter_account, language, phrase):
    supporter_account.language = language
    supporter_account.save()

    response = client.post("/en/accounts/password/reset/", {"email": "kari@example.org"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert phrase in mail.outbox[0].body
    link = re.search(r"https?://[^/\s]+(/[a-z]+/accounts/password/reset/\S+/)", mail.outbox[0].body)[1]
    assert link.startswith(f"/{language}/")
    form_page = client.get(link, follow=True)
    new = "a brand new long passphrase"
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    supporter_account.refresh_from_db()
    assert supporter_account.check_password(new)


def test_a_reset_request_for_an_unknown_address_says_the_same_and_sends_nothing(client, db):
    response = client.post("/en/accounts/password/reset/", {"email": "nobody@example.org"})

    assert response.status_code == 302
    assert mail.outbox == []


# Invitations


def test_inviting_a_supporter_creates_their_account_and_emails_a_one_time_link(client, make_supporter):
    supporter = make_supporter(name="Ola Nordmann", email="ola@example.org")

    call_command("invite_supporter", "OLA@example.org", "--language", "en")

    supporter.refresh_from_db()
    assert supporter.account.email == "ola@example.org"
    assert not supporter.account.has_usable_password()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ola@example.org"]
    assert "valid" in message.body.lower() or "7 days" in message.body
    link = invitation_link(message)
    token = link.rstrip("/").rsplit("/", 1)[-1]
    # Only a digest of the token is stored.
    assert not Invitation.objects.filter(token_digest=token).exists()
    assert Invitation.objects.filter(token_digest=token_digest(token)).exists()

    assert client.get(link).status_code == 200
    response = client.post(link, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == 302
    assert client.get(response["Location"])["Location"] == "/en/my/"
    supporter.account.refresh_from_db()
    assert supporter.account.check_password(PASSWORD)


def test_an_invitation_is_in_norwegian_by_default(make_supporter):
    make_supporter(email="ola@example.org")

    call_command("invite_supporter", "ola@example.org")

    assert mail.outbox[0].subject == "Din konto i oversikten over kollegastøttere"


def test_an_invitation_link_works_once(client, make_supporter):
    make_supporter(email="ola@example.org")
    call_command("invite_supporter", "ola@example.org")
    link = invitation_link(mail.outbox[0])
    client.post(link, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    client.post("/en/accounts/logout/")

    response = Client().get(link)

    assert response.status_code == 410
    # The invitation leads to the page in the account's language, Norwegian Bokmål unless chosen otherwise.
    assert "Denne invitasjonen er allerede brukt" in response.content.decode()


def test_an_invitation_link_expires_after_seven_days(client, make_supporter):
    make_supporter(email="ola@example.org")
    call_command("invite_supporter", "ola@example.org")
    link = invitation_link(mail.outbox[0])
    invitation = Invitation.objects.get()
    assert invitation.expires_at - invitation.created_at == timezone.timedelta(days=7)
    Invitation.objects.update(
        created_at=timezone.now() - timezone.timedelta(days=8), expires_at=timezone.now() - timezone.timedelta(days=1)
    )

    get = client.get(link)
    post = client.post(link, {"new_password1": PASSWORD, "new_password2": PASSWORD})

    assert get.status_code == post.status_code == 410
    assert "denne har gått ut" in get.content.decode()
    assert not get_user_model().objects.get(email="ola@example.org").has_usable_password()


def test_an_unknown_invitation_link_gives_a_clear_page(client, db):
    response = client.get("/en/accounts/invitation/not-a-real-token/")

    assert response.status_code == 404
    assert "This link no longer works" in response.content.decode()


def test_an_invitation_refuses_a_weak_password_and_changes_nothing(client, make_supporter):
    make_supporter(email="ola@example.org")
    call_command("invite_supporter", "ola@example.org")
    link = invitation_link(mail.outbox[0])

    response = client.post(link, {"new_password1": "password", "new_password2": "password"})

    assert response.status_code == 200
    # The invitation leads to the page in the account's language, Norwegian Bokmål unless chosen otherwise.
    assert link.startswith("/nb/")
    assert "Dette passordet er for vanlig." in response.content.decode()
    assert Invitation.objects.get().used_at is None
    assert "_auth_user_id" not in client.session


def test_an_invitation_that_cannot_be_mailed_leaves_nothing_behind(make_supporter, settings):
    settings.MAILERS = {"default": {"BACKEND": "tests.conftest.FailingMailServer"}}
    supporter = make_supporter(email="ola@example.org")

    with pytest.raises(CommandError, match="could not be sent"):
        call_command("invite_supporter", "ola@example.org")

    supporter.refresh_from_db()
    assert supporter.account is None
    assert not get_user_model().objects.filter(email="ola@example.org").exists()
    assert not Invitation.objects.exists()


def test_inviting_an_unknown_address_says_so(db):
    with pytest.raises(CommandError, match="No supporter in the roster has the e-mail address"):
        call_command("invite_supporter", "nobody@example.org")


def test_a_retired_supporter_is_unlisted_and_can_no_longer_log_in(client, supporter_account):
    supporter = supporter_account.supporter
    _invitation, token = Invitation.issue(user=supporter_account)

    supporter_retire(supporter=supporter)

    supporter.refresh_from_db()
    supporter_account.refresh_from_db()
    assert supporter.listed is False
    assert supporter_account.is_active is False
    assert client.get(supporter.get_absolute_url()).status_code == 404
    assert "_auth_user_id" not in log_in(client, "kari@example.org").wsgi_request.session
    assert client.get(f"/en/accounts/invitation/{token}/").status_code == 410


# Lockout after failed logins


def test_five_failures_lock_that_account_from_that_address_for_fifteen_minutes(client, supporter_account, monkeypatch):
    for _ in range(4):
        assert log_in(client, "kari@example.org", "wrong").status_code == 200
    assert log_in(client, "kari@example.org", "wrong").status_code == 429  # the fifth failure locks

    locked = log_in(client, "kari@example.org")  # even the right password
    assert locked.status_code == 429
    assert "paused for 15 minutes" in locked.content.decode()
    assert "_auth_user_id" not in client.session

    # The same account from another address, and another account from the same address, are not locked.
    assert log_in(Client(), "kari@example.org", address="192.0.2.44").status_code == 302
    other = get_user_model().objects.create_user("ola@example.org", password=PASSWORD)
    assert other
    assert log_in(Client(), "ola@example.org").status_code == 302

    # After the cool-off the pair is released.
    now = time.time()
    monkeypatch.setattr("django.core.cache.backends.locmem.time.time", lambda: now + 15 * 60 + 1)
    assert log_in(Client(), "kari@example.org").status_code == 302


def test_four_failures_do_not_lock(client, supporter_account):
    for _ in range(4):
        log_in(client, "kari@example.org", "wrong")

    assert log_in(client, "kari@example.org").status_code == 302


def test_failed_logins_are_counted_without_storing_the_address(client, supporter_account):
    for _ in range(3):
        log_in(client, "kari@example.org", "wrong")

    stored = repr(caches["axes"]._cache) + repr(list(caches["axes"]._cache.keys()))
    assert caches["axes"]._cache, "failures should be counted in the axes cache"
    assert HOSPITAL not in stored
    assert "kari@example.org" not in stored


def test_behind_the_proxy_each_visitor_is_counted_by_their_own_address(client, supporter_account):
    for _ in range(5):
        client.post(
            "/en/accounts/login/",
            {"username": "kari@example.org", "password": "wrong"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.9",
        )

    from_elsewhere = Client().post(
        "/en/accounts/login/",
        {"username": "kari@example.org", "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.10",
    )
    assert from_elsewhere.status_code == 302


# The second factor


def forget_wrong_codes():
    """After a wrong code django-otp makes the next try wait a second or more; tests need not wait."""
    TOTPDevice.objects.update(throttling_failure_count=0, throttling_failure_timestamp=None)


def test_a_staff_account_cannot_use_the_site_without_a_second_factor(client, staff_account):
    log_in(client, "coordinator@example.org")

    for path in ["/admin/", "/en/accounts/", "/en/accounts/password/", "/en/my/", "/en/my/counts/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        # The admin has no language in its address: it speaks the default language, Norwegian Bokmål.
        expected = "/nb/accounts/two-factor/" if path == "/admin/" else "/en/accounts/two-factor/"
        assert response["Location"] == expected, path
    assert client.get("/en/accounts/two-factor/")["Location"] == "/en/accounts/two-factor/setup/"


def test_staff_set_up_a_second_factor_with_a_qr_code_drawn_here_and_then_reach_the_admin(client, staff_account):
    # Staff set up their second factor right after following their invitation (tests/test_staff_second_factor.py).
    _invitation, token = Invitation.issue(user=staff_account)
    client.post(f"/en/accounts/invitation/{token}/", {"new_password1": PASSWORD, "new_password2": PASSWORD})
    page = client.get("/en/accounts/two-factor/setup/")
    html = page.content.decode()
    assert "<svg" in html
    assert "https://" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]
    device = TOTPDevice.objects.get(user=staff_account, confirmed=False)

    wrong = client.post(
        "/en/accounts/two-factor/setup/", {"code": "000000" if current_code(device) != "000000" else "1"}
    )
    assert "did not match" in wrong.content.decode()
    forget_wrong_codes()

    response = client.post("/en/accounts/two-factor/setup/", {"code": current_code(device)})
    assert response["Location"] == "/en/accounts/two-factor/recovery-codes/"
    codes_page = client.get(response["Location"]).content.decode()
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", codes_page)
    assert len(codes) == 10
    # Shown once only.
    assert not re.findall(r"<li><code>", client.get("/en/accounts/two-factor/recovery-codes/").content.decode())
    assert client.get("/admin/").status_code == 200


def test_a_staff_member_with_a_second_factor_gives_it_at_every_login(client, staff_account):
    device = TOTPDevice.objects.create(user=staff_account, name="app", confirmed=True)
    log_in(client, "coordinator@example.org")
    assert client.get("/admin/")["Location"] == "/nb/accounts/two-factor/"

    wrong = client.post("/en/accounts/two-factor/verify/", {"code": "12345"})
    assert "not right" in wrong.content.decode()
    assert client.get("/admin/").status_code == 302

    forget_wrong_codes()
    client.post("/en/accounts/two-factor/verify/", {"code": current_code(device)})
    assert client.get("/admin/").status_code == 200


def test_a_recovery_code_works_once(client, staff_account):
    TOTPDevice.objects.create(user=staff_account, name="app", confirmed=True)
    from accounts.two_factor import recovery_codes_issue

    code = recovery_codes_issue(staff_account)[0]

    log_in(client, "coordinator@example.org")
    client.post("/en/accounts/two-factor/verify/", {"code": code})
    assert client.get("/admin/").status_code == 200
    assert not StaticToken.objects.filter(token=code).exists()

    client.post("/en/accounts/logout/")
    log_in(client, "coordinator@example.org")
    again = client.post("/en/accounts/two-factor/verify/", {"code": code})
    assert "not right" in again.content.decode()
    assert client.get("/admin/").status_code == 302


def test_a_supporter_may_work_without_a_second_factor_and_is_offered_one(client, supporter_account):
    log_in(client, "kari@example.org")

    assert client.get("/en/accounts/").status_code == 302
    assert client.get("/en/accounts/two-factor/")["Location"] == "/en/accounts/two-factor/setup/"
    assert client.get("/en/accounts/two-factor/setup/").status_code == 200


def test_a_supporter_who_set_up_a_second_factor_must_give_it(client, supporter_account):
    TOTPDevice.objects.create(user=supporter_account, name="app", confirmed=True)
    log_in(client, "kari@example.org")

    assert client.get("/en/my/")["Location"] == "/en/accounts/two-factor/"


# Logged-in pages


def test_logged_in_pages_are_private_and_keep_the_public_csp(client, supporter_account):
    log_in(client, "kari@example.org")

    for path in ["/en/accounts/password/", "/en/accounts/two-factor/setup/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "private, no-store", path
        assert response.headers["Content-Security-Policy"] == Client().get("/en/").headers["Content-Security-Policy"]


def test_the_admin_login_page_sends_people_to_the_one_login(client, db):
    response = client.get("/admin/login/?next=/admin/directory/")

    assert response.status_code == 302
    assert response["Location"] == "/nb/accounts/login/?next=/admin/directory/"


def test_settings_keep_sessions_short_and_cookies_with_the_browser():
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True


def test_the_admin_itself_refuses_staff_who_have_not_given_their_second_factor(rf, staff_account):
    from django.contrib import admin

    request = rf.get("/admin/")
    request.user = staff_account
    staff_account.is_verified = lambda: False
    assert admin.site.has_permission(request) is False

    staff_account.is_verified = lambda: True
    assert admin.site.has_permission(request) is True


# Languages


def test_the_login_page_speaks_norwegian_under_nb_and_english_under_en(client, db):
    norwegian = client.get("/nb/accounts/login/").content.decode()
    english = client.get("/en/accounts/login/").content.decode()

    assert '<html lang="nb"' in norwegian
    assert re.search(r"<h1[^>]*>Logg inn</h1>", norwegian)
    assert '<label class="ds-label" for="id_username">E-postadresse</label>' in norwegian
    assert "Glemt passordet?" in norwegian
    assert re.search(r"<h1[^>]*>Log in</h1>", english)
    assert "Forgot your password?" in english


def test_a_refused_login_in_norwegian_is_announced_in_the_error_summary(client, supporter_account):
    response = client.post(
        "/nb/accounts/login/", {"username": "kari@example.org", "password": ""}, REMOTE_ADDR=HOSPITAL
    )

    html = response.content.decode()
    summary = re.search(r'<div class="ds-error-summary" id="error-summary" tabindex="-1".*?</div>', html, re.S)
    assert summary, html
    assert "Rett opp følgende" in summary.group(0)
    assert re.search(r'<a class="ds-link" href="#id_password">Passord: [^<]+</a>', summary.group(0))
    assert 'aria-invalid="true"' in re.search(r'<input[^>]*name="password"[^>]*>', html).group(0)


def test_the_second_factor_setup_names_its_qr_code_and_shows_the_key_as_text(client, supporter_account):
    log_in(client, "kari@example.org")

    html = client.get("/nb/accounts/two-factor/setup/").content.decode()

    device = TOTPDevice.objects.get(user=supporter_account, confirmed=False)
    assert re.search(r'<div class="qr" role="img" aria-label="QR-kode til autentiseringsappen[^"]*">\s*<svg', html)
    key = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', html).group(1)
    from base64 import b32decode

    assert b32decode(key.replace(" ", "") + "=" * (-len(key.replace(" ", "")) % 8)) == device.bin_key
    assert "Sett opp totrinnsinnlogging" in html
    # On a phone, which cannot scan its own screen, a link hands the same key to the authenticator app.
    link = re.search(r'<a class="ds-link" href="(otpauth://totp/[^"]+)">', html)[1]
    assert f"secret={key.replace(' ', '')}" in link.replace("&amp;", "&")


def test_the_second_factor_does_not_lead_away_from_the_site(client, staff_account):
    device = TOTPDevice.objects.create(user=staff_account, name="app", confirmed=True)
    log_in(client, "coordinator@example.org")

    response = client.post(
        "/en/accounts/two-factor/verify/?next=https://elsewhere.example/", {"code": current_code(device)}
    )

    assert response.status_code == 302
    assert response["Location"] == "/en/accounts/"
