"""The deployment files hold what the README promises (no Docker engine runs the suite)."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_has_the_stack_with_health_checks_and_no_secrets():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "mongo", "web", "worker", "beat"} <= services.keys()
    for name, image in (("postgres", "postgres:"), ("redis", "redis:"), ("mongo", "mongo:")):
        assert services[name]["image"].startswith(image)
        assert services[name]["healthcheck"]["test"]
    assert services["web"]["command"][0] == "gunicorn"
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    environment = services["web"]["environment"]
    assert environment["ENVIRONMENT"] == "PRODUCTION"
    assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")  # required from outside, never a default


def test_dockerfile_runs_gunicorn_as_a_non_root_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "\nUSER app\n" in dockerfile
    assert 'CMD ["gunicorn", "-c", "gunicorn.conf.py"]' in dockerfile
    assert "python:3.11-slim" in dockerfile


def test_gunicorn_config_binds_from_the_environment_without_a_control_socket(monkeypatch):
    import runpy

    monkeypatch.setenv("MS_HOST", "127.0.0.1")
    monkeypatch.setenv("MS_PORT", "5099")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["bind"] == "127.0.0.1:5099"
    assert config["workers"] == 3
    assert config["control_socket_disable"] is True


@pytest.mark.django_db(databases=["default", "mongo"])
def test_the_images_health_check_passes_with_a_real_host_name(live_server, settings):
    """The Dockerfile's HEALTHCHECK command, run as is (port aside) against a server whose
    ALLOWED_HOSTS names only the real host: probes ask by address and must still get 200."""
    import re
    import subprocess
    import sys
    from urllib.parse import urlsplit

    settings.ALLOWED_HOSTS = ["api.example.com"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    command = re.search(r'CMD python -c "(.+)"', dockerfile.split("HEALTHCHECK", 1)[1]).group(1)
    port = urlsplit(live_server.url).port
    command = command.replace("127.0.0.1:5000", f"127.0.0.1:{port}")
    assert subprocess.run([sys.executable, "-c", command], timeout=20).returncode == 0
    refused = subprocess.run(
        [sys.executable, "-c", command.replace("/health/live", "/api/auth/me/")], capture_output=True, timeout=20
    )
    assert refused.returncode != 0  # other paths still validate the host
