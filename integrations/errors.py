"""The few named errors every outside service maps its failures to.

Callers decide what to do from the class alone: `NotFound` is an answer; `Skipped` means the
service was not asked at all; `RateLimited` and `Unavailable` are worth retrying (after
`retry_after` seconds when known); `BadResponse` and `Rejected` are not.
"""

from __future__ import annotations


class IntegrationError(Exception):
    """Base class: something about an outside service went wrong."""

    transient = False

    def __init__(self, message: str = "", *, provider: str = "", retry_after: float | None = None):
        super().__init__(message or self.__class__.__doc__ or self.__class__.__name__)
        self.provider = provider
        self.retry_after = retry_after

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class NotFound(IntegrationError):
    """The service does not know the requested item."""


class RateLimited(IntegrationError):
    """The service (or our own limit for it) refuses more calls for now."""

    transient = True

    def __init__(self, message: str = "", *, provider: str = "", retry_after: float | None = 60):
        super().__init__(message, provider=provider, retry_after=retry_after)


class Unavailable(IntegrationError):
    """The service could not be reached, timed out, failed (5xx) or sent an unreadable body."""

    transient = True


class Skipped(IntegrationError):
    """The service was not asked: our shared limit for it is used up, it is cooling down after a
    429, or its circuit is open. `retry_after` is when it can be asked again."""

    transient = True


class BadResponse(IntegrationError):
    """The service answered, but not with anything usable (unexpected status or shape)."""


class Rejected(IntegrationError):
    """The service refused the request itself (bad credentials, no permission, invalid input)."""


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, IntegrationError) and exc.transient
