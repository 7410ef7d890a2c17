"""One sign-in policy for both doors: the admin's login page and `POST /api/auth/token/`.

Failed sign-ins are counted per username and per client address (core.clients: the address
after TRUSTED_PROXIES, never a raw header) in the shared cache (Redis), so every process agrees.
When either count reaches its limit (`SIGNIN_MAX_FAILURES_PER_USERNAME`, 5;
`SIGNIN_MAX_FAILURES_PER_ADDRESS`, 20) within `SIGNIN_LOCKOUT_MINUTES` (15), that username or
address is locked for `SIGNIN_LOCKOUT_MINUTES`: every attempt is refused before the password is
looked at, the right one included. Other usernames and addresses are unaffected. A successful
sign-in clears its username's count. Superusers lift a lockout in the admin (sign-in records,
users). If Redis is down nothing is counted and nobody is locked out (logged), as for throttles.

Every attempt is recorded (`SignInRecord`): time, door, username, address, user agent, outcome.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.utils import timezone

from core.clients import client_address
from core.outages import log_unavailable

logger = logging.getLogger(__name__)
PREFIX = "signin"


def _ident(username: str | None) -> str:
    """The username as the policy counts it: NFKC-normalised as Django's username field does
    (so a full-width spelling is the same user), without surrounding spaces, case-folded."""
    if not isinstance(username, str):
        return ""
    return unicodedata.normalize("NFKC", username).strip().lower()[:150]


def username_of(raw) -> str:
    """A submitted username as Django's forms and DRF clean it (for the record)."""
    return unicodedata.normalize("NFKC", raw).strip()[:150] if isinstance(raw, str) else ""


def _keys(kind: str, ident: str) -> tuple[str, str]:
    return f"{PREFIX}:fail:{kind}:{ident}", f"{PREFIX}:lock:{kind}:{ident}"


def _window() -> int:
    return max(1, int(settings.SIGNIN_LOCKOUT_MINUTES * 60))


@dataclass(frozen=True)
class Lockout:
    """Seconds left on a lockout (0: not locked)."""

    seconds: int

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.seconds / 60))

    def __bool__(self) -> bool:
        return self.seconds > 0


def lockout(*, username: str | None, address: str | None) -> Lockout:
    """Whether this username or this address is locked out now, and for how long."""
    keys = []
    if _ident(username):
        keys.append(_keys("username", _ident(username))[1])
    if address:
        keys.append(_keys("address", address)[1])
    if not keys:
        return Lockout(0)
    try:
        found = cache.get_many(keys)
    except Exception as error:  # the cache itself may raise when not ignoring errors
        log_unavailable(logger, "sign-in lockout unavailable, not enforced", error)
        return Lockout(0)
    until = max((float(value) for value in found.values()), default=0.0)
    return Lockout(max(0, math.ceil(until - time.time())))


def _count_failure(kind: str, ident: str, limit: int) -> None:
    from access.throttles import count_hit

    fail_key, lock_key = _keys(kind, ident)
    window = _window()
    count = count_hit(fail_key, window)
    if count is not None and count >= limit:
        cache.set(lock_key, time.time() + window, timeout=window)
        logger.warning("sign-in lockout: %s %s after %d failures", kind, ident, count)


def failure(*, username: str | None, address: str | None) -> None:
    if _ident(username):
        _count_failure("username", _ident(username), settings.SIGNIN_MAX_FAILURES_PER_USERNAME)
    if address:
        _count_failure("address", address, settings.SIGNIN_MAX_FAILURES_PER_ADDRESS)


def success(*, username: str | None) -> None:
    if _ident(username):
        cache.delete(_keys("username", _ident(username))[0])


def lift(*, usernames=(), addresses=()) -> int:
    """Lift the lockouts (and failure counts) of these usernames and addresses."""
    keys = [key for name in usernames if _ident(name) for key in _keys("username", _ident(name))]
    keys += [key for address in addresses if address for key in _keys("address", address)]
    if keys:
        cache.delete_many(keys)
    return len(keys) // 2


# --- the record -------------------------------------------------------------------------------
def door_of(request) -> str:
    path = getattr(request, "path", "") or ""
    return "api" if path.startswith("/api/") else "admin"


def record(request, *, username: str | None, outcome: str, user=None) -> None:
    from access.models import SignInRecord

    meta = getattr(request, "META", {}) if request is not None else {}
    address = client_address(request) if request is not None else None
    try:
        address = str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        address = None
    SignInRecord.objects.create(
        door=door_of(request) if request is not None else "admin",
        username=username_of(username),
        user=user if getattr(user, "pk", None) else None,
        address=address,
        user_agent=(meta.get("HTTP_USER_AGENT") or "")[:300],
        outcome=outcome,
    )


@receiver(user_login_failed, dispatch_uid="access.signin.failed")
def _on_failure(sender, credentials, request=None, **kwargs):
    username = credentials.get("username") if isinstance(credentials, dict) else None
    address = client_address(request) if request is not None else None
    failure(username=username, address=address)
    record(request, username=username, outcome="failure")


@receiver(user_logged_in, dispatch_uid="access.signin.succeeded")
def _on_success(sender, request, user, **kwargs):
    """Session sign-ins (the admin). The API's token endpoint records its own (simplejwt sends
    no user_logged_in)."""
    if request is None:
        return
    device = getattr(user, "otp_device", None)
    if device is not None:  # the second factor was checked by the sign-in form
        import django_otp

        django_otp.login(request, device)
    success(username=user.get_username())
    record(request, username=user.get_username(), outcome="success", user=user)
    if hasattr(request, "session"):
        request.session[SESSION_SIGNED_IN_AT] = time.time()
        request.session[SESSION_LAST_SEEN] = time.time()


SESSION_SIGNED_IN_AT = "access.signed_in_at"
SESSION_LAST_SEEN = "access.last_seen"


# --- the second factor ----------------------------------------------------------------------
class SecondFactorRefused(Exception):
    """The user uses two-factor sign-in and no valid code came with the password."""


class SecondFactorWait(Exception):
    """Wrong codes in a row: the device accepts none for `seconds` (django-otp's throttling)."""

    def __init__(self, seconds: int):
        super().__init__(seconds)
        self.seconds = seconds


def second_factor(user, code: str | None):
    """Check the code sent with a correct password: None when `user` has not set up two-factor
    sign-in (nothing to check), else the device that accepted it. Raises SecondFactorWait while
    the device refuses every code after wrong ones, SecondFactorRefused otherwise. Codes: six
    digits from the app, or a recovery code (any case, spaces ignored)."""
    import django_otp
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if user is None or not django_otp.user_has_device(user, confirmed=True):
        return None
    code = "".join((code or "").split()).lower()
    if not code:
        raise SecondFactorRefused()
    # Six digits are an app's code; anything else a recovery code: each is tried only where it
    # can match, so a recovery code never counts as a wrong app code (and the reverse).
    is_app_code = code.isdigit() and len(code) == 6
    model = TOTPDevice if is_app_code else StaticDevice
    for device in model.objects.filter(user=user, confirmed=True):
        allowed, details = device.verify_is_allowed()
        if not allowed:
            locked_until = (details or {}).get("locked_until")
            seconds = (locked_until - timezone.now()).total_seconds() if locked_until else 5
            raise SecondFactorWait(max(1, math.ceil(seconds)))
        if device.verify_token(code):
            return device
    raise SecondFactorRefused()
