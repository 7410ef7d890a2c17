"""The deployment files hold what the README promises (no Docker engine runs the suite)."""

import re
import runpy
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "web", "worker", "beat")


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _seconds(duration: str) -> float:
    """A compose duration ("30s", "1m30s", "200s") in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|us|m|s)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(float(number) * units[unit] for number, unit in parts)


def _gunicorn(monkeypatch, **environ):
    for name in ("WEB_CONCURRENCY", "GUNICORN_ACCESS_LOG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_compose_has_the_stack_with_health_checks_and_no_secrets():
    services = _compose()["services"]
    assert {"postgres", "cache", "broker", "mongo", *APP_SERVICES} <= services.keys()
    for name, image in (("postgres", "postgres:"), ("cache", "redis:"), ("broker", "redis:"), ("mongo", "mongo:")):
        assert services[name]["image"].startswith(image)
        assert services[name]["healthcheck"]["test"]
    assert services["web"]["command"][0] == "gunicorn"
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    environment = services["web"]["environment"]
    assert environment["ENVIRONMENT"] == "PRODUCTION"
    for secret in ("SECRET_KEY", "JWT_SIGNING_KEY"):
        assert environment[secret].startswith(f"${{{secret}:?")  # required from outside, never a default
    assert "${POSTGRES_PASSWORD:?" in environment["DATABASE_URL"]


def test_compose_reads_every_setting_from_an_optional_env_file():
    services = _compose()["services"]
    for name in APP_SERVICES:
        assert services[name]["env_file"] == [{"path": ".env", "required": False}], name
        # Only what the topology decides (and the secrets it checks) is set in the compose file.
        assert set(services[name]["environment"]) == {
            "ENVIRONMENT", "SECRET_KEY", "JWT_SIGNING_KEY", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL",
            "MONGODB_URI", "MS_HOST", "MS_PORT",
        }, name  # fmt: skip
    assert (ROOT / ".env.example").is_file()


def test_compose_keeps_the_cache_and_the_broker_in_separate_redis_servers():
    services = _compose()["services"]

    def option(service, name):
        command = services[service]["command"]
        assert command[0] == "redis-server"
        return command[command.index(name) + 1]

    assert option("cache", "--maxmemory-policy") == "allkeys-lru"
    assert option("cache", "--maxmemory") == "${CACHE_MAXMEMORY:-256mb}"
    assert option("cache", "--save") == ""
    assert option("cache", "--appendonly") == "no"
    assert "volumes" not in services["cache"]
    assert option("broker", "--maxmemory-policy") == "noeviction"
    assert option("broker", "--appendonly") == "yes"
    assert services["broker"]["volumes"] == ["broker-data:/data"]

    environment = services["web"]["environment"]
    cache, broker = urlsplit(environment["REDIS_URL"]), urlsplit(environment["CELERY_BROKER_URL"])
    assert (cache.hostname, broker.hostname) == ("cache", "broker")
    for name in APP_SERVICES:
        assert services[name]["environment"]["REDIS_URL"] == environment["REDIS_URL"]
        assert services[name]["environment"]["CELERY_BROKER_URL"] == environment["CELERY_BROKER_URL"]
        depends_on = services[name]["depends_on"]
        for backing in ("postgres", "cache", "broker", "mongo"):
            assert depends_on[backing] == {"condition": "service_healthy"}, (name, backing)


def test_compose_waits_for_requests_and_tasks_to_finish_before_killing(monkeypatch, settings):
    services = _compose()["services"]
    gunicorn = _gunicorn(monkeypatch)
    assert _seconds(services["web"]["stop_grace_period"]) > gunicorn["graceful_timeout"]
    assert _seconds(services["worker"]["stop_grace_period"]) > settings.CELERY_TASK_TIME_LIMIT
    assert _seconds(services["beat"]["stop_grace_period"]) <= 10


def test_compose_web_service_is_healthy_when_ready():
    web = _compose()["services"]["web"]
    test = web["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    assert "http://127.0.0.1:5000/health/ready" in test[3]
    assert web["ports"] == ["${MS_PORT:-5000}:5000"]
    assert web["environment"]["MS_PORT"] == "5000"  # the port the health checks ask


def test_dockerfile_runs_gunicorn_as_a_non_root_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "\nUSER app\n" in dockerfile
    assert 'CMD ["gunicorn", "-c", "gunicorn.conf.py"]' in dockerfile
    assert "python:3.11-slim" in dockerfile


def test_gunicorn_config_binds_from_the_environment_without_a_control_socket(monkeypatch):
    config = _gunicorn(monkeypatch, MS_HOST="127.0.0.1", MS_PORT="5099", WEB_CONCURRENCY="3")
    assert config["bind"] == "127.0.0.1:5099"
    assert config["workers"] == 3
    assert config["control_socket_disable"] is True
    assert config["timeout"] == 30
    assert config["graceful_timeout"] == 20


def test_gunicorn_leaves_the_access_log_to_the_app_unless_asked(monkeypatch):
    config = _gunicorn(monkeypatch)
    assert config["accesslog"] is None  # the app writes one line per request (logger "api.access")
    assert config["errorlog"] == "-"
    assert _gunicorn(monkeypatch, GUNICORN_ACCESS_LOG="-")["accesslog"] == "-"


@pytest.mark.parametrize(
    ("files", "cpus"),
    [
        ({"cpu.max": "150000 100000\n"}, 2),  # 1.5 CPUs, rounded up
        ({"cpu.max": "200000 100000\n"}, 2),
        ({"cpu.max": "10000 100000\n"}, 1),  # at least one
        ({"cpu.max": "1600000 100000\n"}, 8),  # never more than the CPUs it may run on
        ({"cpu.max": "max 100000\n"}, 8),  # no quota
        ({"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 1),  # cgroup v1
        ({"cpu/cpu.cfs_quota_us": "300000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 3),
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, 8),  # no quota
        ({}, 8),  # no cgroup files
    ],
)
def test_gunicorn_workers_follow_the_containers_cpu_quota(monkeypatch, tmp_path, files, cpus):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    config = _gunicorn(monkeypatch)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(8)), raising=False)
    assert config["_available_cpus"](tmp_path) == cpus
    assert config["_workers"](tmp_path) == 2 * cpus + 1
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert config["_workers"](tmp_path) == 3  # WEB_CONCURRENCY wins


@pytest.mark.django_db(databases=["default", "mongo"])
def test_the_images_health_check_passes_with_a_real_host_name(live_server, settings):
    """The Dockerfile's HEALTHCHECK command, run as is (port aside) against a server whose
    ALLOWED_HOSTS names only the real host: probes ask by address and must still get 200."""
    import subprocess
    import sys

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


@pytest.mark.django_db(databases=["default", "mongo"])
def test_the_compose_web_health_check_passes_with_a_real_host_name(live_server, settings):
    """The web service's readiness check, run as is (port aside), against the real host name."""
    import subprocess
    import sys

    settings.ALLOWED_HOSTS = ["api.example.com"]
    command = _compose()["services"]["web"]["healthcheck"]["test"][3]
    port = urlsplit(live_server.url).port
    command = command.replace("127.0.0.1:5000", f"127.0.0.1:{port}")
    assert subprocess.run([sys.executable, "-c", command], timeout=20).returncode == 0
