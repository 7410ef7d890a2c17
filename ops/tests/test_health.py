
import pytest
from django.core.management import call_command

from ops.tests.helpers import wait_until_ready


@pytest.mark.django_db(databases=["default", "mongo"])
def test_live_is_ok(client):
    assert client.get("/health/live").json() == {"status": "ok"}


@pytest.mark.django_db(databases=["default", "mongo"])
def test_ready_checks_every_real_service(client):
    response = client.get("/health/ready")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "mongodb": "ok", "cache": "ok", "broker": "ok"},
    }


@pytest.mark.django_db(databases=["default", "mongo"])
@pytest.mark.parametrize("path", ["/health/live", "/health/ready"])
def test_health_answers_probes_whatever_the_host(client, settings, path):
    settings.ALLOWED_HOSTS = ["api.example.com"]
    assert client.get(path, HTTP_HOST="10.1.2.3:5000").status_code == 200  # a probe asks by address
    assert client.get("/api/auth/me/", HTTP_HOST="10.1.2.3:5000").status_code == 400  # the rest still checks


@pytest.mark.django_db(databases=["default", "mongo"])
def test_check_services_command_prints_each_service(capsys):
    call_command("check_services")
    out = capsys.readouterr().out
    for name in ("database", "mongodb", "cache", "broker"):
        assert name in out


@pytest.mark.django_db(databases=["default", "mongo"])
def test_ready_is_degraded_not_down_while_redis_is_down_and_recovers(client, redis_server, caplog):
    redis_server.kill()
    with caplog.at_level("WARNING"):
        response = client.get("/health/ready")
    assert response.status_code == 200  # the API still serves: no orchestrator should pull it
    body = response.json()
    assert body == {
        "status": "degraded",
        "checks": {"database": "ok", "mongodb": "ok", "cache": "down", "broker": "down"},
    }
    assert "Error" not in response.content.decode()  # no exception text in the public answer
    assert "readiness: cache (redis) is down" in caplog.text  # it goes to the log

    redis_server.restart()
    assert wait_until_ready(client).status_code == 200


@pytest.mark.django_db(databases=["default", "mongo"])
def test_check_services_exits_non_zero_when_redis_is_down(capsys, redis_server):
    redis_server.kill()
    with pytest.raises(SystemExit) as exit_info:
        call_command("check_services")
    assert exit_info.value.code == 1
    assert "cache (redis)" in capsys.readouterr().err
