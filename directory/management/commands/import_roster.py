import sys

from django.core.management.base import BaseCommand, CommandError

from directory.backup import KINDS, BackupError, backup_check, backup_load, backup_read


class Command(BaseCommand):
    help = """Restore a roster file written by export_roster into a new, empty database: create the database, run
manage.py migrate on it, then this. It refuses a database that already holds a roster, and a file from another
schema, and loads everything in one transaction: all of it, or nothing. Logins in progress are not restored:
everyone logs in again, with the same password and second factor."""
    # Tests hand the command a stream to read "-" from.
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("file", help="The file export_roster wrote, or - to read it from standard input.")

    def handle(self, *args, file, stdin=None, **options):
        name = "standard input" if file == "-" else file
        try:
            document = backup_read(read(file, stdin or sys.stdin))
            backup_check(document)
            counts = backup_load(document)
        except BackupError as error:
            raise CommandError(f"Cannot restore {name}: {error}. Nothing was loaded.") from error
        written = document.get("exported_at", "?")
        self.stdout.write(f"Restored {sum(counts.values())} rows from {name} (exported {written}):")
        width = len(str(max(counts.values())))
        for label, count in counts.items():
            self.stdout.write(f"  {count:>{width}} {KINDS[label]}")
        self.stdout.write(self.style.SUCCESS("Done. Everyone logs in again: logins in progress are not restored."))


def read(file, stdin):
    try:
        if file == "-":
            return stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read()
        with open(file, "rb") as source:
            return source.read()
    except OSError as error:
        raise BackupError(f"it cannot be read ({error.strerror or error})") from error
