"""A hung Redis costs one timeout, not one per request.

A Redis that is down refuses connections at once; one that hangs (stopped, overloaded, a network
path dropping packets) accepts them and then answers nothing, so every command waits for its
socket timeout. After such a failure the process treats that Redis as down for `REDIS_DOWN_SECONDS`:
commands fail at once with a ConnectionError, which every caller already handles as "Redis is
down" (the cache reads the database, throttles let the request through, the providers' shared
limits hold calls back, readiness says "degraded"). When the time is up the next command probes
again.

Two roles are tracked apart, because they may be different servers: the cache (django-redis's
connections, used by the cache, the throttles and the shared provider limits) and the task broker
(tasks.services). The cache's connections get the behaviour from `GuardedConnection`, set as the
pool's connection class in settings (a documented redis-py extension point). MongoDB (books) is
tracked the same way, by the API's error handler and the books views.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from redis.connection import Connection, SSLConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)


class Outage:
    """A process-wide "this service failed a moment ago" flag with an expiry."""

    def __init__(self, name: str, error: type[Exception] = RedisConnectionError):
        self.name = name
        self.error = error
        self._until = 0.0
        self._lock = threading.Lock()

    @property
    def seconds(self) -> float:
        return float(settings.REDIS_DOWN_SECONDS)

    def down_for(self) -> float:
        """Seconds this service is still treated as down (0.0: try it)."""
        return max(0.0, self._until - time.monotonic())

    def trip(self, error: BaseException) -> None:
        seconds = self.seconds
        if seconds <= 0:
            return
        with self._lock:
            was_down = self.down_for() > 0
            self._until = time.monotonic() + seconds
        if not was_down:
            logger.warning(
                "%s did not answer (%s): treated as down for %.0f s", self.name, type(error).__name__, seconds
            )

    def clear(self) -> None:
        with self._lock:
            self._until = 0.0

    def refusal(self) -> Exception:
        return self.error(f"{self.name} treated as down for a few more seconds")

    @staticmethod
    def is_refusal(error: BaseException) -> bool:
        """The error is one of these fast refusals (already logged once when the outage began)."""
        return "treated as down" in str(error)


def _mongo_error():
    from pymongo.errors import ConnectionFailure

    return ConnectionFailure


CACHE = Outage("Redis (cache)")
BROKER = Outage("Redis (broker)")
# Books' MongoDB: tripped when a request meets a MongoDB outage (core.exceptions), checked before
# the books endpoints touch it (books.views), so a hung server costs one operation timeout.
MONGODB = Outage("MongoDB", _mongo_error())
_FAILURES = (RedisTimeoutError, RedisConnectionError)


class _Guarded:
    outage = CACHE

    def connect(self):
        if self.outage.down_for():
            raise self.outage.refusal()
        try:
            return super().connect()
        except _FAILURES as error:
            self.outage.trip(error)
            raise

    def send_packed_command(self, command, check_health=True):
        if self.outage.down_for():
            raise self.outage.refusal()
        try:
            return super().send_packed_command(command, check_health)
        except _FAILURES as error:
            self.outage.trip(error)
            raise

    def read_response(self, *args, **kwargs):
        try:
            return super().read_response(*args, **kwargs)
        except _FAILURES as error:
            self.outage.trip(error)
            raise


class GuardedConnection(_Guarded, Connection):
    """redis-py's TCP connection, failing fast while the cache's Redis is treated as down."""


class GuardedSSLConnection(_Guarded, SSLConnection):
    """The same over TLS (rediss://)."""


def connection_class_for(url: str) -> type[Connection] | None:
    """The guarded connection class for a Redis URL (None for unix sockets: left as they are)."""
    if url.startswith("rediss://"):
        return GuardedSSLConnection
    if url.startswith("redis://"):
        return GuardedConnection
    return None


def log_unavailable(log: logging.Logger, message: str, error: BaseException) -> None:
    """Log that something was skipped because a service failed: a warning for a real failure,
    only a debug line for the fast refusals that follow it (the outage itself was logged once
    when it began), so an outage does not flood the log with a line per request."""
    level = logging.DEBUG if Outage.is_refusal(error) else logging.WARNING
    log.log(level, "%s (%s)", message, type(error).__name__)
