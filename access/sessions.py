"""Staff sessions that end: after `SESSION_IDLE_MINUTES` without a request (8 hours), after
`SESSION_MAX_HOURS` whatever happens (12 hours), and everywhere at once when an administrator
signs a user out ("sign out everywhere": their sessions end and their refresh tokens are
blacklisted; access tokens already handed out live at most JWT_ACCESS_MINUTES more)."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.utils import timezone
from django.utils.translation import gettext as _

from access.signin import SESSION_LAST_SEEN, SESSION_SIGNED_IN_AT

# The last-seen time is written at most this often (a session save per request is wasted work).
TOUCH_SECONDS = 60


def sign_out_everywhere(user) -> int:
    """End every session of `user` and blacklist their refresh tokens. Returns the number of
    refresh tokens blacklisted."""
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

    from access.models import SessionCutoff

    SessionCutoff.objects.update_or_create(user=user, defaults={"signed_out_at": timezone.now()})
    blacklisted = 0
    for token in OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now()):
        _, created = BlacklistedToken.objects.get_or_create(token=token)
        blacklisted += created
    return blacklisted


def _cutoff(user) -> float | None:
    from access.models import SessionCutoff

    found = SessionCutoff.objects.filter(user=user).values_list("signed_out_at", flat=True).first()
    return found.timestamp() if found else None


def session_expired(request, now: float | None = None) -> str | None:
    """Why this session is over (a message), or None."""
    now = time.time() if now is None else now
    session = request.session
    signed_in_at = session.get(SESSION_SIGNED_IN_AT)
    last_seen = session.get(SESSION_LAST_SEEN, signed_in_at)
    if signed_in_at is None:  # a session from before these rules: it starts now
        session[SESSION_SIGNED_IN_AT] = session[SESSION_LAST_SEEN] = now
        return None
    if now - signed_in_at > settings.SESSION_MAX_HOURS * 3600:
        return _("Your session reached its maximum length. Please sign in again.")
    if last_seen is not None and now - last_seen > settings.SESSION_IDLE_MINUTES * 60:
        return _("Your session ended after a period without activity. Please sign in again.")
    cutoff = _cutoff(request.user)
    if cutoff is not None and signed_in_at < cutoff:
        return _("Your sessions were ended by an administrator. Please sign in again.")
    # Rewritten at most every minute, and well within the idle time however short it is.
    if last_seen is None or now - last_seen > min(TOUCH_SECONDS, settings.SESSION_IDLE_MINUTES * 60 / 4):
        session[SESSION_LAST_SEEN] = now
    return None


class SessionExpiryMiddleware:
    """After AuthenticationMiddleware: ends sessions that are idle, too old, or signed out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            reason = session_expired(request)
            if reason:
                logout(request)
                messages.warning(request, reason)
        return self.get_response(request)
