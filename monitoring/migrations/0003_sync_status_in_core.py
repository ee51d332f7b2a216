"""The alarm and Model Monitor syncs' health moves to core's SyncStatus (kinds "alarms"
and "model_monitor"), beside every other sync's, so one banner reads them all."""

from django.db import migrations


def copy_statuses(apps, schema_editor):
    SyncStatus = apps.get_model("core", "SyncStatus")
    for model, kind in (("AlarmSyncStatus", "alarms"), ("MonitorSyncStatus", "model_monitor")):
        for old in apps.get_model("monitoring", model).objects.all():
            SyncStatus.objects.update_or_create(
                kind=kind,
                target=old.target,
                region=old.region,
                defaults={
                    "last_success_at": old.last_success_at,
                    "failing_since": old.failing_since,
                    "last_error": old.last_error,
                },
            )


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0002_model_monitor"),
        ("core", "0002_sync_status"),
    ]

    # Going back recreates empty tables: the next syncs fill them.
    operations = [
        migrations.RunPython(copy_statuses, migrations.RunPython.noop),
        migrations.DeleteModel(name="AlarmSyncStatus"),
        migrations.DeleteModel(name="MonitorSyncStatus"),
    ]
