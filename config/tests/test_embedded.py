"""The embedded default (LOCAL, nothing configured: SQLite, local-memory cache, eager Celery)
boots and serves an authenticated request, as `make run` does."""

import concurrent.futures
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from scripts.services import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def embedded_env(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        # Books still need a MongoDB-speaking server: `make run` starts one; here, the suite's.
        "MONGODB_URI": os.environ["MONGODB_URI"],
        "MONGODB_NAME": f"embedded_{uuid.uuid4().hex[:8]}",
    }
    return env


def manage(env, *args):
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_embedded_default_serves_an_authenticated_request(embedded_env, tmp_path):
    manage(embedded_env, "migrate", "--noinput", "-v", "0")
    manage(embedded_env, "migrate", "--database", "mongo", "--noinput", "-v", "0")
    raw_key = manage(embedded_env, "create_api_key", "embedded-test").strip()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT, env=embedded_env, stdout=subprocess.DEVNULL, stderr=(tmp_path / "server.log").open("w"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/health/live", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "runserver did not start"
                time.sleep(0.2)
        assert httpx.get(f"{base}/api/auth/me/").status_code == 401
        me = httpx.get(f"{base}/api/auth/me/", headers={"X-API-Key": raw_key})
        assert me.status_code == 200, (tmp_path / "server.log").read_text()[-3000:]
        assert me.json()["name"] == "embedded-test"
        ready = httpx.get(f"{base}/health/ready").json()
        assert ready["status"] == "ok" and set(ready["checks"].values()) == {"ok"}
        docs = httpx.get(f"{base}/api/doc/")
        assert docs.status_code == 200 and "swagger-ui" in docs.text
        # The development server (DEBUG) redirects a write without its slash, keeping the method.
        headers = {"X-API-Key": raw_key}
        body = {"cnpj": "11.222.333/0001-81", "enrich": False}
        created = httpx.post(f"{base}/api/companies", json=body, headers=headers, follow_redirects=True)
        assert created.status_code == 201 and [r.status_code for r in created.history] == [308]
        book = {"title": "Vidas Secas", "authors": ["Graciliano Ramos"], "isbn": "9788535914849"}
        assert httpx.post(f"{base}/api/books/", json=book, headers=headers).status_code == 201
        # Parallel writes to SQLite wait for each other: no "database is locked" 503.
        with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
            answers = list(pool.map(
                lambda n: httpx.patch(
                    f"{base}/api/companies/11222333000181/", json={"trade_name": f"Paralela {n}"}, headers=headers
                ).status_code,
                range(20),
            ))
        assert answers == [200] * 20
    finally:
        server.terminate()
        server.wait(timeout=10)
