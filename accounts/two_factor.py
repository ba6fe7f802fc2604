"""Second factor: TOTP apps with single-use recovery codes (django-otp).

Staff set theirs up only in the session that an invitation link opened: a password alone, known or guessed by someone
else, never lets anyone enrol an authenticator for a staff account. Supporters may add one whenever they like.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

# How long after following an invitation a staff member may set up their authenticator, in that browser session.
ENROLMENT_MINUTES = 30
ENROLMENT_SESSION_KEY = "second_factor_enrolment_until"


def has_second_factor(user):
    """An authenticator app has been set up and confirmed (recovery codes come with it)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def needs_second_factor(user):
    """Staff always; a supporter once they have set one up."""
    if not user.is_authenticated:
        return False
    return user.is_staff or has_second_factor(user)


def enrolment_allow(request):
    """This session came through an invitation link: its person may set up a second factor for a while."""
    until = timezone.now() + datetime.timedelta(minutes=ENROLMENT_MINUTES)
    request.session[ENROLMENT_SESSION_KEY] = until.timestamp()


def enrolment_allowed(request):
    """Supporters may set up a second factor at any time; staff only in a session an invitation opened, lately."""
    if not request.user.is_staff:
        return True
    until = request.session.get(ENROLMENT_SESSION_KEY)
    return until is not None and timezone.now().timestamp() < until


def enrolment_end(request):
    request.session.pop(ENROLMENT_SESSION_KEY, None)


def second_factor_remove(user):
    """Remove the account's authenticator and recovery codes: sessions verified with them are verified no more."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()


RECOVERY_CODES = 10


def recovery_codes_issue(user):
    """Replace the account's recovery codes with new single-use ones, and return them to be shown once."""
    device, _ = StaticDevice.objects.get_or_create(user=user, defaults={"name": "Recovery codes"})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes
