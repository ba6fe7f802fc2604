from base64 import b32encode

import segno
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.access import own_supporter
from accounts.after_response import RedirectThenWork
from accounts.forms import LoginForm, OneTimeCodeForm, PasswordResetForm
from accounts.models import Invitation, User, token_digest
from accounts.two_factor import (
    enrolment_allow,
    enrolment_allowed,
    enrolment_end,
    has_second_factor,
    needs_second_factor,
    recovery_codes_issue,
)

# The unconfirmed authenticator whose secret the set-up page showed this browser.
SETUP_DEVICE_SESSION_KEY = "second_factor_setup_device"


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    """The answer goes out before anything that depends on the address: whether it has an account, how many reset
    e-mails it had lately, the e-mail itself (which may wait seconds for the mail server). Its timing tells nothing."""

    template_name = "accounts/password_reset.html"
    form_class = PasswordResetForm

    def get_success_url(self):
        return reverse("accounts:password_reset_done")

    def form_valid(self, form):
        response = super().form_valid(form)  # the form only keeps what send() needs
        return RedirectThenWork(response.url, form.send)


@login_required
def home(request):
    """Where a person lands after logging in: their second factor first, then their own pages."""
    user = request.user
    if needs_second_factor(user) and not user.is_verified():
        return redirect("accounts:two_factor")
    if user.is_staff:
        return redirect("admin:index")
    if own_supporter(user):
        return redirect("directory:my_listing")
    return render(request, "accounts/no_listing.html")


@require_http_methods(["GET", "HEAD", "POST"])
def invitation_accept(request, token):
    now = timezone.now()
    invitation = Invitation.objects.select_related("user").filter(token_digest=token_digest(token)).first()
    state = invitation.state(now) if invitation else "unknown"
    if state != "valid":
        status = 404 if state == "unknown" else 410
        # Staff are invited by a national administrator, supporters by their county's coordinator.
        staff = invitation is not None and invitation.user.is_staff
        return render(request, "accounts/invitation_invalid.html", {"state": state, "staff": staff}, status=status)
    form = SetPasswordForm(invitation.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            # Every invitation of this account is spent once a password is set.
            Invitation.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        # The link proved that this person holds the account's e-mail: here, and only here, staff set up their
        # second factor.
        enrolment_allow(request)
        messages.success(request, _("Your password is set. Welcome!"))
        return redirect("accounts:home")
    return render(request, "accounts/invitation_accept.html", {"form": form, "invited": invitation.user})


@login_required
def two_factor(request):
    if request.user.is_verified():
        return redirect("accounts:home")
    if has_second_factor(request.user):
        return redirect("accounts:two_factor_verify")
    return redirect("accounts:two_factor_setup")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def two_factor_setup(request):
    """Show a new authenticator secret as a QR code drawn here, and confirm it with a first code."""
    user = request.user
    if has_second_factor(user):
        return redirect("accounts:two_factor")
    if not enrolment_allowed(request):
        return render(request, "accounts/two_factor_by_invitation.html", status=403)
    if request.method == "POST":
        # The secret this browser was shown, and no other.
        device = TOTPDevice.objects.filter(
            pk=request.session.get(SETUP_DEVICE_SESSION_KEY), user=user, confirmed=False
        ).first()
        if device is None:
            messages.warning(request, _("That set-up page is no longer valid. Scan this new code instead."))
            return redirect("accounts:two_factor_setup")
    else:
        # A new secret at every visit: one shown before, perhaps in someone else's browser, can never be confirmed.
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, confirmed=False, name="Authenticator app")
        request.session[SETUP_DEVICE_SESSION_KEY] = device.pk
    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            # One confirmation at a time per account (the account's row is locked; SQLite takes its write lock at the
            # start): a second authenticator from another browser, or the same code twice, finds the first confirmed.
            User.objects.select_for_update().filter(pk=user.pk).exists()
            if has_second_factor(user):
                return redirect("accounts:two_factor")
            device = TOTPDevice.objects.filter(pk=device.pk, confirmed=False).first()
            if device is None:
                messages.warning(request, _("That set-up page is no longer valid. Scan this new code instead."))
                return redirect("accounts:two_factor_setup")
            if device.verify_token(form.cleaned_data["code"]):
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                codes = recovery_codes_issue(user)
                otp_login(request, device)
                enrolment_end(request)
                request.session.pop(SETUP_DEVICE_SESSION_KEY, None)
                request.session["new_recovery_codes"] = codes
                return redirect("accounts:recovery_codes")
        form.add_error("code", _("That code did not match. Check the time on your phone and try the newest code."))
    qr_code = segno.make(device.config_url, error="m").svg_inline(
        scale=4, dark="#1a1a1a", light="#ffffff", svgclass="qr-code", omitsize=True
    )
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr_code": qr_code,
            "secret": device_secret(device),
            # The otpauth: address the QR code holds, for a phone that cannot scan its own screen.
            "config_url": device.config_url,
            "required": user.is_staff,
        },
    )


def device_secret(device):
    """The secret in the grouped base32 form authenticator apps accept when typed in."""
    text = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def safe_next(request):
    """The page to go on to after the second factor, if it is on this site (never a link to elsewhere)."""
    target = request.GET.get("next", "")
    allowed = url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure())
    return target if allowed else None


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def two_factor_verify(request):
    if not has_second_factor(request.user):
        return redirect("accounts:two_factor_setup")
    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                remaining = device.token_set.count()
                message = ngettext(
                    "You used a recovery code; %(remaining)d is left.",
                    "You used a recovery code; %(remaining)d are left.",
                    remaining,
                )
                messages.warning(request, message % {"remaining": remaining})
            return redirect(safe_next(request) or "accounts:home")
        form.add_error("code", _("That code is not right, or it has been used already."))
    return render(request, "accounts/two_factor_verify.html", {"form": form})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def recovery_codes(request):
    """New recovery codes are shown once, right after they are made; after that only how many are left."""
    if not has_second_factor(request.user):
        return redirect("accounts:two_factor_setup")
    if request.method == "POST":
        request.session["new_recovery_codes"] = recovery_codes_issue(request.user)
        return redirect("accounts:recovery_codes")
    codes = request.session.pop("new_recovery_codes", None)
    remaining = sum(device.token_set.count() for device in StaticDevice.objects.filter(user=request.user))
    return render(
        request,
        "accounts/recovery_codes.html",
        {"codes": codes, "remaining": remaining},
    )
