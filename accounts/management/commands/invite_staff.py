from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import StaffRole, User
from accounts.services import invitation_send


class Command(BaseCommand):
    help = (
        "E-mail a staff member a one-time link (valid 7 days) to choose a password and set up their second factor. "
        "An address without an account gets a new national administrator account: the way to the first one."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="The staff member's e-mail address.")
        parser.add_argument("--name", default="", help="The name of a new account.")
        parser.add_argument("--language", choices=User.Language.values, help="Language of the e-mail (nb or en).")

    def handle(self, *args, email, name, language, **options):
        email = User.objects.normalize_email(email.strip())
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User(email=email, name=name, role=StaffRole.ADMINISTRATOR, language=language or User.Language.NB)
            user.set_unusable_password()
        elif not user.is_staff:
            raise CommandError(f"The account {user.email} has no staff role; give it one in the admin first.")
        elif not user.is_active:
            raise CommandError(f"The account {user.email} is deactivated.")
        elif language:
            user.language = language
        try:
            invitation = self.invite(user)
        except OSError as error:
            raise CommandError(f"The e-mail could not be sent ({error}); nothing was changed.") from error
        expires = invitation.expires_at.strftime("%Y-%m-%d %H:%M")
        self.stdout.write(self.style.SUCCESS(f"Invitation sent to {user.email}; the link works until {expires}."))

    def invite(self, user):
        """The account (new, or with a new language) and its invitation are kept only if the e-mail went out."""
        with transaction.atomic():
            user.save()
            return invitation_send(user=user)
