"""Error reports to Sentry (optional, SENTRY_DSN): an unhandled error reaches the DSN's server,
without the request's secrets. A Sentry-speaking endpoint on loopback receives the envelope."""

import gzip
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tasks.testing import test_database_url as database_url_for_processes

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY_HEADER = "sk-live-0123456789abcdefghij"
BEARER = "eyJhbGciOiJIUzI1NiJ9.secret-jwt-payload.signature"

SCRIPT = f"""
import sys
from wsgiref.util import setup_testing_defaults

from django.test import override_settings

from config.wsgi import application  # as gunicorn serves it
import sentry_sdk

environ = {{
    "PATH_INFO": "/api/test/crash/",
    "QUERY_STRING": "password=hunter2",
    "HTTP_HOST": "testserver",
    "HTTP_X_API_KEY": "{SECRET_KEY_HEADER}",
    "HTTP_COOKIE": "sessionid={BEARER}",
}}
setup_testing_defaults(environ)
statuses = []
with override_settings(ROOT_URLCONF="config.tests.error_urls", ALLOWED_HOSTS=["testserver"]):
    b"".join(application(environ, lambda status, headers, exc_info=None: statuses.append(status)))
sentry_sdk.flush(5)
sys.stdout.write(statuses[0])
"""


@pytest.fixture
def sentry_endpoint():
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            received.append(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://public-key@127.0.0.1:{server.server_port}/1", received
    server.shutdown()


@pytest.mark.django_db(transaction=True)
def test_an_unhandled_error_is_reported_without_secrets(sentry_endpoint, tmp_path):
    dsn, received = sentry_endpoint
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "ENVIRONMENT": "TEST",
        "DATABASE_URL": database_url_for_processes(),
        "SENTRY_DSN": dsn,
        "API_KEY": SECRET_KEY_HEADER,  # the request is authenticated with it: a real secret
        "HOME": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("500"), result.stdout
    events = [
        json.loads(line)
        for envelope in received
        for line in envelope.decode().splitlines()
        if line.startswith("{") and '"exception"' in line
    ]
    assert events, received
    event = events[0]
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    request = event["request"]
    assert request["url"].endswith("/api/test/crash/")
    assert request["headers"]["Host"] == "testserver"  # headers are sent, the secret ones scrubbed
    everything = b"".join(received).decode()
    assert SECRET_KEY_HEADER not in everything
    assert BEARER not in everything
    where = everything.find("hunter2")
    assert where == -1, everything[max(0, where - 300) : where + 50]
