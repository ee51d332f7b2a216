"""Refuse UPDATE and DELETE on audit rows in the database itself, not only in the ORM."""

from django.db import migrations

from audit.triggers import append_only_triggers_install, append_only_triggers_remove


def install(apps, schema_editor):
    append_only_triggers_install(connection=schema_editor.connection)


def remove(apps, schema_editor):
    append_only_triggers_remove(connection=schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
