"""The companies admin's import (upload, task, progress, report) and export (CSV, XLSX)."""

import csv
import io
import re

import pytest
from celery import current_app as celery_app
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_celery_results.models import TaskResult

from companies.models import Company
from companies.tests.factories import CompanyFactory, numeric_cnpj
from tasks.models import ImportJob
from tasks.testing import purge_queue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]
CHANGELIST = "/admin/companies/company/"
IMPORT = f"{CHANGELIST}import/"
EXPORT = f"{CHANGELIST}export/"


@pytest.fixture
def eager():
    """Tasks run in the request, as under `make run`."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def empty_queue():
    purge_queue()
    yield
    purge_queue()


def upload(client, text: str | bytes, name="companies.csv"):
    content = text.encode() if isinstance(text, str) else text
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, content, content_type="text/csv")})


def staff_client(make_user, *perms):
    user = make_user(username="-".join(["staff", *perms]) or "staff", is_staff=True, perms=perms)
    client = Client()
    client.force_login(user)
    return client


GOOD_FILE = (
    "cnpj,legal_name,state\n"
    f"{numeric_cnpj(1)},Primeira Ltda,SP\n"  # line 2
    "11.222.333/0001-82,Bad Digits,SP\n"  # line 3
    f"{numeric_cnpj(2)},Segunda Ltda,XX\n"  # line 4
    f"{numeric_cnpj(3)},Terceira Ltda,RJ\n"  # line 5
    f"{numeric_cnpj(1)},Repetida Ltda,SP\n"  # line 6
    f"{numeric_cnpj(9)},Stored,SP\n"  # line 7
)


def test_an_upload_is_imported_by_the_task_and_reported(admin_client, admin_user, eager):
    CompanyFactory(cnpj=numeric_cnpj(9), legal_name="Already Here")
    response = upload(admin_client, GOOD_FILE)
    assert response.status_code == 302, response.content
    job = ImportJob.objects.get()
    assert response["Location"] == f"{IMPORT}{job.pk}/"
    assert (job.target, job.filename, job.rows_total, job.actor) == (
        "companies.company", "companies.csv", 6, f"user:{admin_user.username}"
    )
    assert job.content == "" and job.finished_at is not None  # the text is not kept once imported

    page = admin_client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="import-report"' in html and 'id="import-progress"' not in html
    figures = dict(page.context["figures"])
    assert (figures["Rows read"], figures["Inserted"], figures["Already stored"]) == (6, 2, 1)
    assert (figures["Repeated in the file"], figures["Invalid"]) == (1, 2)
    assert [(row["line"], row["reason"].split(":")[0]) for row in page.context["errors"]] == [
        (3, "cnpj"), (4, "state")
    ]
    assert "The CNPJ check digits do not match" in html

    names = set(Company.objects.values_list("legal_name", flat=True))
    assert names == {"Primeira Ltda", "Terceira Ltda", "Already Here"}
    version = Company.objects.get(cnpj=numeric_cnpj(1)).history.get()
    assert version.history_actor == f"user:{admin_user.username}"
    assert TaskResult.objects.get(task_id=job.task_id).status == "SUCCESS"

    download = admin_client.get(page.context["errors_url"])
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert 'filename="companies-invalid-rows.csv"' in download["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[0] == ["line", "reason"]
    assert [row[0] for row in rows[1:]] == ["3", "4"]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ("cnpj,legal_name\n11222333000181,S\xe3o Paulo Ltda\n".encode("latin-1"), "companies.csv",
         "The file is not UTF-8 text (line 2)"),
        ("cnpj,colour\n11222333000181,blue\n", "companies.csv", "Unknown column(s): colour"),
        ("legal_name\nAcme\n", "companies.csv", "The header has no `cnpj` column."),
        ("", "companies.csv", "file is empty"),  # Django's own message
        ("cnpj\n11222333000181\n", "companies.xlsx", "Choose a .csv file."),
        ("cnpj\n" + "11222333000181\n" * 20, "companies.csv", "the limit is 100"),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_with_nothing_written(admin_client, settings, content, name, message):
    settings.ADMIN_IMPORT_MAX_BYTES = 100
    response = upload(admin_client, content, name=name)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["file"])
    assert message in response.content.decode().replace("&#x27;", "'").replace("&quot;", '"').replace("&#96;", "`")
    assert not ImportJob.objects.exists() and not Company.objects.exists() and not TaskResult.objects.exists()


def test_the_queue_down_refuses_the_upload_and_keeps_nothing(admin_client):
    from tasks.testing import broker_unreachable

    with broker_unreachable():
        response = upload(admin_client, f"cnpj\n{numeric_cnpj(1)}\n")
    assert response.status_code == 200
    assert "The task queue is unavailable; nothing was imported" in response.content.decode()
    assert not ImportJob.objects.exists() and not TaskResult.objects.exists()


def test_the_progress_page_polls_the_task_status_api_then_shows_the_report(admin_client, empty_queue):
    from companies.tasks import company_import_file_task

    response = upload(admin_client, f"cnpj\n{numeric_cnpj(1)}\n{numeric_cnpj(2)}\n")
    job = ImportJob.objects.get()
    page = admin_client.get(response["Location"])
    html = page.content.decode()
    assert 'id="import-progress"' in html and "<progress" in html and 'id="import-report"' not in html
    assert f'data-status-url="/api/tasks/{job.task_id}/"' in html
    assert "Waiting for a worker" in html
    # The script is a file of this server (the CSP forbids inline scripts); without scripts, a refresh.
    assert re.findall(r"<script[^>]*>", html) and all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))
    assert not re.search(r"<script[^>]*>\s*[^<\s]", html)  # every script element is empty
    assert '<noscript><meta http-equiv="refresh"' in html
    assert '/static/tasks/import_progress.js"' in html
    assert finders.find("tasks/import_progress.js")
    script = admin_client.get("/static/tasks/import_progress.js")
    assert script.status_code == 200 and b"import-progress" in b"".join(script.streaming_content)

    status = admin_client.get(f"/api/tasks/{job.task_id}/")
    assert status.status_code == 200
    assert (status.json()["status"], status.json()["progress"]) == ("PENDING", None)

    company_import_file_task.apply(args=[str(job.pk)], task_id=job.task_id)  # what a worker does
    body = admin_client.get(f"/api/tasks/{job.task_id}/").json()
    assert body["status"] == "SUCCESS" and body["result"]["inserted"] == 2
    page = admin_client.get(response["Location"])
    assert 'id="import-report"' in page.content.decode() and dict(page.context["figures"])["Inserted"] == 2
    assert Company.objects.count() == 2
    # Delivered twice: the file is not read again, the report stands.
    company_import_file_task.apply(args=[str(job.pk)], task_id=job.task_id)
    assert admin_client.get(f"/api/tasks/{job.task_id}/").json()["result"]["inserted"] == 2


def test_the_progress_page_names_the_uploader_as_the_history_does(make_user, empty_queue):
    user = make_user(
        username="ana", first_name="Ana", last_name="Lima", is_staff=True,
        perms=("companies.add_company", "companies.view_company"),
    )
    client = Client()
    client.force_login(user)
    page = client.get(upload(client, f"cnpj\n{numeric_cnpj(1)}\n")["Location"])
    html = page.content.decode()
    assert "by Ana Lima (ana)." in html and "user:ana" not in html


def test_the_task_status_api_shows_progress_to_staff_sessions_only(admin_client, make_user, api):
    task_id = "0b6f1c5e-1111-4222-8333-444455556666"
    TaskResult.objects.create(task_id=task_id, task_name="companies.import_file", status="PENDING")
    celery_app.backend.store_result(task_id, {"done": 3000, "total": 10000}, "PROGRESS")
    body = admin_client.get(f"/api/tasks/{task_id}/").json()
    assert (body["status"], body["progress"], body["result"]) == ("STARTED", {"done": 3000, "total": 10000}, None)
    assert api.get(f"/api/tasks/{task_id}/").json()["progress"] == {"done": 3000, "total": 10000}

    not_staff = Client()
    not_staff.force_login(make_user(username="bob"))
    assert not_staff.get(f"/api/tasks/{task_id}/").status_code in (401, 403)
    assert Client().get(f"/api/tasks/{task_id}/").status_code in (401, 403)


def test_import_needs_the_add_permission_and_export_the_view_permission(make_user):
    reader = staff_client(make_user, "companies.view_company")
    changelist = reader.get(CHANGELIST).content.decode()
    assert 'id="export-csv"' in changelist and 'id="import-file"' not in changelist
    assert reader.get(IMPORT).status_code == 403
    assert reader.get(EXPORT, {"format": "csv"}).status_code == 200

    operator = staff_client(make_user, "companies.view_company", "companies.add_company")
    assert 'id="import-file"' in operator.get(CHANGELIST).content.decode()
    assert operator.get(IMPORT).status_code == 200

    nobody = staff_client(make_user)
    assert nobody.get(EXPORT, {"format": "csv"}).status_code == 403


def _csv_rows(response) -> list[list[str]]:
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # spreadsheets then read the accents right
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_csv_export_is_the_change_list_as_filtered_searched_and_ordered(admin_client):
    for number in range(6):
        CompanyFactory(
            cnpj=numeric_cnpj(100 + number),
            legal_name=f"{'Padaria' if number % 2 else 'Oficina'} {number} Ltda",
            state="SP" if number < 4 else "RJ",
            city="São Paulo",
        )
    CompanyFactory(cnpj=numeric_cnpj(200), legal_name="=HYPERLINK(\"http://x\") Padaria", state="SP")
    query = {"state__exact": "SP", "q": "padaria", "o": "-1"}
    changelist = admin_client.get(CHANGELIST, query)
    expected = [company.cnpj_formatted for company in changelist.context["cl"].result_list]
    assert len(expected) == 3  # 1 and 3 (Padaria, SP) and the formula-looking one

    page = changelist.content.decode()
    link = re.search(r'href="([^"]+)" id="export-csv"', page).group(1).replace("&amp;", "&")
    assert "state__exact=SP" in link and "q=padaria" in link and "format=csv" in link
    response = admin_client.get(link)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="company-\d{8}-\d{6}\.csv"', response["Content-Disposition"])
    rows = _csv_rows(response)
    assert rows[0][:4] == ["CNPJ", "Legal name", "Trade name", "Registration status"]
    assert [row[0] for row in rows[1:]] == expected
    assert "'=HYPERLINK(\"http://x\") Padaria" in [row[1] for row in rows[1:]]  # not a formula in a spreadsheet
    assert {row[16] for row in rows[1:]} == {"SP"}


def test_the_xlsx_export_opens_in_openpyxl_with_the_same_rows(admin_client, settings):
    from openpyxl import load_workbook

    CompanyFactory(cnpj=numeric_cnpj(1), legal_name="=1+1", state="SP")
    CompanyFactory(cnpj=numeric_cnpj(2), legal_name="Ação Ltda", state="SP")
    CompanyFactory(cnpj=numeric_cnpj(3), legal_name="Outra", state="RJ")
    response = admin_client.get(EXPORT, {"state__exact": "SP", "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:2] == ["CNPJ", "Legal name"]
    assert sorted(row[1] for row in rows[1:]) == ["=1+1", "Ação Ltda"]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)  # text, never a formula

    settings.ADMIN_EXPORT_XLSX_MAX_ROWS = 1
    refused = admin_client.get(EXPORT, {"state__exact": "SP", "format": "xlsx"})
    assert refused.status_code == 400 and "at most 1" in refused.content.decode()


def test_a_bad_format_or_filter_is_a_400_with_a_clear_message(admin_client):
    response = admin_client.get(EXPORT, {"format": "pdf"})
    assert response.status_code == 400
    assert "Unknown export format “pdf”; use format=csv or format=xlsx." in response.content.decode()
    response = admin_client.get(EXPORT, {"format": "csv", "no_such_field": "1"})
    assert response.status_code == 400 and "filters are not valid" in response.content.decode()
