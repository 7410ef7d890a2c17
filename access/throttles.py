"""Request rate limits, counted in the shared cache (Redis) so every web process agrees.

Rates come from settings.API_THROTTLE_RATES (environment: THROTTLE_RATE_*), read at request
time. When Redis is down the cache ignores errors and requests are not throttled.
"""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from access.authentication import ServicePrincipal


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self):
        return settings.API_THROTTLE_RATES.get(self.scope)


class APIKeyThrottle(_SettingsRateThrottle):
    """Per API key."""

    scope = "api_key"

    def get_cache_key(self, request, view):
        if not isinstance(request.user, ServicePrincipal):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.key_id or request.user.name}


class UserThrottle(_SettingsRateThrottle):
    """Per JWT user."""

    scope = "user"

    def get_cache_key(self, request, view):
        user = request.user
        if isinstance(user, ServicePrincipal) or not (user and user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}


class AnonThrottle(_SettingsRateThrottle):
    """Per client address, for requests without valid credentials."""

    scope = "anon"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginAddressThrottle(_SettingsRateThrottle):
    """Token endpoint, per client address: slows down password guessing from one place."""

    scope = "login_address"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginUsernameThrottle(_SettingsRateThrottle):
    """Token endpoint, per username: slows down guessing one account's password from many places."""

    scope = "login_username"

    def get_cache_key(self, request, view):
        username = request.data.get("username") if hasattr(request.data, "get") else None
        if not isinstance(username, str) or not username:
            return None
        return self.cache_format % {"scope": self.scope, "ident": username.strip().lower()[:150]}
