from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = "API access"

    def ready(self):
        from access import history, schema, signin  # noqa: F401  (signal receivers, OpenAPI extension)
