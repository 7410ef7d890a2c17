"""API keys in the admin: created here (the key is shown once), revoked, expired, read-only."""

from django.contrib import admin
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from access.models import ServiceAPIKey

# The library's own concrete model is unused: keys are ServiceAPIKey (with the read-only flag).
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


@admin.register(ServiceAPIKey)
class ServiceAPIKeyAdmin(APIKeyModelAdmin):
    list_display = [*APIKeyModelAdmin.list_display, "read_only"]
    list_filter = [*APIKeyModelAdmin.list_filter, "read_only"]
