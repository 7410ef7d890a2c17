import pytest
from django.core.management import call_command


@pytest.mark.django_db(databases=["default", "mongo"])
def test_live_is_ok(client):
    assert client.get("/health/live").json() == {"status": "ok"}


@pytest.mark.django_db(databases=["default", "mongo"])
def test_ready_checks_every_real_service(client):
    response = client.get("/health/ready")
    assert response.status_code == 200, response.content
    checks = response.json()["checks"]
    assert checks["database"]["backend"] == "postgresql"
    assert checks["cache"]["backend"] == "redis"
    assert checks["mongodb"]["ok"] and checks["broker"]["ok"]


@pytest.mark.django_db(databases=["default", "mongo"])
def test_check_services_command_prints_each_service(capsys):
    call_command("check_services")
    out = capsys.readouterr().out
    for name in ("database", "mongodb", "cache", "broker"):
        assert name in out


@pytest.mark.django_db(databases=["default", "mongo"])
def test_ready_names_redis_while_it_is_down_and_recovers_without_restart(client, redis_server):
    redis_server.kill()
    response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert "cache (redis)" in body["failed"] and "broker (redis)" in body["failed"]
    assert "redis" in body["message"]
    assert body["checks"]["database"]["ok"] and body["checks"]["mongodb"]["ok"]

    redis_server.restart()
    response = client.get("/health/ready")
    assert response.status_code == 200, response.content


@pytest.mark.django_db(databases=["default", "mongo"])
def test_check_services_exits_non_zero_when_redis_is_down(capsys, redis_server):
    redis_server.kill()
    with pytest.raises(SystemExit) as exit_info:
        call_command("check_services")
    assert exit_info.value.code == 1
    assert "cache (redis)" in capsys.readouterr().err
