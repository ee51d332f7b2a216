from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="AuditEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("time", models.DateTimeField(db_index=True)),
                ("actor_id", models.BigIntegerField(blank=True, null=True)),
                ("username", models.CharField(db_index=True, max_length=150)),
                ("action", models.CharField(db_index=True, max_length=100)),
                ("target", models.CharField(max_length=512)),
                ("before", models.JSONField(blank=True, null=True)),
                ("after", models.JSONField(blank=True, null=True)),
                (
                    "outcome",
                    models.CharField(
                        choices=[("ok", "ok"), ("denied", "denied"), ("failed", "failed")],
                        default="ok",
                        max_length=10,
                    ),
                ),
                ("error", models.TextField(blank=True)),
                ("request_id", models.CharField(blank=True, max_length=64)),
                ("source_ip", models.GenericIPAddressField(blank=True, null=True)),
                ("user_agent", models.CharField(blank=True, max_length=512)),
                ("prev_hash", models.CharField(max_length=64)),
                ("hash", models.CharField(max_length=64)),
            ],
            options={
                "verbose_name_plural": "audit entries",
                "ordering": ["-id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("outcome__in", ["ok", "denied", "failed"])),
                        name="audit_entry_outcome_valid",
                    ),
                    models.UniqueConstraint(
                        fields=("prev_hash",), name="audit_entry_prev_hash_unique"
                    ),
                    models.UniqueConstraint(fields=("hash",), name="audit_entry_hash_unique"),
                ],
            },
        ),
    ]
