"""API keys for services: hashed, named, optionally expiring, optionally read-only."""

from django.db import models
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager


def _changed(prefixes) -> None:
    # Cached key records (access.authentication) must not outlive any change to the key.
    from access.authentication import api_keys_changed

    api_keys_changed(prefixes)


class ServiceAPIKeyQuerySet(models.QuerySet):
    """Bulk updates and deletes also retire the cached records of the keys they touch."""

    def update(self, **kwargs):
        _changed(self.values_list("prefix", flat=True))
        return super().update(**kwargs)

    def delete(self):
        _changed(self.values_list("prefix", flat=True))
        return super().delete()


class ServiceAPIKey(AbstractAPIKey):
    read_only = models.BooleanField(
        default=False, help_text="Read-only keys may use GET, HEAD and OPTIONS only."
    )

    objects = BaseAPIKeyManager.from_queryset(ServiceAPIKeyQuerySet)()

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"

    def save(self, *args, **kwargs):
        if not self._state.adding:  # a new key has no cached record to retire
            _changed([self.prefix])
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _changed([self.prefix])
        return super().delete(*args, **kwargs)
