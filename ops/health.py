"""Readiness checks of the backing services: default database, MongoDB, cache, broker."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass

import pymongo
from celery import current_app as celery_app  # the project's app (config.celery), without importing config
from django.conf import settings
from django.core.cache import cache
from django.db import connections

from core import outages
from core.caching import cache_is_redis
from core.deadlines import QueryDeadline
from tasks.services import broker_check


@dataclass
class CheckResult:
    name: str
    backend: str
    ok: bool
    detail: str
    ms: float

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.backend})"


def _timed(name, backend, probe) -> CheckResult:
    started = time.perf_counter()
    try:
        detail = probe() or "ok"
        ok = True
    except Exception as exc:  # any failure of the probe means "not ready"
        cause = exc.__cause__ or exc  # the service's own error, not the API's 503 wrapper
        detail, ok = f"{type(cause).__name__}: {cause}".splitlines()[0][:300], False
    return CheckResult(name, backend, ok, detail, round((time.perf_counter() - started) * 1000, 1))


def check_database() -> CheckResult:
    connection = connections["default"]

    def probe():
        deadline = QueryDeadline(settings.DATABASE_QUERY_TIMEOUT or 5)
        with connection.execute_wrapper(deadline), connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    try:
        return _timed("database", connection.vendor, probe)
    finally:
        # Checks run in their own threads (run_checks), each with its own connection: close it.
        if not connection.in_atomic_block:
            connection.close()


def check_mongodb() -> CheckResult:
    def probe():
        if outages.MONGODB.down_for():
            raise outages.MONGODB.refusal()
        with pymongo.timeout(settings.HEALTH_CHECK_TIMEOUT):
            connections["mongo"].ensure_connection()
            connections["mongo"].connection.admin.command("ping")

    return _timed("mongodb", "mongodb", probe)


def _cache_backend() -> str:
    if cache_is_redis():
        return "redis"
    return settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1].lower()


def check_cache() -> CheckResult:
    backend = _cache_backend()

    def probe():
        if backend == "redis":
            from django_redis import get_redis_connection

            # The cache itself swallows Redis errors (reads degrade to the database), so ask
            # Redis directly.
            get_redis_connection("default").ping()
        else:
            cache.set("health:probe", "1", 5)

    return _timed("cache", backend, probe)


def check_broker() -> CheckResult:
    url = celery_app.conf.broker_url or ""
    scheme = url.split(":", 1)[0] or "unknown"
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return CheckResult("broker", scheme, True, "tasks run eagerly in the web process", 0.0)

    # What requests meet: the same check as before queueing work (treated as down after a failure).
    return _timed("broker", "redis" if scheme.startswith("redis") else scheme, broker_check)


CHECKS = (check_database, check_mongodb, check_cache, check_broker)


def run_checks(timeout: float | None = None) -> list[CheckResult]:
    """Every check, side by side in threads of its own; one that has not answered within
    `timeout` seconds (default HEALTH_CHECK_TIMEOUT) is reported down ("no answer within ...").
    A check stuck on a hung server keeps its thread until its own timeouts end it, but never
    delays the checks of a later call (no shared pool to fill up)."""
    timeout = settings.HEALTH_CHECK_TIMEOUT if timeout is None else timeout
    started = time.perf_counter()
    pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="health")
    futures = [(check, pool.submit(check)) for check in CHECKS]
    pool.shutdown(wait=False)
    done, _ = wait([future for _, future in futures], timeout=timeout)
    results = []
    for check, future in futures:
        if future in done:
            results.append(future.result())
        else:
            name = check.__name__.removeprefix("check_")
            elapsed = round((time.perf_counter() - started) * 1000, 1)
            results.append(CheckResult(name, "-", False, f"no answer within {timeout:g} s", elapsed))
    return results
