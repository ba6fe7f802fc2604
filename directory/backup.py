"""The whole roster as one JSON file: export_roster writes it, import_roster restores it into a new, empty database.

The file is one JSON object: a header, then "objects", the rows in Django's serialization format (what dumpdata
writes: model, pk, fields), one row per line:

    {"format": "peer-supporter-directory-roster", "version": 1, "exported_at": "2026-11-26T02:15:00.123456+00:00",
     "database": "postgresql", "migrations": ["accounts.0001_initial", ...], "counts": {"counties.county": 15, ...},
     "objects": [
    {"model": "counties.county", "pk": 1, "fields": {"number": "03", "name": "Oslo", ...}},
    ...
    ]}

Rows keep their ids. Supporters' ids are in their public addresses and decide the daily order, and the change
history names supporters, accounts and counties by id, including rows deleted since; a natural key would lose both.
Only content types and permissions are named by natural key: migrate makes them, with ids that differ from one
database to another. Datetimes keep their microseconds (Django's JSON encoder keeps milliseconds only).

"migrations" lists the migrations applied to the database that wrote the file; a file is restored only into a
database at exactly that schema, so that no data migration is skipped or run twice. "counts" tells a file that was
cut short or edited by hand from a whole one.

The import does what loaddata does (one transaction, constraints checked once every row is in, sequences reset
afterwards), and also: it writes no change history of its own (the history is in the file; loaddata would add a
record for every supporter whose specialties or languages it sets), and it replaces the counties, municipalities,
specialties and languages that migrate seeded with the file's own, ids and staff's edits included (it restores only
into a database without a roster, so nothing refers to them yet). Its writes go through the roster watch of
directory/cache.py like any other, so every cached public page is obsolete once it commits.
"""

import datetime
import itertools
import json
from collections import Counter

from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.management.color import no_style
from django.core.serializers import python
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

FORMAT = "peer-supporter-directory-roster"
VERSION = 1
BATCH_SIZE = 2000
# What a roster file holds, in the order it is written and loaded, each with the words of the import's summary.
# A new model belongs either here or in LEFT_OUT (tests/test_backup.py checks).
KINDS = {
    "counties.county": "counties",
    "counties.municipality": "municipalities",
    "directory.specialty": "specialties",
    "directory.language": "languages",
    "auth.group": "permission groups",
    "accounts.user": "user accounts (with password hashes, staff roles and counties)",
    "otp_totp.totpdevice": "authenticator apps",
    "otp_static.staticdevice": "recovery code sets",
    "otp_static.statictoken": "recovery codes",
    "accounts.invitation": "invitations (their links stored hashed)",
    "directory.peersupporter": "peer supporters (with specialties and languages)",
    "directory.reminder": "reminders sent",
    "training.trainingmeeting": "training meetings",
    "training.attendance": "training attendances",
    "tallies.closedmonth": "closed months",
    "tallies.monthlytally": "monthly counts",
    "admin.logentry": "admin log entries",
    "counties.historicalcounty": "history records of counties",
    "directory.historicalpeersupporter": "history records of supporters",
    "directory.historicalpeersupporter_specialties": "history records of supporters' specialties",
    "directory.historicalpeersupporter_languages": "history records of supporters' languages",
    "training.historicaltrainingmeeting": "history records of training meetings",
    "training.historicalattendance": "history records of attendances",
    "tallies.historicalclosedmonth": "history records of closed months",
}
# Seeded by migrate in every new database, and replaced by the file's own rows.
REFERENCE = ["counties.municipality", "counties.county", "directory.specialty", "directory.language"]
LEFT_OUT = {
    "sessions.session": "logins in progress: after a restore everyone logs in again",
    "contenttypes.contenttype": "made by migrate; the file names them by natural key",
    "auth.permission": "made by migrate; the file names them by natural key",
    "axes.accessattempt": "failed logins are counted in the cache (AXES_HANDLER), never in this table",
    "axes.accessattemptexpiration": "failed logins are counted in the cache (AXES_HANDLER), never in this table",
    "axes.accessfailurelog": "failed logins are counted in the cache (AXES_HANDLER), never in this table",
    "axes.accesslog": "failed logins are counted in the cache (AXES_HANDLER), never in this table",
}
# Made by migrate, with ids that differ between databases: named by natural key.
MADE_BY_MIGRATE = (ContentType, Permission)


class BackupError(Exception):
    """A roster file that cannot be written or restored. The message is one line, for the person restoring."""


class RosterSerializer(python.Serializer):
    """Django's serializer, naming rows by id except content types and permissions, named by natural key."""

    def handle_fk_field(self, obj, field):
        self.use_natural_foreign_keys = field.related_model in MADE_BY_MIGRATE
        super().handle_fk_field(obj, field)

    def handle_m2m_field(self, obj, field):
        self.use_natural_foreign_keys = field.related_model in MADE_BY_MIGRATE
        super().handle_m2m_field(obj, field)


class Encoder(DjangoJSONEncoder):
    """Django's JSON encoder, except that datetimes keep their microseconds, so that a restore is exact."""

    def default(self, o):
        if isinstance(o, datetime.datetime):
            return o.isoformat()
        return super().default(o)


def one_line(error):
    text = " ".join(str(error).split())
    return text if len(text) <= 300 else f"{text[:300]}…"


def applied_migrations(connection):
    """The migrations applied to the database, of the apps whose rows a roster file holds, as "app.name"."""
    app_labels = {label.split(".")[0] for label in KINDS}
    applied = MigrationRecorder(connection).applied_migrations()
    return {f"{app}.{name}" for app, name in applied if app in app_labels}


def rows_to_write(label, using):
    model = apps.get_model(label)
    linked = [field.name for field in model._meta.many_to_many if field.remote_field.through._meta.auto_created]
    return model._base_manager.using(using).order_by("pk").prefetch_related(*linked)


# Writing


def backup_write(*, out, using=DEFAULT_DB_ALIAS):
    """Write the roster file to the text stream out, from one consistent view of the database; return the counts."""
    connection = connections[using]
    try:
        outermost = not connection.in_atomic_block
        with transaction.atomic(using=using):
            if outermost and connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    # Every table as of one moment, while the site keeps writing; and certainly no write of ours.
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            # (SQLite's transaction holds writers back for the second or so this takes: the same one moment.)
            rows = {label: rows_to_write(label, using) for label in KINDS}
            counts = {label: queryset.count() for label, queryset in rows.items()}
            header = {
                "format": FORMAT,
                "version": VERSION,
                "exported_at": timezone.now().isoformat(),
                "database": connection.vendor,
                "migrations": sorted(applied_migrations(connection)),
                "counts": counts,
            }
            # Every write ends a line (a management command's stdout would end it otherwise).
            out.write(json.dumps(header, indent=1)[:-2] + ',\n "objects": [\n')
            line = None
            for queryset in rows.values():
                for batch in itertools.batched(queryset.iterator(chunk_size=BATCH_SIZE), BATCH_SIZE, strict=False):
                    for item in RosterSerializer().serialize(batch, use_natural_foreign_keys=True):
                        if line:
                            out.write(f"{line},\n")
                        line = json.dumps(item, cls=Encoder, ensure_ascii=False)
            out.write(f"{line}\n]}}\n" if line else "]}\n")
    except DatabaseError as error:
        raise BackupError(f"the database could not be read ({one_line(error)})") from error
    return counts


# Restoring


def backup_read(data):
    """The roster file's contents (bytes or text) as a document, checked as far as can be without a database."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BackupError("it is not UTF-8 text (if it is compressed or encrypted, unpack it first)") from None
    try:
        document = json.loads(data)
    except json.JSONDecodeError as error:
        raise BackupError(
            f"it is not complete JSON ({error.msg}: line {error.lineno}, column {error.colno}), so probably cut short"
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BackupError("it is not a roster file written by export_roster")
    version = document.get("version")
    if version != VERSION:
        if isinstance(version, int) and version > VERSION:
            raise BackupError(f"it is in format version {version}, from a newer release; this one reads version 1")
        raise BackupError(f"its format version {version!r} is not one this release reads (version {VERSION})")
    objects, counts, migrations = document.get("objects"), document.get("counts"), document.get("migrations")
    if (
        not isinstance(objects, list)
        or not isinstance(counts, dict)
        or not isinstance(migrations, list)
        or not all(isinstance(item, dict) and isinstance(item.get("model"), str) for item in objects)
    ):
        raise BackupError("its header or its list of rows is damaged")
    found = Counter(item["model"] for item in objects)
    if unknown := sorted(set(found) - set(KINDS)):
        raise BackupError(f"it holds rows of {', '.join(unknown)}, which a roster file never does")
    for label, kind in KINDS.items():
        if counts.get(label, 0) != found[label]:
            raise BackupError(f"it says it holds {counts.get(label, 0)} {kind} but holds {found[label]}; it is damaged")
    return document


def backup_check(document, *, using=DEFAULT_DB_ALIAS):
    """Refuse a database at another schema than the file's, or one that already holds a roster."""
    connection = connections[using]
    here, theirs = applied_migrations(connection), set(document["migrations"])
    if not here:
        raise BackupError("the database has not been migrated: run manage.py migrate on it first")
    if newer := sorted(theirs - here):
        more = f" and {len(newer) - 1} more" if len(newer) > 1 else ""
        raise BackupError(
            f"it was written by a newer release: migration {newer[0]}{more} is not applied to this database; "
            "restore it with that release or a later one, after manage.py migrate"
        )
    if older := sorted(here - theirs):
        steps = []
        for app in sorted({name.split(".")[0] for name in older}):
            last = max((name.split(".")[1] for name in theirs if name.split(".")[0] == app), default="zero")
            steps.append(f"manage.py migrate {app} {last}")
        raise BackupError(
            f"it was written before migration {older[0]}: restore it into a new database migrated to the file's "
            f"schema ({'; '.join(steps)}), then run manage.py migrate"
        )
    present = [
        f"{count} {KINDS[label].split(' (')[0]}"
        for label in KINDS
        if label not in REFERENCE and (count := apps.get_model(label)._base_manager.using(using).count())
    ]
    if present:
        raise BackupError(
            f"the database already holds a roster ({', '.join(present)}); import_roster restores only into a new, "
            "empty database (create one and run manage.py migrate on it)"
        )


def backup_load(document, *, using=DEFAULT_DB_ALIAS):
    """Load the document's rows in one transaction: all of them, or none. Return how many of each kind."""
    connection = connections[using]
    models = [apps.get_model(label) for label in KINDS]
    loaded = Counter()
    try:
        with transaction.atomic(using=using):
            for label in REFERENCE:
                apps.get_model(label)._base_manager.using(using).all().delete()
            # Deleting the seeded counties wrote history; the database had none before (backup_check).
            apps.get_model("counties.historicalcounty")._base_manager.using(using).all().delete()
            with connection.constraint_checks_disabled():
                deferred = []
                for row in serializers.deserialize(
                    "python", document["objects"], using=using, handle_forward_references=True
                ):
                    # The history is in the file: restoring writes none (simple_history checks this attribute).
                    row.object.skip_history_when_saving = True
                    # The tables are empty: nothing to update, so no UPDATE tried first.
                    row.save(using=using, force_insert=True)
                    if row.deferred_fields:
                        deferred.append(row)
                    loaded[row.object._meta.label_lower] += 1
                for row in deferred:
                    row.save_deferred_fields(using=using)
            connection.check_constraints(table_names=[model._meta.db_table for model in models])
            # The next row added gets the next id, not one the file used (PostgreSQL; SQLite needs nothing).
            with connection.cursor() as cursor:
                for statement in connection.ops.sequence_reset_sql(no_style(), models):
                    cursor.execute(statement)
    except Exception as error:
        raise BackupError(f"it could not be loaded ({one_line(error)})") from error
    return {label: loaded[label] for label in KINDS}
