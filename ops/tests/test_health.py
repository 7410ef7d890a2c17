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
