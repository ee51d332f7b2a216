"""The inventory sync's health moves to core's SyncStatus (kind "inventory"), beside every
other sync's, so one banner reads them all."""

from django.db import migrations


def copy_states(apps, schema_editor):
    SyncState = apps.get_model("endpoints", "SyncState")
    SyncStatus = apps.get_model("core", "SyncStatus")
    for state in SyncState.objects.all():
        SyncStatus.objects.update_or_create(
            kind="inventory",
            target=state.target,
            region=state.region,
            defaults={
                "last_attempt_at": state.last_attempt_at,
                "last_success_at": state.last_success_at,
                "failing_since": state.failing_since,
                "last_error_kind": state.last_error_kind,
                "last_error": state.last_error,
                "detail": {
                    "endpoints": state.endpoints_seen,
                    "described": state.last_describe_count,
                },
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("endpoints", "0002_endpoint_snapshot"),
        ("core", "0002_sync_status"),
    ]

    # Going back recreates an empty table: the next sync fills it within a minute.
    operations = [
        migrations.RunPython(copy_states, migrations.RunPython.noop),
        migrations.DeleteModel(name="SyncState"),
    ]
