"""Second factor: TOTP apps with single-use recovery codes (django-otp)."""

from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice


def has_second_factor(user):
    """An authenticator app has been set up and confirmed (recovery codes come with it)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def needs_second_factor(user):
    """Staff always; a supporter once they have set one up."""
    if not user.is_authenticated:
        return False
    return user.is_staff or has_second_factor(user)


RECOVERY_CODES = 10


def recovery_codes_issue(user):
    """Replace the account's recovery codes with new single-use ones, and return them to be shown once."""
    device, _ = StaticDevice.objects.get_or_create(user=user, defaults={"name": "Recovery codes"})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes
