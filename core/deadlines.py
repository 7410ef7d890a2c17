"""A hung PostgreSQL costs a web request a few seconds, never a worker timeout.

A database that is down refuses connections, and a new connection to one that hangs gives up
after `connect_timeout`. But a query sent over an open connection to a server that stopped
answering waits forever: PostgreSQL's `statement_timeout` is enforced by the server, which is the
part that hangs, and the kernel still acknowledges the packets, so TCP timeouts never fire.

So each query of a web request is watched: `QueryDeadlineMiddleware` installs Django's
`execute_wrapper` on the default database for the request, and one watchdog thread per process
shuts the socket of any query still running after `DATABASE_QUERY_TIMEOUT` seconds. What does not
go through the wrapper (a COMMIT, Django's connection health check) is covered by a watch on the
whole request, `DATABASE_REQUEST_TIMEOUT`, kept below gunicorn's worker timeout. psycopg then
reports the connection lost, the API answers 503 (service "database", with Retry-After) and Django
drops the connection at the end of the request, so the next one connects afresh. Workers and
management commands are not watched: their long statements are legitimate.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import time

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)


class _Watchdog:
    def __init__(self):
        self._condition = threading.Condition()
        self._watched: dict[int, tuple[float, int]] = {}  # token -> (deadline, socket fd)
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, fileno: int, seconds: float) -> int:
        token = next(self._tokens)
        with self._condition:
            self._watched[token] = (time.monotonic() + seconds, fileno)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="query-deadline", daemon=True)
                self._thread.start()
            self._condition.notify()
        return token

    def unwatch(self, token: int) -> None:
        with self._condition:
            self._watched.pop(token, None)

    def _run(self) -> None:
        with self._condition:
            while True:
                now = time.monotonic()
                for token, (deadline, fileno) in list(self._watched.items()):
                    if deadline <= now:
                        del self._watched[token]
                        _cut(fileno)
                next_deadline = min((deadline for deadline, _ in self._watched.values()), default=None)
                self._condition.wait(None if next_deadline is None else max(0.01, next_deadline - now))


def _cut(fileno: int) -> None:
    """Shut the connection's socket down: the thread blocked reading it wakes up with an error.
    (The descriptor stays open and belongs to psycopg; only a duplicate is closed here.)"""
    try:
        duplicate = socket.socket(fileno=os.dup(fileno))
    except OSError:
        return
    try:
        duplicate.shutdown(socket.SHUT_RDWR)
        logger.warning(
            "database query still running after %ss: connection cut (answering 503)", settings.DATABASE_QUERY_TIMEOUT
        )
    except OSError:
        pass
    finally:
        duplicate.close()


_watchdog = _Watchdog()


def _fileno(raw) -> int | None:
    try:
        return raw.fileno()
    except Exception:  # not connected, or not a socket: nothing to watch
        return None


class QueryDeadline:
    """Django execute wrapper: the query's connection is cut if it runs longer than `seconds`.

    With `request_until` (a time.monotonic() value), each connection it meets is also watched
    until then, whatever runs on it: commits and Django's connection health check do not go
    through execute wrappers. `release()` ends those watches."""

    def __init__(self, seconds: float, *, request_until: float | None = None):
        self.seconds = seconds
        self.request_until = request_until
        self._request_watches: dict[int, int] = {}  # socket fd -> token

    def watch_request(self, raw) -> None:
        fileno = _fileno(raw) if raw is not None else None
        if self.request_until is None or fileno is None or fileno in self._request_watches:
            return
        self._request_watches[fileno] = _watchdog.watch(fileno, max(0.0, self.request_until - time.monotonic()))

    def release(self) -> None:
        for token in self._request_watches.values():
            _watchdog.unwatch(token)
        self._request_watches.clear()

    def __call__(self, execute, sql, params, many, context):
        raw = context["connection"].connection
        fileno = _fileno(raw)
        if fileno is None:
            return execute(sql, params, many, context)
        self.watch_request(raw)
        token = _watchdog.watch(fileno, self.seconds)
        try:
            return execute(sql, params, many, context)
        finally:
            _watchdog.unwatch(token)


class QueryDeadlineMiddleware:
    """Watches the default database in web requests: each query for DATABASE_QUERY_TIMEOUT
    seconds, and the connection as a whole (commits included) for DATABASE_REQUEST_TIMEOUT, which
    is kept below gunicorn's worker timeout. 0: off."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        seconds = settings.DATABASE_QUERY_TIMEOUT
        connection = connections["default"]
        if not seconds or connection.vendor != "postgresql":
            return self.get_response(request)
        deadline = QueryDeadline(seconds, request_until=time.monotonic() + settings.DATABASE_REQUEST_TIMEOUT)
        deadline.watch_request(connection.connection)  # an open connection: its health check too
        try:
            with connection.execute_wrapper(deadline):
                return self.get_response(request)
        finally:
            deadline.release()
