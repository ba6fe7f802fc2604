import contextlib
import os
import tempfile

from django.core.management.base import BaseCommand, CommandError

from directory.backup import BackupError, backup_write


class Command(BaseCommand):
    help = """Write the whole roster to one JSON file, to restore with import_roster: counties, municipalities,
specialties and languages; every supporter, listed or not, with their specialties and languages; training meetings
and attendance; monthly counts and closed months; reminders sent; user accounts with their password hashes, staff
roles, counties and second-factor devices; invitations; the admin log and the change history. Logins in progress
and failed-login counts are left out. THE FILE HOLDS PERSONAL DATA AND PASSWORD HASHES: keep it encrypted, where only
those who run the service can read it. With --output it is created readable by its owner only (mode 0600)."""

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            "-o",
            metavar="FILE",
            help="Write to FILE (mode 0600; it replaces FILE only once complete) instead of standard output.",
        )

    def handle(self, *args, output=None, **options):
        if output is None:
            try:
                backup_write(out=self.stdout)
            except BackupError as error:
                raise CommandError(f"Cannot export the roster: {error}.") from error
            return
        try:
            counts = write_file(output)
        except BackupError as error:
            raise CommandError(f"Cannot export the roster: {error}. {output} was left as it was.") from error
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror or error}.") from error
        supporters, accounts = counts["directory.peersupporter"], counts["accounts.user"]
        self.stdout.write(
            f"Wrote {sum(counts.values())} rows to {output} (peer supporters: {supporters}, user accounts: "
            f"{accounts}). It holds personal data and password hashes: keep it encrypted."
        )


def write_file(path):
    """Write the roster to path through a file of mode 0600 beside it, put in its place only once complete."""
    folder = os.path.dirname(os.path.abspath(path))
    descriptor, partial = tempfile.mkstemp(dir=folder, prefix=".roster-", suffix=".partial")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            counts = backup_write(out=out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise
    return counts
