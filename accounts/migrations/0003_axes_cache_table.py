"""The database table that counts failed logins when no Redis is configured (see CACHES in settings)."""

from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_user_language_invitation")]

    operations = [migrations.RunPython(create_cache_tables, migrations.RunPython.noop)]
