"""Refused sign-ins counted per login lock (see audit.models.LoginLockTally)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_append_only_triggers"),
    ]

    operations = [
        migrations.CreateModel(
            name="LoginLockTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "lock",
                    models.CharField(
                        help_text="core.login_limits key", max_length=600, unique=True
                    ),
                ),
                ("scope", models.CharField(max_length=32)),
                ("username", models.CharField(blank=True, max_length=255)),
                ("source_ip", models.GenericIPAddressField(blank=True, null=True)),
                (
                    "failures",
                    models.PositiveIntegerField(help_text="failures that started the lock"),
                ),
                ("locked_until", models.DateTimeField(db_index=True)),
                ("refusals", models.PositiveIntegerField(default=0)),
                (
                    "recorded",
                    models.PositiveIntegerField(default=0, help_text="refusals already in the log"),
                ),
                ("first_refused_at", models.DateTimeField(blank=True, null=True)),
                ("last_refused_at", models.DateTimeField(blank=True, null=True)),
            ],
        ),
    ]
