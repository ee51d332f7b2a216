"""Word search over a million events must answer in milliseconds: on PostgreSQL a GIN
index on the array of stored words serves "contains all these words" (apihistory/search.py).
SQLite (development) scans."""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS trail_search_words ON apihistory_trailevent "
    "USING gin (string_to_array(search_text, ' '))"
)
DROP = "DROP INDEX IF EXISTS trail_search_words"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("apihistory", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
