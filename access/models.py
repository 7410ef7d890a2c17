"""API keys for services: hashed, named, optionally expiring, optionally read-only."""

from django.db import models
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager


class ServiceAPIKey(AbstractAPIKey):
    read_only = models.BooleanField(
        default=False, help_text="Read-only keys may use GET, HEAD and OPTIONS only."
    )

    objects = BaseAPIKeyManager()

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"
