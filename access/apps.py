from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = _("API access")

    def ready(self):
        from django.db.models.signals import post_migrate

        from access import history, schema, signin  # noqa: F401  (signal receivers, OpenAPI extension)
        from access.groups import on_post_migrate

        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="access.staff_groups")
