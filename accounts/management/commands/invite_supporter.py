from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import InvitationError, supporter_invite
from directory.models import PeerSupporter


class Command(BaseCommand):
    help = "E-mail a peer supporter a one-time link (valid 7 days) to set the password of their account."

    def add_arguments(self, parser):
        parser.add_argument("email", help="The e-mail address of the supporter's listing.")
        parser.add_argument("--language", choices=User.Language.values, help="Language of the e-mail (nb or en).")

    def handle(self, *args, email, language, **options):
        supporters = list(PeerSupporter.objects.filter(email__iexact=email.strip()).select_related("account"))
        if not supporters:
            raise CommandError(f"No supporter in the roster has the e-mail address {email}.")
        if len(supporters) > 1:
            raise CommandError(f"{len(supporters)} supporters share the e-mail address {email}; fix the roster first.")
        try:
            invitation = supporter_invite(supporter=supporters[0], language=language)
        except InvitationError as error:
            raise CommandError(str(error)) from error
        except OSError as error:
            raise CommandError(f"The e-mail could not be sent ({error}); nothing was changed.") from error
        expires = invitation.expires_at.strftime("%Y-%m-%d %H:%M")
        self.stdout.write(self.style.SUCCESS(f"Invitation sent to {email}; the link works until {expires}."))
