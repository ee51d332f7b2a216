from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("endpoints", "0004_endpoint_tags"),
    ]

    operations = [
        migrations.AddField(
            model_name="endpoint",
            name="inference_components",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="The inference components an endpoint without model variants hosts.",
            ),
        ),
    ]
