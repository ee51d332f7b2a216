"""Whether CloudTrail ingestion works moves to core's SyncStatus (kind "cloudtrail"),
beside every other sync's; the cursor keeps only where ingestion stands."""

from django.db import migrations


def copy_health(apps, schema_editor):
    IngestCursor = apps.get_model("apihistory", "IngestCursor")
    SyncStatus = apps.get_model("core", "SyncStatus")
    for cursor in IngestCursor.objects.all():
        SyncStatus.objects.update_or_create(
            kind="cloudtrail",
            target=cursor.target,
            region=cursor.region,
            defaults={
                "last_attempt_at": cursor.last_run_at,
                "last_success_at": cursor.last_success_at,
                "failing_since": cursor.failing_since,
                "last_error": cursor.last_error,
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("apihistory", "0002_search_words_index"),
        ("core", "0002_sync_status"),
    ]

    operations = [
        migrations.RunPython(copy_health, migrations.RunPython.noop),
        migrations.RemoveField(model_name="ingestcursor", name="failing_since"),
        migrations.RemoveField(model_name="ingestcursor", name="last_error"),
        migrations.RemoveField(model_name="ingestcursor", name="last_success_at"),
    ]
