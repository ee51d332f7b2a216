"""The four role groups (see core.roles): membership is what grants a role."""

from django.db import migrations

ROLE_GROUP_NAMES = ["Viewer", "Operator", "Approver", "Admin"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLE_GROUP_NAMES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    # Reversing keeps the groups: dropping them would silently strip everyone's role.
    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
