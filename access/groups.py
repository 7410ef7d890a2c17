"""The two ready staff groups: "Operadores" edit companies and books, "Leitores" only read them.
Created by a data migration (access 0003) and kept after `manage.py flush` (post_migrate)."""

from django.contrib.auth.management import create_permissions

GROUPS = {
    "Operadores": ["add_company", "change_company", "view_company", "add_book", "change_book", "view_book"],
    "Leitores": ["view_company", "view_book"],
}


def ensure_staff_groups(apps, using: str = "default") -> None:
    """Create the groups (and the permissions they need, which on a fresh database appear only
    after every migration) if missing, and give them their permissions."""
    for label in ("companies", "books"):
        config = apps.get_app_config(label)
        config.models_module = getattr(config, "models_module", None) or True
        create_permissions(config, apps=apps, verbosity=0, using=using)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = group_model.objects.using(using).get_or_create(name=name)
        permissions = permission_model.objects.using(using).filter(
            content_type__app_label__in=["companies", "books"], codename__in=codenames
        )
        group.permissions.add(*permissions)


def on_post_migrate(sender, app_config=None, using="default", apps=None, **kwargs):
    """After `migrate` (with its historical apps) and after `flush` (which passes none)."""
    if app_config is not None and app_config.label == "access" and using != "mongo":
        from django.apps import apps as global_apps

        ensure_staff_groups(apps or global_apps, using=using)
