"""companies/tasks.py and the background-work endpoints, against the fake upstreams over HTTP."""

from datetime import timedelta

import httpx
import pytest
from celery import states
from celery.exceptions import Retry
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_celery_results.models import TaskResult
from stdnum.br import cnpj as stdnum_cnpj

from companies import services
from companies.models import Company, EnrichmentStatus
from companies.tasks import (
    companies_due_for_refresh,
    companies_enrich_many_task,
    companies_refresh_stale_task,
    company_enrich_task,
    company_push_to_pipefy_task,
)
from integrations import testing as integration_fixtures
from integrations.errors import Unavailable
from integrations.fake.companies import trigger_cnpj
from tasks.testing import broker_unreachable, purge_queue, queued_task_ids

pytestmark = pytest.mark.django_db

# Fixtures shared with the integrations tests: the fake upstreams and clean shared state.
clean_integrations = integration_fixtures.clean_integrations
fake = integration_fixtures.fake
fake_settings = integration_fixtures.fake_settings

VALID = "11222333000181"


@pytest.fixture(autouse=True)
def empty_queue(clean_integrations):
    purge_queue()
    yield
    purge_queue()


def _company(cnpj=VALID, **fields):
    return services.company_create(cnpj=cnpj, enrich=False, **fields)


def _cards(fake):
    return httpx.get(f"{fake.url}/_fake/pipefy/cards").json()["cards"]


# --- creating a company queues its enrichment ---------------------------------------------------
def test_post_answers_with_the_pending_enrichment_task(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/companies/", {"cnpj": VALID}, format="json")
    assert response.status_code == 201, response.content
    enrichment = response.json()["enrichment"]
    assert enrichment["status"] == "PENDING"
    assert enrichment["task_id"] in queued_task_ids()  # published once the creation committed
    status = api.get(f"/api/tasks/{enrichment['task_id']}/").json()
    assert (status["name"], status["status"]) == ("companies.enrich", "PENDING")


def test_post_with_enrich_false_queues_nothing(api):
    response = api.post("/api/companies/", {"cnpj": VALID, "enrich": False}, format="json")
    assert response.status_code == 201
    assert response.json()["enrichment"] is None
    assert not TaskResult.objects.exists()


def test_post_with_the_broker_down_is_503_and_stores_nothing(api):
    with broker_unreachable():
        response = api.post("/api/companies/", {"cnpj": VALID}, format="json")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert response.json()["service"] == "broker"
    assert not Company.objects.exists()
    assert not TaskResult.objects.exists()
    assert api.post("/api/companies/", {"cnpj": VALID}, format="json").status_code == 201  # retry works


# --- enrichment -----------------------------------------------------------------------------------
def test_enrichment_fills_the_company_with_the_provider_as_actor(fake_settings):
    company = _company()
    result = company_enrich_task.apply(args=(VALID,)).get()
    assert result == {"cnpj": VALID, "enrichment_status": "ok", "registry_source": "brasilapi"}
    company.refresh_from_db()
    assert company.legal_name and company.main_activity_code and company.state
    assert company.share_capital is not None and company.partners
    assert company.registry_source == "brasilapi"
    assert company.registry_synced_at is not None
    assert company.registry_payload["cnpj"] == VALID
    latest = company.history.order_by("-history_id").first()
    assert latest.history_actor == "provider:brasilapi"


def test_enrichment_is_idempotent(fake_settings):
    company = _company()
    company_enrich_task.apply(args=(VALID,))
    versions = company.history.count()
    company_enrich_task.apply(args=(VALID,))
    # The same registry answer again: only the sync time moves.
    assert company.history.count() == versions + 1
    latest, previous = company.history.order_by("-history_id")[:2]
    changed = {
        field.attname
        for field in Company._meta.concrete_fields
        if getattr(latest, field.attname) != getattr(previous, field.attname)
    }
    assert changed == {"registry_synced_at", "updated_at"}


def test_first_provider_down_falls_through(fake_settings):
    number = trigger_cnpj("500", "1")
    _company(number)
    assert company_enrich_task.apply(args=(number,)).get()["registry_source"] == "receitaws"


def test_unknown_cnpj_is_marked_not_found(fake_settings):
    number = trigger_cnpj("404")
    company = _company(number)
    assert company_enrich_task.apply(args=(number,)).get()["enrichment_status"] == "not_found"
    company.refresh_from_db()
    assert company.enrichment_status == EnrichmentStatus.NOT_FOUND
    assert company.history.order_by("-history_id").first().history_actor == "task:companies.enrich"


def test_final_failure_marks_the_company_failed_with_the_reason(fake_settings):
    number = trigger_cnpj("500")
    company = _company(number)
    result = company_enrich_task.apply(args=(number,))  # eager: no retries
    assert result.status == states.FAILURE
    company.refresh_from_db()
    assert company.enrichment_status == EnrichmentStatus.FAILED
    assert "HTTP 500" in company.enrichment_error


def test_a_failure_that_will_be_retried_leaves_the_company_pending(fake_settings):
    number = trigger_cnpj("500")
    company = _company(number)
    company_enrich_task.push_request(
        id="retry-test", retries=0, is_eager=False, called_directly=False, args=(number,), kwargs={}
    )
    try:
        with pytest.raises(Retry):
            company_enrich_task(number)
    finally:
        company_enrich_task.pop_request()
    company.refresh_from_db()
    assert company.enrichment_status == EnrichmentStatus.PENDING


def test_auto_push_queues_the_pipefy_task(fake_settings):
    fake_settings.PIPEFY_AUTO_PUSH = True
    _company()
    result = company_enrich_task.apply(args=(VALID,)).get()
    assert result["pipefy_task_id"] in queued_task_ids()
    assert TaskResult.objects.get(task_id=result["pipefy_task_id"]).task_name == "companies.push_to_pipefy"


# --- Pipefy ------------------------------------------------------------------------------------
def test_push_creates_one_card_and_stores_its_id(fake_settings, fake):
    fake_settings.PIPEFY_FIELD_MAP = {"cnpj_formatted": "cnpj", "legal_name": "razao_social"}
    company = _company(legal_name="ACME LTDA")
    result = company_push_to_pipefy_task.apply(args=(VALID,)).get()
    company.refresh_from_db()
    assert result["created"] is True
    assert company.pipefy_card_id == result["pipefy_card_id"]
    cards = _cards(fake)
    assert len(cards) == 1
    assert cards[0]["title"] == "11.222.333/0001-81 ACME LTDA"
    assert cards[0]["fields"] == {"cnpj": "11.222.333/0001-81", "razao_social": "ACME LTDA"}
    assert company_push_to_pipefy_task.apply(args=(VALID,)).get()["created"] is False
    assert len(_cards(fake)) == 1


def test_push_after_an_ambiguous_failure_finds_the_card(fake_settings, fake):
    number = trigger_cnpj("502")
    company = _company(number, legal_name="AMBIGUA LTDA")
    first = company_push_to_pipefy_task.apply(args=(number,))
    assert isinstance(first.result, Unavailable)  # 502: the card was created, the answer lost
    second = company_push_to_pipefy_task.apply(args=(number,)).get()
    assert second["created"] is False
    company.refresh_from_db()
    assert [c["id"] for c in _cards(fake)] == [company.pipefy_card_id]


def test_push_without_configuration_fails_for_good(fake_settings):
    fake_settings.PIPEFY_TOKEN = ""
    _company()
    result = company_push_to_pipefy_task.apply(args=(VALID,))
    assert result.status == states.FAILURE
    assert "PIPEFY_TOKEN" in str(result.result)


# --- endpoints ----------------------------------------------------------------------------------
def test_enrich_many_fans_out_one_enrichment_per_company():
    second = stdnum_cnpj.compact("11.444.777/0001-61")
    result = companies_enrich_many_task.apply(args=[[VALID, second]]).get()
    assert result == {"queued": 2}
    pending = TaskResult.objects.filter(task_name="companies.enrich", status=states.PENDING)
    queued_for = sorted(args for args in pending.values_list("task_args", flat=True))
    assert len(queued_for) == 2 and VALID in queued_for[0] + queued_for[1] and second in queued_for[0] + queued_for[1]
    assert set(pending.values_list("task_id", flat=True)) <= set(queued_task_ids())


def test_refresh_endpoint_answers_202_with_the_task(api):
    _company()
    response = api.post(f"/api/companies/{VALID}/refresh/")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "PENDING"
    assert body["task_id"] in queued_task_ids()
    assert response["Location"].endswith(f"/api/tasks/{body['task_id']}/")
    assert api.get(response["Location"]).json()["status"] == "PENDING"


def test_refresh_endpoint_unknown_company_and_read_only_key(api, read_only_api):
    assert api.post(f"/api/companies/{VALID}/refresh/").status_code == 404
    _company()
    assert read_only_api.post(f"/api/companies/{VALID}/refresh/").status_code == 403


def test_refresh_endpoint_with_the_broker_down_is_503(api):
    _company()
    with broker_unreachable():
        response = api.post(f"/api/companies/{VALID}/refresh/")
    assert response.status_code == 503
    assert not TaskResult.objects.exists()


def test_pipefy_endpoint_queues_or_answers_with_the_card(api):
    company = _company()
    queued = api.post(f"/api/companies/{VALID}/pipefy/")
    assert queued.status_code == 202
    assert TaskResult.objects.get(task_id=queued.json()["task_id"]).task_name == "companies.push_to_pipefy"
    services.company_set_pipefy_card(company=company, card_id="9001")
    carded = api.post(f"/api/companies/{VALID}/pipefy/")
    assert carded.status_code == 200
    assert carded.json()["pipefy_card_id"] == "9001"


# --- the periodic refresh -----------------------------------------------------------------------
def _age(cnpj, *, synced_days=None, updated_minutes=60, status=None):
    now = timezone.now()
    fields = {"updated_at": now - timedelta(minutes=updated_minutes)}
    if synced_days is not None:
        fields["registry_synced_at"] = now - timedelta(days=synced_days)
    if status:
        fields["enrichment_status"] = status
    Company.objects.filter(cnpj=cnpj).update(**fields)


def _cnpj(n):
    base = f"{n:08d}0001"
    return base + stdnum_cnpj.calc_check_digits(base)


def test_due_companies_are_stale_or_never_enriched_oldest_first(settings):
    settings.REGISTRY_MAX_AGE_DAYS = 30
    stale, older, fresh, never, just_created, not_found = (_cnpj(n) for n in range(1, 7))
    for number in (stale, older, fresh, never, just_created, not_found):
        _company(number)
    _age(stale, synced_days=40)
    _age(older, synced_days=90)
    _age(fresh, synced_days=3)
    _age(never)
    _age(just_created, updated_minutes=1)
    _age(not_found, status=EnrichmentStatus.NOT_FOUND, updated_minutes=60)
    assert companies_due_for_refresh() == [never, older, stale]
    assert companies_due_for_refresh(limit=2) == [never, older]
    assert companies_due_for_refresh(stale_days=1) == [never, older, stale, fresh]


def test_refresh_stale_is_idempotent_while_tasks_are_queued():
    for n in range(1, 4):
        _company(_cnpj(n))
        _age(_cnpj(n))
    first = companies_refresh_stale_task.apply().get()
    assert first["queued"] == 3
    assert companies_refresh_stale_task.apply().get()["queued"] == 0


def test_command_sync_refreshes_with_progress(fake_settings, capsys):
    _company()
    call_command("refresh_companies", "--cnpj", "11.222.333/0001-81", "--sync")
    out = capsys.readouterr().out
    assert "[1/1] 11.222.333/0001-81 ok via brasilapi" in out
    company = Company.objects.get(cnpj=VALID)
    assert company.enrichment_status == EnrichmentStatus.OK
    assert company.history.order_by("-history_id").first().history_actor == "provider:brasilapi"


def test_command_sync_pushes_with_auto_push(fake_settings, fake, capsys):
    fake_settings.PIPEFY_AUTO_PUSH = True
    _company()
    call_command("refresh_companies", "--cnpj", VALID, "--sync")
    card_id = Company.objects.get(cnpj=VALID).pipefy_card_id
    assert f"Pipefy card {card_id}" in capsys.readouterr().out
    assert [card["id"] for card in _cards(fake)] == [card_id]


def test_command_queues_stale_companies(capsys):
    _company()
    _age(VALID, synced_days=60)
    call_command("refresh_companies", "--stale-days", "30")
    out = capsys.readouterr().out
    assert "queued as task" in out and "1 companies: 1 queued." in out
    assert len(queued_task_ids()) == 1


def test_command_refuses_bad_input():
    with pytest.raises(CommandError, match="check digits"):
        call_command("refresh_companies", "--cnpj", "11222333000180")
    with pytest.raises(CommandError, match="No company"):
        call_command("refresh_companies", "--cnpj", VALID)


# --- admin actions -------------------------------------------------------------------------------
def test_admin_actions_queue_tasks(client):
    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", "s3cret-Passw0rd!")
    client.force_login(admin)
    company = _company()
    url = "/admin/companies/company/"
    response = client.post(url, {"action": "refresh_from_registry", "_selected_action": [company.pk]}, follow=True)
    assert response.status_code == 200
    assert "1 registry refresh(s) queued" in response.content.decode()
    client.post(url, {"action": "push_to_pipefy", "_selected_action": [company.pk]})
    names = sorted(TaskResult.objects.values_list("task_name", flat=True))
    assert names == ["companies.enrich", "companies.push_to_pipefy"]
    assert len(queued_task_ids()) == 2
