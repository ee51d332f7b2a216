"""Free-text search over a million events must answer in milliseconds: on PostgreSQL a
trigram GIN index serves `search_text LIKE '%word%'`. SQLite (development) scans."""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS trail_search_trgm ON apihistory_trailevent "
    "USING gin (search_text gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS trail_search_trgm"]


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("apihistory", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
