"""The back office's admin site: Django's, with a tidy index. The framework's internal models
(token blacklist, periodic-task schedules, task results, second-factor devices) are grouped in
one "System" section ("Sistema" in Portuguese), shown to superusers only; staff see the data they
work on, with the dashboard's figures above it (config.dashboard)."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

# Django's own admin messages, worded here again so that the Portuguese catalogue can say them without
# a gender: Django's translation puts "O" before every model name ("O empresa ... foi alterado").
# Translations in locale/pt_BR take precedence over Django's.
ADMIN_MESSAGES = (
    gettext_noop("The {name} “{obj}” was added successfully."),
    gettext_noop("The {name} “{obj}” was added successfully. You may add another {name} below."),
    gettext_noop("The {name} “{obj}” was changed successfully."),
    gettext_noop("The {name} “{obj}” was changed successfully. You may edit it again below."),
    gettext_noop("The {name} “{obj}” was changed successfully. You may add another {name} below."),
)

SYSTEM_APPS = frozenset({"token_blacklist", "django_celery_beat", "django_celery_results", "otp_static", "otp_totp"})


class BackOfficeSite(admin.AdminSite):
    site_header = _("Companies & Books back office")
    site_title = _("Back office")
    index_title = _("Administration")

    def index(self, request, extra_context=None):
        from config.dashboard import dashboard_for  # imports the models: not before the apps are ready

        context = {**(extra_context or {}), "dashboard": dashboard_for(request, self)}
        return super().index(request, context)

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        if app_label is not None:
            return apps
        kept = [app for app in apps if app["app_label"] not in SYSTEM_APPS]
        internal = [model for app in apps if app["app_label"] in SYSTEM_APPS for model in app["models"]]
        if internal and request.user.is_superuser:
            kept.append(
                {
                    "name": _("System"),
                    "app_label": "sistema",
                    "app_url": "",
                    "has_module_perms": True,
                    "models": sorted(internal, key=lambda model: str(model["name"])),
                }
            )
        return kept


class BackOfficeAdminConfig(AdminConfig):
    default_site = "config.admin.BackOfficeSite"
