"""Two staff groups with ready permissions: "Operadores" edit companies and books, "Leitores"
only read them (access.groups)."""

from django.db import migrations

from access.groups import GROUPS, ensure_staff_groups


def create_groups(apps, schema_editor):
    ensure_staff_groups(apps, using=schema_editor.connection.alias)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.using(schema_editor.connection.alias).filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0002_sessioncutoff_signinrecord"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("companies", "0006_nested_list_validators"),
        ("books", "0005_drop_unused_filter_indexes"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
