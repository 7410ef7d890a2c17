"""The admin index's dashboard (config.dashboard): its figures match the data, each link lands on a
change list showing exactly those rows, the figures are cached and expire, a Redis or MongoDB
outage still renders the page, and each section needs the view permission on its model."""

import html
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_celery_results.models import TaskResult

from books.models import Book
from books.tests.factories import BookFactory
from companies import backlog
from companies.models import Company, EnrichmentStatus
from companies.tests.factories import CompanyFactory
from config import dashboard
from core import outages

pytestmark = [pytest.mark.django_db(databases=["default", "mongo"]), pytest.mark.usefixtures("in_english")]
PASSWORD = "Correct-Horse-Battery-9"


@pytest.fixture
def companies():
    """Seven companies across statuses, UFs, enrichment outcomes and both backlogs."""
    made = [
        CompanyFactory(registration_status="ATIVA", state="SP", enrichment_status=EnrichmentStatus.OK),
        CompanyFactory(registration_status="ATIVA", state="SP", enrichment_status=EnrichmentStatus.PENDING),
        CompanyFactory(registration_status="ATIVA", state="RJ", enrichment_status=EnrichmentStatus.FAILED),
        CompanyFactory(registration_status="BAIXADA", state="MG", enrichment_status=EnrichmentStatus.NOT_FOUND),
        CompanyFactory(registration_status="SUSPENSA", state="", enrichment_status=EnrichmentStatus.PENDING),
        CompanyFactory(registration_status="ATIVA", state="SP", pipefy_card_id="card-1"),
        CompanyFactory(registration_status="INAPTA", state="BA", pipefy_error="Pipe refused the card."),
    ]
    backlog.queue_request(backlog.ENRICHMENT, Company.objects.filter(pk__in=[made[1].pk, made[4].pk]))
    backlog.queue_request(backlog.PIPEFY, Company.objects.filter(pk=made[0].pk))
    claimed = backlog.queue_claim(backlog.ENRICHMENT, company_id=made[4].pk)  # one lookup in progress
    assert claimed is not None
    return made


def _figures(response) -> dict:
    """data-figure -> Figure, from the page's context; each one is also checked to be in the HTML."""
    assert response.status_code == 200
    content = response.content.decode()
    found = {}
    for section in response.context["dashboard"].values():
        if section.get("unavailable"):
            continue
        figures = [value for key, value in section.items() if isinstance(value, dashboard.Figure)]
        for value in section.values():
            if isinstance(value, list):
                figures += [item for item in value if isinstance(item, dashboard.Figure)]
        for chart in section.get("charts", []):
            figures += [bar.figure for bar in chart.bars]
        for figure in figures:
            assert f'href="{html.escape(figure.url)}" data-figure="{figure.key}"' in content, figure
            found[figure.key] = figure
    return found


def _rows(client, url) -> set:
    response = client.get(url)
    assert response.status_code == 200, url
    changelist = response.context["cl"]
    assert changelist.result_count <= changelist.list_per_page, "the test keeps to one page"
    return {row.pk for row in changelist.result_list}


def test_company_figures_match_the_data_and_each_link_shows_exactly_those_rows(admin_client, companies):
    figures = _figures(admin_client.get("/admin/"))
    expected = {
        "companies": Company.objects.all(),
        "registration_status-ATIVA": Company.objects.filter(registration_status="ATIVA"),
        "registration_status-BAIXADA": Company.objects.filter(registration_status="BAIXADA"),
        "registration_status-NULA": Company.objects.none(),
        "state-SP": Company.objects.filter(state="SP"),
        "state-none": Company.objects.filter(state=""),
        "enrichment_status-pending": Company.objects.filter(enrichment_status="pending"),
        "enrichment_status-failed": Company.objects.filter(enrichment_status="failed"),
        "enrichment_status-not_found": Company.objects.filter(enrichment_status="not_found"),
        "backlog-enrichment_waiting": Company.objects.filter(pk=companies[1].pk),
        "backlog-enrichment_in_progress": Company.objects.filter(pk=companies[4].pk),
        "backlog-pipefy_waiting": Company.objects.filter(pk=companies[0].pk),
        "backlog-pipefy_in_progress": Company.objects.none(),
        "backlog-pipefy_failed": Company.objects.filter(pk=companies[6].pk),
        "backlog-pipefy_card": Company.objects.filter(pk=companies[5].pk),
    }
    for key, queryset in expected.items():
        assert figures[key].count == queryset.count(), key
        assert _rows(admin_client, figures[key].url) == set(queryset.values_list("pk", flat=True)), key
    assert figures["registration_status-ATIVA"].count == 4 and figures["state-SP"].count == 3
    assert "state-PR" not in figures  # UFs without companies are left out of the chart
    # The UF chart is ordered by count; each bar is as long as its share of the largest.
    uf_chart = next(chart for chart in admin_client.get("/admin/").context["dashboard"]["companies"]["charts"]
                    if chart.id == "chart-uf")
    assert uf_chart.bars[0].figure.key == "state-SP"
    assert uf_chart.bars[0].width == dashboard.BAR_AREA
    assert uf_chart.bars[1].width == round(dashboard.BAR_AREA / 3, 1)


def test_task_failures_of_the_last_24_hours_and_their_link(admin_client):
    for task_id, status in (("recent-1", "FAILURE"), ("recent-2", "FAILURE"), ("old", "FAILURE"), ("ok", "SUCCESS")):
        TaskResult.objects.create(task_id=task_id, task_name="companies.enrich", status=status)
    TaskResult.objects.filter(task_id="old").update(date_done=timezone.now() - timedelta(hours=30))
    figure = _figures(admin_client.get("/admin/"))["task_failures"]
    assert figure.count == 2
    shown = _rows(admin_client, figure.url)
    assert shown == set(TaskResult.objects.filter(task_id__startswith="recent").values_list("pk", flat=True))


def test_book_figures_by_language_and_archived(admin_client):
    BookFactory(language="pt")
    BookFactory(language="pt")
    BookFactory(language="en")
    BookFactory(language="")
    BookFactory(language="en", archived_at=timezone.now())
    figures = _figures(admin_client.get("/admin/"))
    expected = {
        "books": Book.objects.all(),
        "language-pt": Book.objects.filter(language="pt"),
        "language-en": Book.objects.filter(language="en"),
        "language-none": Book.objects.filter(language=""),
        "books_archived": Book.objects.archived(),
    }
    for key, queryset in expected.items():
        assert figures[key].count == queryset.count(), key
        assert _rows(admin_client, figures[key].url) == set(queryset.values_list("pk", flat=True)), key
    assert (figures["language-pt"].count, figures["language-en"].count, figures["books_archived"].count) == (2, 2, 1)


def test_figures_are_cached_then_counted_again(admin_client, settings, companies):
    settings.DASHBOARD_CACHE_SECONDS = 2
    first = admin_client.get("/admin/")
    assert _figures(first)["companies"].count == 7
    assert "Updated 0 s ago." in first.content.decode()
    CompanyFactory()
    time.sleep(1.1)
    cached = admin_client.get("/admin/")
    assert _figures(cached)["companies"].count == 7  # served from the cache
    assert "Updated 1 s ago." in cached.content.decode()
    time.sleep(1.2)
    assert _figures(admin_client.get("/admin/"))["companies"].count == 8  # expired: counted again


def test_no_cache_counts_on_every_view(admin_client, settings, companies):
    settings.DASHBOARD_CACHE_SECONDS = 0
    assert _figures(admin_client.get("/admin/"))["companies"].count == 7
    CompanyFactory()
    assert _figures(admin_client.get("/admin/"))["companies"].count == 8


def test_large_tables_get_postgresqls_estimates(admin_client, settings):
    """Past DASHBOARD_EXACT_COUNT_MS the exact pass is cancelled and the planner's estimates shown."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO companies_company (cnpj, legal_name, trade_name, registration_status, legal_nature, size,"
            " main_activity_code, main_activity_description, secondary_activities, partners, street, street_number,"
            " complement, district, city, state, zip_code, city_ibge_code, email, phone, registry_source,"
            " enrichment_status, enrichment_error, pipefy_card_id, pipefy_error, enrichment_attempts,"
            " pipefy_attempts, created_at, updated_at)"
            " SELECT lpad(i::text, 12, '0') || '00', '', '', CASE WHEN i % 4 = 0 THEN 'BAIXADA' ELSE 'ATIVA' END,"
            " '', '', '', '', '[]', '[]', '', '', '', '', '', CASE WHEN i % 2 = 0 THEN 'SP' ELSE 'RJ' END, '', '',"
            " '', '', '', 'ok', '', '', '', 0, 0, now(), now() FROM generate_series(1, 60000) AS i"
        )
        cursor.execute("ANALYZE companies_company")
    settings.DASHBOARD_EXACT_COUNT_MS = 1
    response = admin_client.get("/admin/")
    figures = _figures(response)
    assert response.context["dashboard"]["companies"]["estimated"] is True
    assert "Estimated by PostgreSQL" in response.content.decode()
    assert figures["registration_status-ATIVA"].count == pytest.approx(45000, rel=0.1)
    assert figures["registration_status-BAIXADA"].count == pytest.approx(15000, rel=0.1)
    assert figures["state-SP"].count == pytest.approx(30000, rel=0.1)
    assert "state-PR" not in figures and figures["registration_status-NULA"].count == 0

    settings.DASHBOARD_EXACT_COUNT_MS = 10_000
    dashboard.forget()
    exact = _figures(admin_client.get("/admin/"))
    assert (exact["registration_status-ATIVA"].count, exact["state-SP"].count) == (45000, 30000)


def test_an_unknown_backlog_filter_value_lists_everything(admin_client, companies):
    response = admin_client.get("/admin/companies/company/?backlog=nonsense")
    assert response.status_code == 200 and response.context["cl"].result_count == len(companies)


def _staff(make_user, *, perms=(), group=None):
    user = make_user(username=f"staff-{group or len(perms)}", password=PASSWORD, is_staff=True, perms=perms)
    if group:
        user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    return client


def test_each_section_needs_the_view_permission_on_its_model(make_user, companies):
    books_only = _staff(make_user, perms=["books.view_book"]).get("/admin/")
    assert set(books_only.context["dashboard"]) == {"books"}
    content = books_only.content.decode()
    assert 'id="dashboard-books"' in content and 'id="dashboard-companies"' not in content
    assert "data-figure=\"registration_status-" not in content and "task_failures" not in content

    readers = _staff(make_user, group="Leitores").get("/admin/")  # companies and books, read only
    assert set(readers.context["dashboard"]) == {"companies", "books"}
    assert 'id="dashboard-tasks"' not in readers.content.decode()

    nothing = _staff(make_user).get("/admin/")
    assert nothing.status_code == 200 and 'id="dashboard"' not in nothing.content.decode()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, databases=["default", "mongo"])
def test_redis_down_the_page_still_renders_with_fresh_counts(admin_client, redis_server, companies):
    assert _figures(admin_client.get("/admin/"))["companies"].count == 7
    redis_server.kill()
    try:
        CompanyFactory()
        started = time.monotonic()
        response = admin_client.get("/admin/")
        assert time.monotonic() - started < 5
        figures = _figures(response)
        assert figures["companies"].count == 8  # counted now: nothing cached to serve
        assert response.context["dashboard"]["companies"]["providers"]
    finally:
        redis_server.restart()
        outages.CACHE.clear()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, databases=["default", "mongo"])
def test_mongodb_down_the_books_part_says_unavailable(admin_client, mongo_server, companies, settings):
    settings.DASHBOARD_CACHE_SECONDS = 0
    BookFactory(language="pt")
    assert _figures(admin_client.get("/admin/"))["books"].count == 1
    mongo_server.kill()
    try:
        response = admin_client.get("/admin/")
        assert response.status_code == 200
        assert response.context["dashboard"]["books"] == {"unavailable": True}
        content = response.content.decode()
        assert "Book figures are unavailable" in content
        assert _figures(response)["companies"].count == 7  # the rest of the page is unaffected
        assert outages.MONGODB.down_for() > 0  # the next views do not wait for MongoDB again
    finally:
        mongo_server.restart()
        outages.MONGODB.clear()


@pytest.mark.slow
def test_a_hung_book_database_costs_the_page_its_budget_and_shows_the_last_figures(
    admin_client, mongo_server, companies, settings
):
    settings.DASHBOARD_CACHE_SECONDS = 0
    settings.DASHBOARD_EXACT_COUNT_MS = 300
    BookFactory(language="pt")
    assert _figures(admin_client.get("/admin/"))["books"].count == 1
    try:
        with mongo_server.paused():
            started = time.monotonic()
            response = admin_client.get("/admin/")
            elapsed = time.monotonic() - started
    finally:
        outages.MONGODB.clear()
    assert response.status_code == 200 and elapsed < 2
    books = response.context["dashboard"]["books"]
    assert books["late"] is True and _figures(response)["books"].count == 1  # the last figures counted in time
    assert _figures(response)["companies"].count == 7
    assert _figures(admin_client.get("/admin/"))["books"].count == 1  # counted again once it answers
