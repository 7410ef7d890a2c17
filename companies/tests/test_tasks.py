"""companies/tasks.py and the background-work endpoints, against the fake upstreams over HTTP."""

from datetime import timedelta

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_celery_results.models import TaskResult
from stdnum.br import cnpj as stdnum_cnpj

from companies import backlog, services
from companies.backlog import ENRICHMENT
from companies.models import Company, EnrichmentStatus
from companies.tasks import (
    companies_enrich_many_task,
    companies_refresh_queue,
    companies_refresh_stale_task,
    company_enrich_task,
    company_push_to_pipefy_task,
)
from integrations import testing as integration_fixtures
from integrations.fake.companies import trigger_cnpj
from integrations.guard import provider_guard
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


def _company(cnpj=VALID, *, due=True, **fields):
    """A stored company; with `due`, its registry lookup is due (as after creation with enrich)."""
    company = services.company_create(cnpj=cnpj, enrich=False, **fields)
    if due:
        backlog.queue_request(ENRICHMENT, Company.objects.filter(pk=company.pk))
    return company


def _enrich(cnpj=VALID) -> dict:
    return company_enrich_task.apply(args=(cnpj,)).get()


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


# --- enrichment ---------------------------------------------------------------------------------
def test_enrichment_fills_the_company_with_the_provider_as_actor(fake_settings):
    company = _company()
    result = _enrich()
    assert result == {"cnpj": VALID, "enrichment_status": "ok", "registry_source": "brasilapi", "next_attempt_at": None}
    company.refresh_from_db()
    assert company.legal_name and company.main_activity_code and company.state
    assert company.share_capital is not None and company.partners
    assert company.registry_source == "brasilapi"
    assert company.registry_synced_at is not None
    assert company.registry_payload["cnpj"] == VALID
    assert company.enrichment_due_at is None and company.enrichment_claimed_until is None
    latest = company.history.order_by("-history_id").first()
    assert latest.history_actor == "provider:brasilapi"


def test_a_repeated_message_looks_nothing_up_twice(fake_settings, fake):
    _company()
    _enrich()
    again = _enrich()  # the same message delivered again: the work is done
    assert again["enrichment_status"] == "ok" and again["next_attempt_at"] is None
    assert len([r for r in fake.state.requests if r["cnpj"] == VALID]) == 1


def test_refreshing_twice_changes_only_the_sync_time(fake_settings):
    company = _company()
    _enrich()
    versions = company.history.count()
    backlog.queue_request(ENRICHMENT, Company.objects.filter(pk=company.pk))
    _enrich()
    assert company.history.count() == versions + 1
    latest, previous = company.history.order_by("-history_id")[:2]
    changed = {
        field.attname
        for field in Company.history.model._meta.concrete_fields
        if field.attname in {f.attname for f in Company._meta.concrete_fields}
        and getattr(latest, field.attname) != getattr(previous, field.attname)
    }
    assert changed == {"registry_synced_at", "updated_at"}


def test_first_provider_down_falls_through(fake_settings):
    number = trigger_cnpj("500", "1")
    _company(number)
    assert _enrich(number)["registry_source"] == "receitaws"


def test_unknown_cnpj_is_not_found_only_after_every_provider_answered(fake_settings, fake):
    number = trigger_cnpj("404")
    company = _company(number)
    assert _enrich(number)["enrichment_status"] == "not_found"
    asked = [r["provider"] for r in fake.state.requests if r["cnpj"] == number]
    assert asked == ["brasilapi", "receitaws", "cnpja"]
    company.refresh_from_db()
    assert company.enrichment_status == EnrichmentStatus.NOT_FOUND
    assert company.history.order_by("-history_id").first().history_actor == "task:companies.enrich"


def test_unknown_to_one_provider_and_not_asked_by_the_others_stays_pending(fake_settings, fake):
    number = trigger_cnpj("404", "1")  # BrasilAPI does not know it; the others were not asked
    fake_settings.PROVIDER_RATES = {"receitaws": "1/minute", "cnpja": "1/minute"}
    for name in ("receitaws", "cnpja"):  # some other lookup used up their capacity
        provider_guard(name).call(lambda: None)
    company = _company(number)
    result = _enrich(number)
    assert result["enrichment_status"] == "pending" and result["next_attempt_at"]
    company.refresh_from_db()
    assert company.enrichment_status == EnrichmentStatus.PENDING
    assert company.enrichment_attempts == 0  # waiting for capacity spends no retry
    assert company.enrichment_due_at > timezone.now() + timedelta(seconds=30)


def test_real_failures_back_off_then_fail_with_the_reason(fake_settings):
    fake_settings.TASK_MAX_RETRIES = 1
    number = trigger_cnpj("500")
    company = _company(number)
    first = _enrich(number)
    company.refresh_from_db()
    assert first["enrichment_status"] == "pending" and first["next_attempt_at"]
    assert company.enrichment_attempts == 1 and company.enrichment_due_at > timezone.now()
    Company.objects.filter(pk=company.pk).update(enrichment_due_at=timezone.now())  # the backoff has passed
    assert _enrich(number)["enrichment_status"] == "failed"
    company.refresh_from_db()
    assert company.enrichment_status == EnrichmentStatus.FAILED
    assert "Given up after 2 failed attempts" in company.enrichment_error and "HTTP 500" in company.enrichment_error
    assert company.enrichment_due_at is None


def test_unusable_answers_everywhere_fail_at_once(fake_settings):
    fake_settings.CNPJ_PROVIDERS = ["brasilapi"]
    number = trigger_cnpj("200")  # a 200 whose body is not JSON
    _company(number)
    fake_settings.TASK_MAX_RETRIES = 0
    assert _enrich(number)["enrichment_status"] == "failed"


def test_auto_push_queues_the_pipefy_task(fake_settings):
    fake_settings.PIPEFY_AUTO_PUSH = True
    company = _company()
    result = _enrich()
    assert result["pipefy_task_id"] in queued_task_ids()
    assert TaskResult.objects.get(task_id=result["pipefy_task_id"]).task_name == "companies.push_to_pipefy"
    company.refresh_from_db()
    assert company.pipefy_due_at is not None


# --- Pipefy ------------------------------------------------------------------------------------
def _push_due(company):
    backlog.queue_request(backlog.PIPEFY, Company.objects.filter(pk=company.pk))


def test_push_creates_one_card_and_stores_its_id(fake_settings, fake):
    fake_settings.PIPEFY_FIELD_MAP = {"cnpj_formatted": "cnpj", "legal_name": "razao_social"}
    company = _company(legal_name="ACME LTDA")
    _push_due(company)
    result = company_push_to_pipefy_task.apply(args=(VALID,)).get()
    company.refresh_from_db()
    assert result["created"] is True
    assert company.pipefy_card_id == result["pipefy_card_id"]
    cards = _cards(fake)
    assert len(cards) == 1
    assert cards[0]["title"] == "11.222.333/0001-81 ACME LTDA"
    assert cards[0]["fields"] == {"cnpj": "11.222.333/0001-81", "razao_social": "ACME LTDA"}
    _push_due(company)
    assert company_push_to_pipefy_task.apply(args=(VALID,)).get()["created"] is False
    assert len(_cards(fake)) == 1


def test_push_after_an_ambiguous_failure_finds_the_card(fake_settings, fake):
    number = trigger_cnpj("502")
    company = _company(number, legal_name="AMBIGUA LTDA")
    _push_due(company)
    first = company_push_to_pipefy_task.apply(args=(number,)).get()
    assert first["pipefy_card_id"] == "" and first["next_attempt_at"]  # 502: created, the answer lost
    Company.objects.filter(pk=company.pk).update(pipefy_due_at=timezone.now())
    second = company_push_to_pipefy_task.apply(args=(number,)).get()
    assert second["created"] is False
    company.refresh_from_db()
    assert [c["id"] for c in _cards(fake)] == [company.pipefy_card_id]


def test_push_without_configuration_fails_for_good_with_the_reason(fake_settings):
    fake_settings.PIPEFY_TOKEN = ""
    company = _company()
    _push_due(company)
    result = company_push_to_pipefy_task.apply(args=(VALID,)).get()
    assert "PIPEFY_TOKEN" in result["error"]
    company.refresh_from_db()
    assert "PIPEFY_TOKEN" in company.pipefy_error and company.pipefy_due_at is None


# --- endpoints ----------------------------------------------------------------------------------
def test_enrich_many_from_earlier_releases_makes_the_lookups_due():
    second = stdnum_cnpj.compact("11.444.777/0001-61")
    _company(due=False), _company(second, due=False)
    assert companies_enrich_many_task.apply(args=[[VALID, second]]).get() == {"queued": 2}
    assert Company.objects.filter(enrichment_due_at__isnull=False).count() == 2


def test_refresh_endpoint_answers_202_with_the_task(api):
    _company(due=False)
    response = api.post(f"/api/companies/{VALID}/refresh/")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "PENDING"
    assert body["task_id"] in queued_task_ids()
    assert response["Location"].endswith(f"/api/tasks/{body['task_id']}/")
    assert api.get(response["Location"]).json()["status"] == "PENDING"
    assert Company.objects.get(cnpj=VALID).enrichment_due_at is not None


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


def test_pipefy_endpoint_refuses_clearly_when_pipefy_is_not_configured(api, settings):
    settings.PIPEFY_TOKEN = ""
    _company()
    response = api.post(f"/api/companies/{VALID}/pipefy/")
    assert response.status_code == 409
    assert response.json()["code"] == "pipefy_not_configured" and "PIPEFY_TOKEN" in response.json()["message"]
    assert not TaskResult.objects.exists()


def test_pipefy_endpoint_queues_or_answers_with_the_card(api, settings):
    settings.PIPEFY_TOKEN, settings.PIPEFY_PIPE_ID = "token", "1"
    company = _company()
    queued = api.post(f"/api/companies/{VALID}/pipefy/")
    assert queued.status_code == 202
    assert TaskResult.objects.get(task_id=queued.json()["task_id"]).task_name == "companies.push_to_pipefy"
    services.company_set_pipefy_card(company=company, card_id="9001")
    carded = api.post(f"/api/companies/{VALID}/pipefy/")
    assert carded.status_code == 200
    assert carded.json()["pipefy_card_id"] == "9001"


# --- the periodic refresh -----------------------------------------------------------------------
def _age(cnpj, *, synced_days=None, updated_days=0, status=None):
    now = timezone.now()
    fields = {"updated_at": now - timedelta(days=updated_days)}
    if synced_days is not None:
        fields["registry_synced_at"] = now - timedelta(days=synced_days)
        fields["enrichment_status"] = EnrichmentStatus.OK
    if status:
        fields["enrichment_status"] = status
    Company.objects.filter(cnpj=cnpj).update(**fields)


def _cnpj(n):
    base = f"{n:08d}0001"
    return base + stdnum_cnpj.calc_check_digits(base)


def _due_cnpjs():
    return set(Company.objects.filter(enrichment_due_at__isnull=False).values_list("cnpj", flat=True))


def test_refresh_queues_every_unfinished_company_then_the_stalest(settings):
    settings.REGISTRY_MAX_AGE_DAYS = 30
    stale, older, fresh, never, just_created, failed, not_found = (_cnpj(n) for n in range(1, 8))
    for number in (stale, older, fresh, never, just_created, failed, not_found):
        _company(number, due=False)
    _age(stale, synced_days=40)
    _age(older, synced_days=90)
    _age(fresh, synced_days=3)
    _age(failed, status=EnrichmentStatus.FAILED)
    _age(not_found, status=EnrichmentStatus.NOT_FOUND)  # checked just now: not stale
    assert companies_refresh_queue(limit=1) == {"unfinished": 3, "stale": 1}
    assert _due_cnpjs() == {never, just_created, failed, older}
    assert companies_refresh_queue(stale_days=1) == {"unfinished": 0, "stale": 2}
    assert _due_cnpjs() == {never, just_created, failed, older, stale, fresh}


def test_refresh_stale_is_idempotent():
    for n in range(1, 4):
        _company(_cnpj(n), due=False)
    assert companies_refresh_stale_task.apply().get() == {"unfinished": 3, "stale": 0}
    assert companies_refresh_stale_task.apply().get() == {"unfinished": 0, "stale": 0}


def test_command_sync_refreshes_with_progress(fake_settings, capsys):
    _company(due=False)
    call_command("refresh_companies", "--cnpj", "11.222.333/0001-81", "--sync")
    out = capsys.readouterr().out
    assert "[1/1] 11.222.333/0001-81 ok via brasilapi" in out
    company = Company.objects.get(cnpj=VALID)
    assert company.enrichment_status == EnrichmentStatus.OK
    assert company.history.order_by("-history_id").first().history_actor == "provider:brasilapi"


def test_command_sync_pushes_with_auto_push(fake_settings, fake, capsys):
    fake_settings.PIPEFY_AUTO_PUSH = True
    _company(due=False)
    call_command("refresh_companies", "--cnpj", VALID, "--sync")
    card_id = Company.objects.get(cnpj=VALID).pipefy_card_id
    assert f"Pipefy card {card_id}" in capsys.readouterr().out
    assert [card["id"] for card in _cards(fake)] == [card_id]


def test_command_queues_new_and_stale_companies_and_tells_the_drainers(capsys):
    _company(due=False)
    _company(_cnpj(7), due=False)
    _age(VALID, synced_days=60)
    call_command("refresh_companies", "--stale-days", "30")
    out = capsys.readouterr().out
    assert "Queued registry lookups: 1 unfinished, 1 stale." in out
    assert "Enrichment backlog: 2 lookups waiting" in out
    assert _due_cnpjs() == {VALID, _cnpj(7)}
    assert _queued_names() == ["companies.backlog_drain"] * 2  # BACKLOG_DRAINERS


def _queued_names():
    import json

    from tasks.testing import queued_messages

    return [json.loads(message)["headers"]["task"] for message in queued_messages()]


def test_command_refuses_bad_input():
    with pytest.raises(CommandError, match="check digits"):
        call_command("refresh_companies", "--cnpj", "11222333000180")
    with pytest.raises(CommandError, match="No company"):
        call_command("refresh_companies", "--cnpj", VALID)


@pytest.mark.parametrize(
    "arguments, reason",
    [
        (["--limit", "-5"], "argument --limit: -5 is negative; give 0 or more"),
        (["--stale-days", "-1"], "argument --stale-days: -1 is negative; give 0 or more"),
        (["--limit", "many"], "argument --limit: 'many' is not a whole number"),
    ],
)
def test_command_bad_numbers_are_usage_errors(arguments, reason):
    with pytest.raises(CommandError) as caught:
        call_command("refresh_companies", *arguments)
    assert reason in str(caught.value)


def test_refresh_leaves_a_lookup_that_is_backing_off_at_its_time():
    _company(due=False)
    later = timezone.now() + timedelta(minutes=5)
    Company.objects.update(enrichment_due_at=later, enrichment_attempts=2)
    assert companies_refresh_queue() == {"unfinished": 0, "stale": 0}
    assert Company.objects.get().enrichment_due_at == later


# --- admin actions -------------------------------------------------------------------------------
def test_admin_actions_queue_tasks(client, settings):
    settings.PIPEFY_TOKEN, settings.PIPEFY_PIPE_ID = "token", "1"
    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", "s3cret-Passw0rd!")
    client.force_login(admin)
    company = _company(due=False)
    url = "/admin/companies/company/"
    response = client.post(url, {"action": "refresh_from_registry", "_selected_action": [company.pk]}, follow=True)
    assert response.status_code == 200
    assert "1 empresa enfileirada para nova consulta ao cadastro." in response.content.decode()  # pt-BR
    client.post(url, {"action": "push_to_pipefy", "_selected_action": [company.pk]})
    names = sorted(TaskResult.objects.values_list("task_name", flat=True))
    assert names == ["companies.enrich", "companies.push_to_pipefy"]
    assert len(queued_task_ids()) == 2


def test_admin_push_refuses_clearly_when_pipefy_is_not_configured(client, settings):
    settings.PIPEFY_TOKEN = ""
    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", "s3cret-Passw0rd!")
    client.force_login(admin)
    company = _company(due=False)
    response = client.post(
        "/admin/companies/company/", {"action": "push_to_pipefy", "_selected_action": [company.pk]}, follow=True
    )
    assert "O Pipefy não está configurado neste servidor" in response.content.decode()
    assert not TaskResult.objects.exists()


def test_an_unknown_answer_is_remembered_while_the_other_providers_are_waited_for(fake_settings, fake):
    number = trigger_cnpj("404")
    fake_settings.PROVIDER_RATES = {"cnpja": "1/minute"}
    provider_guard("cnpja").call(lambda: None)  # CNPJa cannot be asked now
    _company(number)
    assert _enrich(number)["enrichment_status"] == "pending"
    fake_settings.PROVIDER_RATES = {}  # CNPJa's capacity is back
    Company.objects.filter(cnpj=number).update(enrichment_due_at=timezone.now())
    assert _enrich(number)["enrichment_status"] == "not_found"
    asked = [r["provider"] for r in fake.state.requests if r["cnpj"] == number]
    assert asked == ["brasilapi", "receitaws", "cnpja"]  # each asked once


def test_a_field_map_naming_no_company_attribute_fails_the_push_with_the_reason(fake_settings):
    fake_settings.PIPEFY_FIELD_MAP = {"revenue": "faturamento"}
    company = _company()
    _push_due(company)
    result = company_push_to_pipefy_task.apply(args=(VALID,)).get()
    assert "PIPEFY_FIELD_MAP names 'revenue'" in result["error"]
    company.refresh_from_db()
    assert company.pipefy_error == result["error"] and company.pipefy_due_at is None
