"""Test helpers for code that queues tasks (importable from any app's tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from config.celery import app as celery_app

UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"  # port 1: nothing listens, connections are refused


def _drop_connections() -> None:
    # Forget (without closing: kombu keeps producer pools per broker URL) the cached pools, so
    # the next publish connects to whatever `broker_url` says now.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def broker_unreachable() -> Iterator[None]:
    """Point the Celery app at a broker address where nothing listens, for the duration."""
    previous = celery_app.conf.broker_url
    _drop_connections()
    celery_app.conf.broker_url = UNREACHABLE_BROKER
    try:
        yield
    finally:
        _drop_connections()
        celery_app.conf.broker_url = previous


def queued_messages() -> list[bytes]:
    """The task messages waiting in the default queue of the real broker (raw JSON)."""
    with celery_app.connection_for_read() as connection:
        client = connection.default_channel.client
        return client.lrange(celery_app.conf.task_default_queue, 0, -1)


def queued_task_ids() -> list[str]:
    """The ids of the task messages waiting in the default queue of the real broker."""
    import json

    return [json.loads(message)["headers"]["id"] for message in queued_messages()]


def purge_queue() -> None:
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge(celery_app.conf.task_default_queue)
