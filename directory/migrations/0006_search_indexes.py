from django.db import migrations, models

# PostgreSQL only: a trigram index on the folded search text, so that the free text (search_text LIKE '%word%', one
# condition per word; see PeerSupporterQuerySet.matching_text) finds its rows through the index instead of reading
# every supporter. pg_trgm is a trusted extension: the database owner may create it. SQLite has neither, and needs
# nothing: these steps do nothing there.
TRIGRAM_SQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS supporter_search_text_trgm ON directory_peersupporter "
    "USING gin (search_text gin_trgm_ops)",
]
TRIGRAM_REVERSE_SQL = ["DROP INDEX IF EXISTS supporter_search_text_trgm"]


def on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0005_translated_labels"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="peersupporter",
            index=models.Index(fields=["listed", "municipality"], name="supporter_listed_municipality"),
        ),
        migrations.RunPython(on_postgresql(TRIGRAM_SQL), on_postgresql(TRIGRAM_REVERSE_SQL), elidable=False),
    ]
