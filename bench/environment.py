"""The environment every benchmark's processes run in (PRODUCTION settings, bench.settings, on
throwaway servers, fresh secrets, quiet logs), and how they are stopped."""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path


def production_env(workdir: Path, *, database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """Redis database 0 is the cache, 1 the broker; `extra` adds or overrides variables."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(workdir),
        "ENVIRONMENT": "PRODUCTION",
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url + "/0",
        "CELERY_BROKER_URL": redis_url + "/1",
        "LOG_LEVEL": "WARNING",
        "STATIC_ROOT": str(workdir / "static"),
        **extra,
    }


def stop_all(processes, servers) -> None:
    """Stop the benchmark's processes (newest first; killed after 15 s) and then its servers."""
    for process in reversed(processes):
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    for server in servers:
        server.stop()
