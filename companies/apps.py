from django.apps import AppConfig


class CompaniesConfig(AppConfig):
    name = "companies"
    verbose_name = "Companies"

    def ready(self):
        from companies import checks  # noqa: F401 - registers the system checks
