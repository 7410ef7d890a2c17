"""What the ops tests share: waiting for readiness, and gunicorn serving the suite's servers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from scripts.services import free_port, wait_for_port
from tasks.testing import test_database_url as database_url_for_processes

ROOT = Path(__file__).resolve().parents[2]


def wait_until_ready(client, seconds=10.0):
    """Poll readiness until every check is ok again: a Redis that failed is skipped for
    REDIS_DOWN_SECONDS before it is tried again (core.outages)."""
    deadline = time.monotonic() + seconds
    while (response := client.get("/health/ready")).json()["status"] != "ok":
        assert time.monotonic() < deadline, response.content
        time.sleep(0.2)
    return response


@contextmanager
def gunicorn(tmp_path, **overrides: str):
    """gunicorn with the repository's config on the suite's test databases, Redis and broker
    (tasks queued, not eager); `overrides` last. Yields (base URL, log path)."""
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "ENVIRONMENT": "TEST",
        "DATABASE_URL": database_url_for_processes(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "MONGODB_URI": os.environ["MONGODB_URI"],
        "MONGODB_NAME": settings.DATABASES["mongo"]["NAME"],
        "MS_HOST": "127.0.0.1",
        "MS_PORT": str(port),
        **overrides,
    }
    log = tmp_path / "gunicorn.log"
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, process=process, name="gunicorn", timeout=60)
        yield f"http://127.0.0.1:{port}", log
    finally:
        process.terminate()
        process.wait(timeout=30)
