"""One table for the health of every sync of AWS data (see core.models.SyncStatus)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_role_groups"),
    ]

    operations = [
        migrations.CreateModel(
            name="SyncStatus",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("inventory", "Inventory"),
                            ("alarms", "CloudWatch alarms"),
                            ("model_monitor", "Model Monitor"),
                            ("cloudtrail", "CloudTrail history"),
                            ("transforms", "Batch transform jobs"),
                        ],
                        max_length=16,
                    ),
                ),
                ("target", models.CharField(help_text="OPSPORTAL_TARGETS name", max_length=32)),
                ("region", models.CharField(max_length=32)),
                ("last_attempt_at", models.DateTimeField(blank=True, null=True)),
                ("last_success_at", models.DateTimeField(blank=True, null=True)),
                ("failing_since", models.DateTimeField(blank=True, null=True)),
                (
                    "last_error_kind",
                    models.CharField(
                        blank=True,
                        help_text="AwsError class name, e.g. Unavailable, Throttled.",
                        max_length=32,
                    ),
                ),
                ("last_error", models.TextField(blank=True)),
                (
                    "detail",
                    models.JSONField(
                        blank=True,
                        default=dict,
                        help_text="What the last good run saw, e.g. counts.",
                    ),
                ),
            ],
            options={
                "ordering": ["kind", "target", "region"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("failing_since__isnull", False)),
                        fields=["failing_since"],
                        name="syncstatus_failing_idx",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("kind", "target", "region"), name="syncstatus_unique_per_region"
                    )
                ],
            },
        ),
    ]
