"""The back office: no delete for anyone, writes through the services, history with the user."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from django_celery_results.models import TaskResult

from access.actor import acting_as
from companies import services
from companies.models import Company
from companies.tests.factories import CompanyFactory, alphanumeric_cnpj, cnpj_for, numeric_cnpj
from tasks.testing import broker_unreachable, purge_queue, queued_task_ids

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/companies/company/"


def change_url(company):
    return f"{CHANGELIST}{company.pk}/change/"


def _value(bound_field):
    value = bound_field.value()
    if value is None or value is False:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else value


def rows_data(form) -> dict:
    """What the browser sends for the rows (partners, secondary activities) as shown."""
    data = {}
    for rows in form.rows.values():
        management = rows.management_form
        data.update({management[name].html_name: management[name].value() for name in management.fields})
        for row in rows:
            data.update({row[name].html_name: _value(row[name]) for name in row.fields if name != "DELETE"})
    return data


def form_data(client, url, **changes):
    form = client.get(url).context["adminform"].form
    data = {name: _value(form[name]) for name in form.fields}
    data.update(rows_data(form))
    data.update(changes)
    return data


def test_superuser_has_no_delete_anywhere(admin_client):
    company = CompanyFactory()
    changelist = admin_client.get(CHANGELIST)
    assert changelist.status_code == 200
    assert "delete_selected" not in changelist.content.decode()
    assert "delete_selected" not in dict(changelist.context["action_form"].fields["action"].choices)
    change = admin_client.get(change_url(company))
    assert change.status_code == 200
    assert change.context["has_delete_permission"] is False
    assert b"deletelink" not in change.content
    assert admin_client.get(f"{CHANGELIST}{company.pk}/delete/").status_code == 403
    response = admin_client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [company.pk]})
    assert Company.objects.filter(pk=company.pk).exists()
    assert response.status_code in (200, 302)


def test_add_accepts_formatted_lower_case_cnpj_and_records_the_user(admin_client, admin_user):
    data = form_data(admin_client, f"{CHANGELIST}add/", cnpj="12.abc.345/01de-35", legal_name="Pelo Admin Ltda",
                     zip_code="01310-100", state="SP")
    response = admin_client.post(f"{CHANGELIST}add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    company = Company.objects.get(cnpj="12ABC34501DE35")
    assert (company.legal_name, company.zip_code) == ("Pelo Admin Ltda", "01310100")
    version = company.history.get()
    assert version.history_user == admin_user
    assert version.history_actor == f"user:{admin_user.username}"


def test_add_refuses_invalid_and_duplicate_cnpjs(admin_client):
    stored = CompanyFactory()
    for cnpj, message in [("11.222.333/0001-82", "dígitos verificadores"), (stored.cnpj_formatted, "já existe")]:
        response = admin_client.post(f"{CHANGELIST}add/", form_data(admin_client, f"{CHANGELIST}add/", cnpj=cnpj))
        assert response.status_code == 200
        assert message in str(response.context["adminform"].form.errors["cnpj"])
    assert Company.objects.count() == 1


def test_change_goes_through_the_service_and_keeps_the_cnpj(admin_client, admin_user):
    company = CompanyFactory()
    data = form_data(admin_client, change_url(company), trade_name="Alterado", cnpj=numeric_cnpj(900))
    response = admin_client.post(change_url(company), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    company.refresh_from_db()
    assert company.trade_name == "Alterado"
    assert company.cnpj != numeric_cnpj(900)
    version = company.history.latest()
    assert (version.history_type, version.history_actor) == ("~", f"user:{admin_user.username}")
    assert admin_client.get(f"{CHANGELIST}{company.pk}/history/").status_code == 200


def test_search_by_raw_or_formatted_cnpj_and_names(admin_client):
    target = CompanyFactory(cnpj=alphanumeric_cnpj(3), legal_name="Alvo Ltda")
    CompanyFactory(legal_name="Outra Ltda")
    for term in (target.cnpj, target.cnpj_formatted, target.cnpj_formatted.lower()[:6], "alvo"):
        results = list(admin_client.get(CHANGELIST, {"q": term}).context["cl"].result_list)
        assert results == [target], term


def test_filters_include_head_office(admin_client):
    head = CompanyFactory(cnpj=cnpj_for("445566770001"))
    branch = CompanyFactory(cnpj=cnpj_for("445566770002"), state="RJ")
    assert list(admin_client.get(CHANGELIST, {"head_office": "yes"}).context["cl"].result_list) == [head]
    assert list(admin_client.get(CHANGELIST, {"head_office": "no"}).context["cl"].result_list) == [branch]
    assert list(admin_client.get(CHANGELIST, {"state__exact": "RJ"}).context["cl"].result_list) == [branch]


def test_registry_fields_are_read_only_and_the_payload_is_readable(admin_client):
    company = CompanyFactory(registry_source="brasilapi", registry_payload={"razao_social": "ACME <b>"})
    page = admin_client.get(change_url(company))
    form = page.context["adminform"].form
    assert "registry_payload" not in form.fields and "enrichment_status" not in form.fields
    html = page.content.decode()
    assert "&quot;razao_social&quot;: &quot;ACME &lt;b&gt;&quot;" in html
    assert "brasilapi" in html


def test_revert_to_a_past_version_goes_through_the_service(admin_client, admin_user, api):
    company = CompanyFactory(trade_name="Original")
    first_version = company.history.get()
    api.patch(f"/api/companies/{company.cnpj}/", {"trade_name": "Changed", "city": "Campinas"}, format="json")
    assert api.get(f"/api/companies/{company.cnpj}/").json()["trade_name"] == "Changed"  # now cached
    url = f"{CHANGELIST}{company.pk}/history/{first_version.history_id}/"
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, form_data(admin_client, url))
    assert response.status_code == 302, response.context["adminform"].form.errors
    company.refresh_from_db()
    assert (company.trade_name, company.city) == ("Original", "São Paulo")
    latest = company.history.latest()
    assert latest.history_actor == f"user:{admin_user.username}"
    assert api.get(f"/api/companies/{company.cnpj}/").json()["trade_name"] == "Original"


# --- the history in plain words -------------------------------------------------------------------
def _history(client, company):
    response = client.get(f"{CHANGELIST}{company.pk}/history/")
    assert response.status_code == 200
    return response.content.decode()


def test_history_says_who_when_and_what_changed_in_words(admin_client, admin_user, api, settings, in_english):
    settings.TIME_ZONE = "America/Sao_Paulo"
    admin_user.first_name, admin_user.last_name = "Maria", "Lima"
    admin_user.save()
    company = CompanyFactory(trade_name="Antes", share_capital=None)
    api.patch(
        f"/api/companies/{company.cnpj}/",
        {"trade_name": "Depois", "share_capital": "1234567.50", "partners": [{"name": "Ana", "role": "Sócia"}]},
        format="json",
    )
    with acting_as("command:import_companies"):
        services.company_update(company=company, opened_on=datetime.date(2001, 2, 3))
    data = form_data(admin_client, change_url(company), city="Campinas")
    assert admin_client.post(change_url(company), data).status_code == 302
    at_noon_utc = datetime.datetime(2025, 1, 15, 12, 0, tzinfo=datetime.UTC)
    company.history.filter(history_type="+").update(history_date=at_noon_utc)

    html = _history(admin_client, company)
    rows = html.split('<tr class="history-row')[1:]
    assert len(rows) == 4
    newest, by_command, by_key, created = rows
    assert "Maria Lima (admin)" in newest and "São Paulo" in newest and "Campinas" in newest
    assert "&rarr;" in newest and 'data-field="city"' in newest
    assert "command import_companies" in by_command and "02/03/2001" in by_command  # en-us: m/d/Y
    assert "API key test-service" in by_key
    assert "Antes</span>&nbsp;&rarr;&nbsp;<span class=\"history-new\">Depois" in by_key
    assert "1,234,567.50" in by_key  # a number, grouped
    assert "Ana (Sócia)" in by_key  # the partners list summarised
    assert "the system" in created and "Created" in created  # the factory wrote it, outside any request
    assert company.cnpj_formatted in created
    assert 'datetime="2025-01-15T09:00:00-03:00"' in created  # local time
    assert "9 a.m." in created
    for raw in ("history_actor", "Change reason", "Comment", "None", "user:", "api_key:"):
        assert raw not in html.split('id="change-history"')[1], raw


def test_history_in_portuguese_uses_the_local_formats(admin_client, settings):
    settings.TIME_ZONE = "America/Sao_Paulo"
    company = CompanyFactory(main_activity_code="6201501", zip_code="01310100")
    services.company_update(company=company, status_date=datetime.date(2024, 12, 31))
    html = admin_client.get(f"{CHANGELIST}{company.pk}/history/", HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    assert "31/12/2024" in html
    assert "6201-5/01" in html  # the CNAE as printed
    assert "01310-100" in html and "01310100" not in html  # the CEP as the list shows it


def test_the_change_form_labels_the_cnpj_root(admin_client, in_english):
    page = admin_client.get(change_url(CompanyFactory()))
    assert '<label>CNPJ root:</label>' in page.content.decode()


# --- actions that say what they did ------------------------------------------------------------
@pytest.fixture
def empty_queue():
    purge_queue()
    yield
    purge_queue()


def _act(client, action, companies):
    response = client.post(
        CHANGELIST, {"action": action, "_selected_action": [company.pk for company in companies]}, follow=True
    )
    assert response.status_code == 200
    return [(message.level_tag, str(message)) for message in response.context["messages"]]


def test_re_enrich_queues_and_says_how_many_were_skipped_and_why(admin_client, empty_queue, in_english):
    fresh = CompanyFactory.create_batch(3)
    now = timezone.now()
    waiting = CompanyFactory(enrichment_due_at=now - datetime.timedelta(minutes=1))
    running = CompanyFactory(enrichment_due_at=now, enrichment_claimed_until=now + datetime.timedelta(minutes=1))
    backing_off = CompanyFactory(enrichment_due_at=now + datetime.timedelta(hours=1))
    messages = _act(admin_client, "refresh_from_registry", [*fresh, waiting, running, backing_off])
    assert messages == [
        (
            "success",
            "4 companies queued for a new registry lookup; 2 skipped: 1 is being looked up right now, "
            "1 is already waiting for its lookup.",
        )
    ]
    assert len(queued_task_ids()) == 4
    assert TaskResult.objects.filter(task_name="companies.enrich").count() == 4


def test_push_to_pipefy_skips_companies_with_a_card(admin_client, empty_queue, settings, in_english):
    settings.PIPEFY_TOKEN, settings.PIPEFY_PIPE_ID = "token", "1"
    uncarded = CompanyFactory.create_batch(3)
    carded = [CompanyFactory(pipefy_card_id="101"), CompanyFactory(pipefy_card_id="102")]
    messages = _act(admin_client, "push_to_pipefy", [*uncarded, *carded])
    assert messages == [("success", "3 companies queued for Pipefy; 2 skipped: 2 already have a Pipefy card.")]
    assert TaskResult.objects.filter(task_name="companies.push_to_pipefy").count() == 3
    only_carded = _act(admin_client, "push_to_pipefy", carded[:1])
    assert only_carded == [("warning", "0 companies queued for Pipefy; 1 skipped: 1 already has a Pipefy card.")]


def test_push_to_pipefy_when_pipefy_is_not_configured(admin_client, empty_queue, settings, in_english):
    settings.PIPEFY_TOKEN = ""
    messages = _act(admin_client, "push_to_pipefy", [CompanyFactory()])
    assert messages == [
        ("error", "Pipefy is not configured on this server (PIPEFY_TOKEN and PIPEFY_PIPE_ID): nothing was queued.")
    ]
    assert not TaskResult.objects.exists()


def test_actions_with_the_task_queue_down_say_so_and_queue_nothing(admin_client, empty_queue, settings, in_english):
    settings.PIPEFY_TOKEN, settings.PIPEFY_PIPE_ID = "token", "1"
    companies = CompanyFactory.create_batch(2)
    with broker_unreachable():
        for action in ("refresh_from_registry", "push_to_pipefy"):
            messages = _act(admin_client, action, companies)
            assert messages == [("error", "The task queue is unavailable: nothing was queued. Try again shortly.")]
    assert not TaskResult.objects.exists()
    assert not Company.objects.filter(enrichment_due_at__isnull=False).exists()


def test_operators_get_the_actions_and_readers_none(make_user):
    operator = make_user(username="operador", is_staff=True)
    operator.groups.add(Group.objects.get(name="Operadores"))
    operator_client = Client()
    operator_client.force_login(operator)
    choices = dict(operator_client.get(CHANGELIST).context["action_form"].fields["action"].choices)
    assert {"refresh_from_registry", "push_to_pipefy"} <= set(choices)


    reader = make_user(username="leitor", is_staff=True)
    reader.groups.add(Group.objects.get(name="Leitores"))
    client = Client()
    client.force_login(reader)
    company = CompanyFactory()
    page = client.get(CHANGELIST)
    assert page.status_code == 200 and page.context["action_form"] is None
    assert 'name="action"' not in page.content.decode()
    client.post(CHANGELIST, {"action": "refresh_from_registry", "_selected_action": [company.pk]})
    assert not TaskResult.objects.exists()


def test_the_list_shows_brazilian_formats_and_sao_paulo_time(admin_client):
    from datetime import UTC, datetime
    from decimal import Decimal

    company = CompanyFactory(cnpj=numeric_cnpj(11221332), zip_code="01310100", share_capital=Decimal("1234.56"))
    Company.objects.filter(pk=company.pk).update(updated_at=datetime(2024, 1, 31, 2, 5, tzinfo=UTC))
    page = admin_client.get(CHANGELIST).content.decode()
    row = page[page.index(f'href="{change_url(company)}"') :].split("</tr>")[0]
    assert company.cnpj_formatted in row and "11.221.333/0001" in row
    assert "01310-100" in row and "R$ 1.234,56" in row
    assert "30/01/2024 23:05" in row  # 02:05 UTC is the evening before in São Paulo
    assert "Razão social" in page and "Capital social" in page and "Situação cadastral" in page  # the headers

    in_english = admin_client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "R$ 1,234.56" in in_english and "01310-100" in in_english and "Jan. 30, 2024, 11:05 p.m." in in_english


def test_a_reader_sees_the_formatted_values_and_an_editor_the_plain_inputs(admin_client, make_user):
    from decimal import Decimal

    from django.contrib.auth.models import Group
    from django.test import Client

    company = CompanyFactory(zip_code="01310100", share_capital=Decimal("50000"), status_date="2024-02-29")
    reader = make_user(username="leitora", is_staff=True)
    reader.groups.add(Group.objects.get(name="Leitores"))
    client = Client()
    client.force_login(reader)
    page = client.get(change_url(company)).content.decode()
    assert company.cnpj_formatted in page and "01310-100" in page and "R$ 50.000,00" in page
    assert "29/02/2024" in page  # dd/mm/aaaa

    form = admin_client.get(change_url(company)).content.decode()
    assert 'name="share_capital" value="50000.00"' in form and 'name="zip_code" value="01310100"' in form
    assert 'name="status_date" value="29/02/2024"' in form and company.cnpj_formatted in form


def test_the_saved_message_reads_well_in_portuguese(admin_client):
    company = CompanyFactory(legal_name="Padaria Curitiba Ltda")
    data = form_data(admin_client, change_url(company), city="Curitiba")
    response = admin_client.post(change_url(company), data, follow=True)
    (shown,) = [str(message) for message in response.context["messages"]]
    assert shown.startswith("Registro “<a href=") and f">{company}</a>” (empresa) alterado com sucesso." in shown
    assert "O empresa" not in shown


@pytest.mark.parametrize("selected", ["abc", "", "1.5"])
def test_an_action_with_a_hand_edited_selection_is_refused_with_a_message(admin_client, selected):
    company = CompanyFactory()
    response = admin_client.post(
        CHANGELIST, {"action": "refresh_from_registry", "_selected_action": [company.pk, selected]}, follow=True
    )
    assert response.status_code == 200
    assert [message.level_tag for message in response.context["messages"]] == ["error"]
