"""API authentication: `X-API-Key` for services, `Authorization: Bearer <JWT>` for people (and the
admin's session, for staff, where an admin page reads the API)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from rest_framework import authentication, exceptions
from rest_framework_simplejwt import authentication as jwt_authentication

from access import key_records
from access.actor import set_actor, user_label
from access.models import ServiceAPIKey

logger = logging.getLogger(__name__)
ENV_KEY_NAME = "API_KEY"


def _load_record(prefix: str) -> dict | None:
    return ServiceAPIKey.objects.get_usable_keys().filter(prefix=prefix).values(*key_records.FIELDS).first()


@dataclass(frozen=True)
class ServicePrincipal:
    """The caller behind an API key. Stands in for `request.user` on key-authenticated calls."""

    name: str
    read_only: bool = False
    key_id: str | None = None  # the key's prefix

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    is_anonymous = False
    pk = None

    def get_username(self) -> str:
        return self.name

    def __str__(self) -> str:
        return f"api_key:{self.name}"


class APIKeyAuthentication(authentication.BaseAuthentication):
    header = "HTTP_X_API_KEY"

    def authenticate(self, request):
        key = request.META.get(self.header, "").strip()
        if not key:
            return None
        principal = self._principal_for(key)
        set_actor(str(principal))
        return principal, principal

    def _principal_for(self, key: str) -> ServicePrincipal:
        if settings.API_KEY and constant_time_compare(key, settings.API_KEY):
            return ServicePrincipal(name=ENV_KEY_NAME)
        prefix, dot, _ = key.partition(".")
        record = key_records.record(prefix, _load_record) if dot and prefix else None
        if (
            record is None
            or not ServiceAPIKey.objects.key_generator.verify(key, record["hashed_key"])
            or (record["expiry_date"] is not None and record["expiry_date"] < timezone.now())
        ):
            raise exceptions.AuthenticationFailed("Invalid, revoked or expired API key.", "invalid_api_key")
        return ServicePrincipal(name=record["name"], read_only=record["read_only"], key_id=prefix)

    def authenticate_header(self, request):
        return "X-API-Key"


class JWTAuthentication(jwt_authentication.JWTAuthentication):
    """simplejwt's authentication, recording the user as the actor of what follows."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            set_actor(user_label(result[0]))
        return result


class StaffSessionAuthentication(authentication.SessionAuthentication):
    """The admin's session cookie, for active staff whose session passed the admin's second-factor
    rule, so the admin's own pages can read the API (an import's progress polls the task status).
    DRF's SessionAuthentication enforces CSRF on unsafe methods; anyone else is simply not
    authenticated by it."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        from access.admin_views import second_factor_satisfied

        user = result[0]
        if not user.is_staff or not second_factor_satisfied(user):
            return None
        return result
