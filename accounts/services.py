"""Account actions that span several records or send e-mail."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.emails import email_user
from accounts.models import Invitation, User
from accounts.two_factor import second_factor_remove


class InvitationError(Exception):
    """The invitation cannot be sent; the message says why, for the person who tried."""


def invitation_send(*, user, invited_by=None):
    """Send user a one-time link to set a password. If the e-mail cannot be sent, nothing is kept."""
    with transaction.atomic():
        invitation, token = Invitation.issue(user=user, invited_by=invited_by)
        email_user(user, template="invitation", context={"token": token})
    return invitation


def second_factor_reset(*, user, reset_by):
    """Take away the account's second factor and invite its person to set a password and a new one, all or nothing:
    a staff member who lost their phone gets back in only through their e-mail, never with the password alone."""
    with transaction.atomic():
        second_factor_remove(user)
        return invitation_send(user=user, invited_by=reset_by)


def supporter_invite(*, supporter, invited_by=None, language=None):
    """Give the supporter an account (if they have none) and e-mail them an invitation to it, all or nothing."""
    if not supporter.email:
        raise InvitationError(
            _("%(supporter)s has no e-mail address to send an invitation to.") % {"supporter": supporter}
        )
    with transaction.atomic():
        user = supporter.account
        if user is None:
            if User.objects.filter(email__iexact=supporter.email).exists():
                raise InvitationError(_("Another account already uses %(email)s.") % {"email": supporter.email})
            user = User.objects.create_user(supporter.email, password=None, name=supporter.name)
            supporter.account = user
            supporter.save(update_fields=["account"])
        if not user.is_active:
            raise InvitationError(_("The account of %(supporter)s is deactivated.") % {"supporter": supporter})
        if language:
            user.language = language
            user.save(update_fields=["language"])
        return invitation_send(user=user, invited_by=invited_by)


def supporter_retire(*, supporter):
    """A supporter who retires leaves the directory and loses their login, together."""
    with transaction.atomic():
        supporter.listed = False
        supporter.save(update_fields=["listed", "updated_at"])
        if supporter.account_id:
            User.objects.filter(pk=supporter.account_id).update(is_active=False)
            Invitation.objects.filter(user_id=supporter.account_id, used_at__isnull=True).update(used_at=timezone.now())
