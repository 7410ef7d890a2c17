"""Test helpers for code that queues tasks (importable from any app's tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from celery import current_app as celery_app  # the project's app (config.celery), without importing config

from core import outages

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
        outages.BROKER.clear()  # another broker now: what failed was the unreachable one


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


# --- a real worker (and beat) in a subprocess, for end-to-end tests ----------------------------
def test_database_url() -> str:
    """The URL of the test database pytest-django created, for processes started by a test."""
    from urllib.parse import quote

    from django.db import connection

    db = connection.settings_dict
    auth = f"{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}@" if db["USER"] else ""
    return f"postgres://{auth}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class CeleryProcess:
    """`celery -A config worker --pool=solo` (or `beat`) in a subprocess, logging to a file; each
    start is a new process with a new log file."""

    def __init__(self, env: dict[str, str], log_dir, *, kind: str = "worker", name: str = "e2e"):
        self.env = env
        self.log_dir = log_dir
        self.kind = kind
        self.name = name
        self.process = None
        self.starts = 0

    def command(self) -> list[str]:
        import sys

        base = [sys.executable, "-m", "celery", "-A", "config", self.kind, "--loglevel=INFO"]
        if self.kind == "beat":
            return [*base, f"--schedule={self.log_dir / 'beat-schedule'}", "--max-interval=1"]
        return [
            *base,
            "--pool=solo",
            "--concurrency=1",
            f"--hostname={self.name}{self.starts}@%h",
            "--without-gossip",
            "--without-mingle",
        ]

    def start(self, timeout: float = 30) -> None:
        import subprocess
        import time
        from pathlib import Path

        self.starts += 1
        self.log = self.log_dir / f"{self.kind}-{self.name}-{self.starts}.log"
        root = Path(__file__).resolve().parents[1]
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                self.command(), cwd=root, env=self.env, stdout=output, stderr=subprocess.STDOUT
            )
        ready = " ready." if self.kind == "worker" else "beat: Starting"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready in self.log.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{self.kind} did not start:\n{self.tail()}")

    def kill(self) -> None:
        import signal

        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        import subprocess

        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.text().splitlines()[-lines:])


def process_env(settings, fake, **overrides: str) -> dict[str, str]:
    """The environment of a worker or beat started by a test: the test database, the suite's Redis
    as broker and cache, the fake upstreams, short timeouts; `overrides` last."""
    import os

    return {
        **os.environ,
        "ENVIRONMENT": "TEST",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        **fake.settings(),
        "PIPEFY_TOKEN": "fake-token",
        "PIPEFY_PIPE_ID": "1",
        "PIPEFY_AUTO_PUSH": "false",
        "BRASILAPI_RATE": "",
        "RECEITAWS_RATE": "",
        "CNPJA_RATE": "",
        "PIPEFY_RATE": "",
        "INTEGRATIONS_READ_TIMEOUT": "20",
        "TASK_RETRY_BACKOFF_SECONDS": "1",
        "CELERY_VISIBILITY_TIMEOUT": "6",
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        "BACKLOG_TICK_SECONDS": "2",
        "LOG_LEVEL": "INFO",
        **overrides,
    }
