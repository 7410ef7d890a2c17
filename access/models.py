"""API keys for services (hashed, named, optionally expiring, optionally read-only); the record
of sign-ins; when a user's sessions were ended everywhere."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager

from access import key_records


class ServiceAPIKeyQuerySet(models.QuerySet):
    """Bulk updates and deletes also retire the key records this process keeps (access.key_records)."""

    def update(self, **kwargs):
        key_records.changed()
        return super().update(**kwargs)

    def delete(self):
        key_records.changed()
        return super().delete()


class ServiceAPIKey(AbstractAPIKey):
    read_only = models.BooleanField(
        _("read-only"), default=False, help_text=_("Read-only keys may use GET, HEAD and OPTIONS only.")
    )

    objects = BaseAPIKeyManager.from_queryset(ServiceAPIKeyQuerySet)()

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def save(self, *args, **kwargs):
        key_records.changed()  # a new key too: its prefix may be remembered as unknown
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        key_records.changed()
        return super().delete(*args, **kwargs)


class SignInRecord(models.Model):
    """One attempt to sign in, at the admin or at the API's token endpoint (never the password)."""

    class Door(models.TextChoices):
        ADMIN = "admin", _("admin")
        API = "api", _("API token")

    class Outcome(models.TextChoices):
        SUCCESS = "success", _("signed in")
        FAILURE = "failure", _("refused: wrong credentials")
        LOCKED = "locked", _("refused: locked out")

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    door = models.CharField(_("door"), max_length=10, choices=Door.choices)
    username = models.CharField(_("username"), max_length=150, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    address = models.GenericIPAddressField(_("client address"), null=True, blank=True, db_index=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("sign-in record")
        verbose_name_plural = _("sign-in records")

    def __str__(self):
        at = date_format(timezone.localtime(self.at), "DATETIME_FORMAT")
        return f"{at} {self.username} {self.get_outcome_display()}"


class SessionCutoff(models.Model):
    """Sessions of this user that began before `signed_out_at` are over ("sign out everywhere")."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_cutoff")
    signed_out_at = models.DateTimeField()

    def __str__(self):
        return f"{self.user} signed out everywhere at {self.signed_out_at:%Y-%m-%d %H:%M}"
