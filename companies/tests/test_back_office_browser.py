"""The back office's acceptance, in a real browser and in Portuguese: a member of "Operadores" signs
in, reads the dashboard, follows a figure to the filtered list, exports it, adds a partner as a
row, reads the change in the history, and imports a file while a real Celery worker runs it.

The screenshots go to test-artifacts/screenshots/; the staff guide's pictures are parts of the same
pages, written into docs/staff/img/ by `make docs-screenshots` (DOCS_SCREENSHOTS=1)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from companies import cnpj as cnpj_value
from companies.models import Company, RegistrationStatus
from companies.tests.factories import CompanyFactory, numeric_cnpj
from integrations.fake import FakeServer
from integrations.testing import forget_shared_state
from tasks.testing import CeleryProcess, process_env, purge_queue

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    # A Brazilian staff member's browser: it asks for Portuguese and lives on São Paulo time.
    pytest.mark.browser_context_args(
        locale="pt-BR", timezone_id="America/Sao_Paulo", viewport={"width": 1440, "height": 900}
    ),
]
PASSWORD = "Operadora-Passw0rd!"


@pytest.fixture
def staff_member(transactional_db):
    user = get_user_model().objects.create_user(
        "ana", "ana@example.com", PASSWORD, first_name="Ana", last_name="Lima", is_staff=True
    )
    user.groups.add(Group.objects.get(name="Operadores"))
    return user


@pytest.fixture
def companies(transactional_db):
    """Three active companies in SP (one with a CEP and a share capital to read formatted), one
    closed in RJ, one suspended in MG."""
    in_sp = [
        CompanyFactory(
            cnpj=numeric_cnpj(100), legal_name="Padaria Paulista Ltda", trade_name="Padaria Paulista",
            zip_code="01310100", share_capital=Decimal("1234.56"),
        ),
        CompanyFactory(cnpj=numeric_cnpj(101), legal_name="Oficina Santos Ltda", city="Santos"),
        CompanyFactory(cnpj=numeric_cnpj(102), legal_name="Livraria Campinas Ltda", city="Campinas"),
    ]
    CompanyFactory(
        cnpj=numeric_cnpj(103), legal_name="Café Carioca Ltda", city="Rio de Janeiro", state="RJ",
        registration_status=RegistrationStatus.BAIXADA,
    )
    CompanyFactory(
        cnpj=numeric_cnpj(104), legal_name="Queijaria Mineira Ltda", city="Belo Horizonte", state="MG",
        registration_status=RegistrationStatus.SUSPENSA,
    )
    return in_sp


@pytest.fixture
def worker(transactional_db, settings, tmp_path):
    """A real Celery worker process on the suite's broker and test database, not started: the test
    starts it once its upload is waiting, so the progress page is seen before the report."""
    fake = FakeServer().start()
    forget_shared_state()
    purge_queue()  # messages other tests queued without a worker
    # New companies get their registry lookup queued: one short drainer, answered by the fake.
    env = process_env(settings, fake, BACKLOG_DRAINERS="1", BACKLOG_DRAIN_SECONDS="2")
    process = CeleryProcess(env, tmp_path, name="back-office")
    yield process
    process.stop()
    purge_queue()
    forget_shared_state()
    fake.stop()


def sign_in(page, base):
    page.goto(f"{base}/admin/login/?next=/admin/")
    expect(page.locator("html")).to_have_attribute("lang", "pt-br")
    page.fill("#id_username", "ana")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page).to_have_url(f"{base}/admin/")


def overlap(first, second) -> bool:
    """Whether two elements' boxes on the page cover each other."""
    a, b = first.bounding_box(), second.bounding_box()
    return not (
        a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"]
    )


def lines_of(element) -> int:
    """How many lines an element's text takes on the page."""
    return element.evaluate(
        "element => { const range = document.createRange(); range.selectNodeContents(element);"
        " return new Set([...range.getClientRects()].map(rect => Math.round(rect.top))).size; }"
    )


def csv_rows(path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


class Visit:
    """The browser page and its pictures: shot() saves the full page (test artifacts) and a part of
    it for the staff guide."""

    def __init__(self, page, screenshot, guide_screenshot):
        self.page, self.base = page, page.base
        self._screenshot, self._guide_screenshot = screenshot, guide_screenshot

    def shot(self, name, part, *, until=None):
        self._screenshot(f"back-office-{name}")
        self._guide_screenshot(name, part, until=until)


def read_the_dashboard(visit):
    page = visit.page
    dashboard = page.locator("#dashboard-companies")
    expect(dashboard.locator("h2").first).to_have_text("Empresas")
    expect(dashboard.locator("[data-figure=companies]")).to_contain_text("5")
    expect(page.locator("#chart-registration-status figcaption")).to_have_text("Empresas por situação cadastral")
    expect(page.locator('[data-figure="registration_status-ATIVA"] .dashboard-count')).to_have_text("3")
    expect(page.locator('[data-figure="registration_status-BAIXADA"] .dashboard-count')).to_have_text("1")
    expect(page.locator('[data-figure="state-SP"] .dashboard-count')).to_have_text("3")
    expect(page.locator('[data-figure="state-RJ"] .dashboard-count')).to_have_text("1")
    expect(page.locator("#dashboard-tasks")).to_have_count(0)  # failed tasks: superusers only
    visit.shot("dashboard", dashboard)


def follow_a_figure_to_its_list(visit, *, expected: set[str], padaria_cnpj: str):
    page = visit.page
    page.locator('a[data-figure="state-SP"]').click()
    expect(page).to_have_url(f"{visit.base}/admin/companies/company/?state__exact=SP")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#result_list thead")).to_contain_text("Situação cadastral")
    assert {text.strip() for text in page.locator("#result_list tbody th").all_inner_texts()} == expected
    padaria_row = rows.filter(has_text=padaria_cnpj)
    expect(padaria_row.locator("td.field-share_capital_formatted")).to_have_text("R$ 1.234,56")
    expect(padaria_row.locator("td.field-zip_code_formatted")).to_have_text("01310-100")
    expect(padaria_row.locator("td.field-city_uf")).to_have_text("São Paulo/SP")
    for cell in ("th.field-cnpj_formatted", "td.field-zip_code_formatted", "td.field-share_capital_formatted"):
        assert lines_of(padaria_row.locator(cell)) == 1, cell
    # The buttons (import, export, add) sit beside the title, not over the backlog's figures.
    expect(page.locator(".object-tools #import-file")).to_have_text("Importar")
    assert not overlap(page.locator(".object-tools"), page.locator("#enrichment-figures"))
    visit.shot("filtered-list", page.locator("#content"), until=page.locator("#changelist .paginator"))


def export_the_list(visit, *, expected: set[str], padaria_cnpj: str):
    page = visit.page
    expect(page.locator("#export-csv")).to_have_text("Exportar CSV")
    with page.expect_download() as download_info:
        page.click("#export-csv")
    download = download_info.value
    assert download.suggested_filename.startswith("company-") and download.suggested_filename.endswith(".csv")
    exported = csv_rows(download.path())
    assert {row["CNPJ"] for row in exported} == expected
    assert {row["UF"] for row in exported} == {"SP"}
    assert next(row for row in exported if row["CNPJ"] == padaria_cnpj)["Capital social"] == "1234.56"


def add_a_partner(visit, *, company, cnpj: str):
    page = visit.page
    page.locator("#result_list tbody th a", has_text=cnpj).click()
    expect(page.locator(".field-root label")).to_have_text("Raiz do CNPJ:")
    expect(page.locator("#partners-group h2")).to_have_text("Sócios")
    expect(page.locator("#partners-rows thead")).to_contain_text("Qualificação")
    page.fill("[name=partners-0-name]", "Maria Souza")
    page.fill("[name=partners-0-role]", "Sócia-Administradora")
    page.fill("[name=partners-0-since]", "15/03/2020")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_contain_text("alterado com sucesso")
    expect(page.locator("[name=partners-0-name]")).to_have_value("Maria Souza")
    expect(page.locator("[name=partners-0-role]")).to_have_value("Sócia-Administradora")
    expect(page.locator("[name=partners-0-since]")).to_have_value("15/03/2020")
    company.refresh_from_db()
    assert company.partners == [{"name": "Maria Souza", "role": "Sócia-Administradora", "since": "2020-03-15"}]
    visit.shot("partner-rows", page.locator("#partners-group"))


def read_the_history(visit):
    page = visit.page
    page.locator("a.historylink").click()
    expect(page.locator("#change-history thead")).to_contain_text("O que mudou")
    history = page.locator("#change-history tr.history-row")
    expect(history).to_have_count(2)  # newest first: the change, then the creation
    latest = history.first
    expect(latest.locator(".history-who")).to_have_text("Ana Lima (ana)")
    change = latest.locator('li[data-field="partners"]')
    expect(change.locator(".history-field")).to_have_text("Sócios")
    expect(change.locator(".history-old")).to_have_text("—")
    expect(change.locator(".history-new")).to_have_text("Maria Souza (Sócia-Administradora) desde 15/03/2020")
    visit.shot("history", page.locator("#change-history"))


def upload_a_file(visit, content: str) -> list[int]:
    """Upload `content` as empresas.csv; returns the statuses of the progress page's calls to the
    task status API, as they come."""
    page = visit.page
    page.goto(f"{visit.base}/admin/companies/company/")
    page.locator("#import-file").click()
    expect(page.locator("#import-form input[type=submit]")).to_have_value("Enviar e importar")
    page.set_input_files(
        "#import-form input[type=file]",
        files=[{"name": "empresas.csv", "mimeType": "text/csv", "buffer": content.encode()}],
    )
    status_polls = []
    page.on("response", lambda response: "/api/tasks/" in response.url and status_polls.append(response.status))
    page.click("#import-form input[type=submit]")
    progress = page.locator("#import-progress")
    expect(progress).to_be_visible()
    expect(page.locator(".messagelist .info")).to_contain_text("“empresas.csv” está sendo importado")
    expect(progress.locator("[data-status]")).to_have_text("Aguardando um worker…")
    expect(progress.locator("[data-counts]")).to_have_text("0 de 4 linhas")
    visit.shot("import-progress", page.locator("#content"))
    return status_polls


def read_the_import_report(visit, *, status_polls: list[int]):
    page = visit.page
    report = page.locator("#import-report")
    expect(report).to_be_visible(timeout=30_000)
    assert status_polls and set(status_polls) == {200}, status_polls  # the bar followed the task
    expect(report.locator("h2").first).to_have_text("Importação concluída")
    expect(report.locator("progress")).to_have_attribute("value", "1")
    labels = report.locator("tr:has(td[data-figure]) th").all_inner_texts()
    numbers = report.locator("td[data-figure]").all_inner_texts()
    assert dict(zip((label.strip() for label in labels), (number.strip() for number in numbers), strict=True)) == {
        "Linhas lidas": "4", "Inseridas": "2", "Já gravadas": "1", "Repetidas no arquivo": "0", "Inválidas": "1",
    }
    invalid = page.locator("#import-errors tbody tr")
    expect(invalid).to_have_count(1)
    expect(invalid.locator("td").first).to_have_text("3")
    expect(invalid.locator("td").nth(1)).to_contain_text("cnpj")
    visit.shot("import-report", page.locator("#content"))

    with page.expect_download() as download_info:
        page.click("#import-errors-csv")
    invalid_rows = list(csv.reader(io.StringIO(download_info.value.path().read_text(encoding="utf-8"))))
    assert [row[0] for row in invalid_rows] == ["linha", "3"]


def test_a_day_in_the_back_office(browser_page, screenshot, guide_screenshot, staff_member, companies, worker):
    visit = Visit(browser_page, screenshot, guide_screenshot)
    padaria = companies[0]
    padaria_cnpj = cnpj_value.format_cnpj(padaria.cnpj)
    in_sp = {cnpj_value.format_cnpj(company.cnpj) for company in companies}

    sign_in(visit.page, visit.base)
    expect(visit.page.locator("#user-tools")).to_contain_text("Ana")
    read_the_dashboard(visit)
    follow_a_figure_to_its_list(visit, expected=in_sp, padaria_cnpj=padaria_cnpj)
    export_the_list(visit, expected=in_sp, padaria_cnpj=padaria_cnpj)
    add_a_partner(visit, company=padaria, cnpj=padaria_cnpj)
    read_the_history(visit)

    new_cnpjs = [numeric_cnpj(200), numeric_cnpj(201)]
    status_polls = upload_a_file(
        visit,
        "cnpj,legal_name,city,state\n"
        f"{cnpj_value.format_cnpj(new_cnpjs[0])},Mercado Recife Ltda,Recife,PE\n"
        "11.111.111/1111-11,CNPJ errado Ltda,Natal,RN\n"  # line 3: wrong check digits
        f"{new_cnpjs[1]},Farmácia Olinda Ltda,Olinda,PE\n"
        f"{padaria.cnpj},Padaria Paulista Ltda,São Paulo,SP\n",  # stored already
    )
    worker.start()  # the page follows the task through the status API, then shows the report
    read_the_import_report(visit, status_polls=status_polls)
    # Stored as the person who uploaded the file (their names may since have come from the registry).
    imported = Company.history.filter(cnpj__in=new_cnpjs, history_type="+")
    assert sorted(imported.values_list("history_actor", flat=True)) == ["user:ana", "user:ana"]
