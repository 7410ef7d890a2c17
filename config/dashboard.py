"""The admin index's dashboard: the figures the back office watches, each a link to the change list
that shows those rows. How they are counted and how fresh they are: decision 0043.

Company figures come from one pass over the table (a GROUP BY on status, UF and enrichment status,
with the backlog counts as filtered aggregates), given DASHBOARD_EXACT_COUNT_MS; a larger table
gets PostgreSQL's planner estimates instead. Each group of figures is cached for
DASHBOARD_CACHE_SECONDS (Redis); with Redis down every view counts again, within the same budget.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

import pymongo
from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, connections, router, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from psycopg.errors import QueryCanceled
from pymongo.errors import ExecutionTimeout, NetworkTimeout

from books.admin import ArchivedFilter
from books.models import Book
from companies.admin import PROVIDER_STATES as COMPANY_PROVIDER_STATES
from companies.admin import BacklogFilter
from companies.backlog import ENRICHMENT, PIPEFY, PIPEFY_CARDED, PIPEFY_FAILED
from companies.models import UF_CHOICES, Company, EnrichmentStatus
from core import outages
from core.exceptions import OUTAGE_EXCEPTIONS, cause_in, outage_in
from integrations.cnpj.chain import configured_providers
from integrations.cnpj.types import RegistrationStatus
from integrations.guard import provider_guard

logger = logging.getLogger(__name__)

CACHE_KEY = "dashboard:v1:{}"
LAST_BOOKS_KEY = "dashboard:v1:books:last-counted"
TASK_WINDOW = timedelta(hours=24)
# The backlog figures, each a value of the company list's backlog filter (companies.admin).
BACKLOG_FIGURES = ("enrichment_waiting", "enrichment_in_progress", "pipefy_waiting", "pipefy_in_progress",
                   "pipefy_failed", "pipefy_card")


# --- counting ----------------------------------------------------------------------------------
def _company_conditions(now):
    return {
        "enrichment_waiting": ENRICHMENT.waiting(now),
        "enrichment_in_progress": ENRICHMENT.in_progress(now),
        "pipefy_waiting": PIPEFY.waiting(now),
        "pipefy_in_progress": PIPEFY.in_progress(now),
        "pipefy_failed": PIPEFY_FAILED,
        "pipefy_card": PIPEFY_CARDED,
    }


def _empty_company_figures() -> dict:
    return {
        "registration_status": dict.fromkeys(RegistrationStatus.values, 0),
        "state": {},
        "enrichment_status": dict.fromkeys(EnrichmentStatus.values, 0),
        "backlog": dict.fromkeys(BACKLOG_FIGURES, 0),
    }


def _companies_counted(now) -> dict:
    """Exact figures in one pass: a GROUP BY of a few hundred groups, summed here."""
    conditions = _company_conditions(now)
    rows = (
        Company.objects.order_by()
        .values("registration_status", "state", "enrichment_status")
        .annotate(companies=Count("pk"), **{name: Count("pk", filter=q) for name, q in conditions.items()})
    )
    figures = _empty_company_figures()
    for row in rows:
        for field in ("registration_status", "state", "enrichment_status"):
            figures[field][row[field]] = figures[field].get(row[field], 0) + row["companies"]
        for name in conditions:
            figures["backlog"][name] += row[name]
    return figures


def _planner_rows(queryset) -> int:
    plan = json.loads(queryset.explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


def _companies_estimated(now) -> dict:
    """PostgreSQL's planner estimates (from the statistics ANALYZE keeps): a millisecond each."""
    companies = Company.objects.order_by().values("pk")
    figures = _empty_company_figures()
    for value in RegistrationStatus.values:
        figures["registration_status"][value] = _planner_rows(companies.filter(registration_status=value))
    for value in ["", *(uf for uf, _label in UF_CHOICES)]:
        figures["state"][value] = _planner_rows(companies.filter(state=value))
    for value in EnrichmentStatus.values:
        figures["enrichment_status"][value] = _planner_rows(companies.filter(enrichment_status=value))
    for name, condition in _company_conditions(now).items():
        figures["backlog"][name] = _planner_rows(companies.filter(condition))
    # The planner never says 0 (its floor is one row): below that, call it none.
    for group in ("registration_status", "state", "enrichment_status", "backlog"):
        figures[group] = {key: (count if count > 1 else 0) for key, count in figures[group].items()}
    return figures


def _statistics_age() -> float | None:
    """When PostgreSQL last gathered the company table's statistics (epoch seconds), or None."""
    with connections[router.db_for_read(Company)].cursor() as cursor:
        cursor.execute(
            "SELECT extract(epoch FROM greatest(last_analyze, last_autoanalyze)) FROM pg_stat_user_tables "
            "WHERE relid = %s::regclass",
            [Company._meta.db_table],
        )
        row = cursor.fetchone()
    return float(row[0]) if row and row[0] is not None else None


def _within_budget(alias: str, compute, milliseconds: int):
    """Run `compute` with PostgreSQL's statement_timeout set to `milliseconds`, for this
    transaction only; QueryCanceled when a statement takes longer."""
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute("SELECT current_setting('statement_timeout')")
        previous = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('statement_timeout', %s, true)", [f"{int(milliseconds)}ms"])
        result = compute()
        cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
        return result


def company_figures() -> dict:
    """{at, estimated, statistics_at, registration_status, state, enrichment_status, backlog}."""
    now = timezone.now()
    alias = router.db_for_read(Company)
    figures = None
    if connections[alias].vendor != "postgresql":
        figures = _companies_counted(now)
    else:
        try:
            figures = _within_budget(alias, lambda: _companies_counted(now), settings.DASHBOARD_EXACT_COUNT_MS)
        except OperationalError as error:
            if not isinstance(error.__cause__, QueryCanceled):
                raise
            logger.info("dashboard: exact company counts took over %s ms; using estimates",
                        settings.DASHBOARD_EXACT_COUNT_MS)
    if figures is not None:
        return {"at": time.time(), "estimated": False, "statistics_at": None, **figures}
    return {"at": time.time(), "estimated": True, "statistics_at": _statistics_age(), **_companies_estimated(now)}


def task_figures() -> dict:
    """Failed tasks finished in the last 24 hours (django-celery-results' table)."""
    from django_celery_results.models import TaskResult

    since = (timezone.now() - TASK_WINDOW).replace(microsecond=0)
    failures = TaskResult.objects.filter(status="FAILURE", date_done__gte=since).count()
    return {"at": time.time(), "since": since.isoformat(), "failures": failures}


def book_figures() -> dict | None:
    """Books by language and the archived count, counted within DASHBOARD_EXACT_COUNT_MS; when
    counting takes longer, the last figures counted in time (marked late), or {"slow": True}
    when there are none yet; None while MongoDB is unavailable."""
    if outages.MONGODB.down_for():
        return None
    try:
        with pymongo.timeout(settings.DASHBOARD_EXACT_COUNT_MS / 1000):
            by_language = {
                row["language"]: row["books"]
                for row in Book.objects.order_by().values("language").annotate(books=Count("pk"))
            }
            archived = Book.objects.archived().count()
    except Exception as error:  # a timeout or an outage is handled here; anything else is raised again
        if cause_in(error, (ExecutionTimeout, NetworkTimeout)):  # pymongo.timeout's: slow, or a hung server
            logger.info("dashboard: book counts took over %s ms", settings.DASHBOARD_EXACT_COUNT_MS)
            return {**(cache.get(LAST_BOOKS_KEY) or {"slow": True}), "late": True}
        outage = outage_in(error)
        if outage is None:
            raise
        outages.MONGODB.trip(outage)
        outages.log_unavailable(logger, "dashboard: book figures unavailable", outage)
        return None
    figures = {"at": time.time(), "language": by_language, "archived": archived}
    cache.set(LAST_BOOKS_KEY, figures, timeout=None)  # what a slow count falls back on
    return figures


def provider_states() -> dict[str, str]:
    """Each registry provider's state and Pipefy's (ok, cooling_down, open): read live, from Redis."""
    names = [*configured_providers(), PIPEFY.name]
    states = {}
    for name in names:
        try:
            states[name] = provider_guard(name).status()["state"]
        except OUTAGE_EXCEPTIONS:
            states[name] = "unknown"
    return states


def cached(name: str, compute):
    """The figures under `name` from the cache, or counted now and cached (None is not cached)."""
    key = CACHE_KEY.format(name)
    figures = cache.get(key)
    if figures is None:
        figures = compute()
        if figures is not None and settings.DASHBOARD_CACHE_SECONDS > 0:
            cache.set(key, figures, timeout=settings.DASHBOARD_CACHE_SECONDS)
    return figures


def forget() -> None:
    """Drop the cached figures: the next view counts again."""
    cache.delete_many([CACHE_KEY.format(name) for name in ("companies", "tasks", "books")])


# --- presentation ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Figure:
    key: str  # stable: the link's data-figure attribute
    label: str
    count: int
    url: str


@dataclass(frozen=True)
class Bar:
    figure: Figure
    y: int
    width: float
    count_x: float


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    bars: list[Bar]
    height: int
    width: int = 440
    label_width: int = 130

    @property
    def label_end(self) -> int:
        return self.label_width - 6


# A horizontal bar chart's geometry, in SVG user units (the SVG scales to its box).
LABEL_WIDTH, BAR_AREA, ROW_HEIGHT = Chart.label_width, 230, 22


def bar_chart(chart_id: str, title: str, figures: list[Figure]) -> Chart:
    largest = max((figure.count for figure in figures), default=0) or 1
    bars = []
    for row, figure in enumerate(figures):
        width = round(BAR_AREA * figure.count / largest, 1)
        bars.append(Bar(figure, row * ROW_HEIGHT, width, LABEL_WIDTH + width + 6))
    return Chart(chart_id, title, bars, max(len(bars), 1) * ROW_HEIGHT)


def changelist(model, **query) -> str:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return f"{url}?{urlencode(query)}" if query else url


def freshness(figures: dict) -> str:
    if figures.get("estimated"):
        if figures.get("statistics_at") is None:
            return gettext("Estimated by PostgreSQL; its statistics have not been gathered yet.")
        minutes = max(0, round((time.time() - figures["statistics_at"]) / 60))
        return gettext("Estimated by PostgreSQL from statistics gathered %(minutes)d min ago.") % {"minutes": minutes}
    seconds = max(0, round(time.time() - figures["at"]))
    if figures.get("late"):
        return gettext("Counting took too long just now; these figures are from %(seconds)d s ago.") % {
            "seconds": seconds
        }
    return gettext("Updated %(seconds)d s ago.") % {"seconds": seconds}


ENRICHMENT_LABELS = {
    EnrichmentStatus.PENDING: _("Pending"),
    EnrichmentStatus.FAILED: _("Failed"),
    EnrichmentStatus.NOT_FOUND: _("Not found"),
    EnrichmentStatus.OK: _("Enriched"),
}
# The company list shows the same words (companies.admin); "unknown": Redis could not say.
PROVIDER_STATES = {**COMPANY_PROVIDER_STATES, "unknown": _("unknown")}


def _backlog_figure(figures: dict, name: str) -> Figure:
    label = BacklogFilter.CHOICES[name][0]
    return Figure(f"backlog-{name}", label, figures["backlog"][name],
                  changelist(Company, **{BacklogFilter.parameter_name: name}))


def company_section(figures: dict, providers: dict[str, str]) -> dict:
    by_status = [
        Figure(f"registration_status-{value}", label, figures["registration_status"].get(value, 0),
               changelist(Company, registration_status__exact=value))
        for value, label in RegistrationStatus.choices
    ]
    by_state = [
        Figure(f"state-{uf or 'none'}", uf or gettext("(no UF)"), count, changelist(Company, state__exact=uf))
        for uf, count in sorted(figures["state"].items(), key=lambda item: (-item[1], item[0]))
        if count
    ]
    enrichment = [
        Figure(f"enrichment_status-{value}", label, figures["enrichment_status"].get(value, 0),
               changelist(Company, enrichment_status__exact=value))
        for value, label in ENRICHMENT_LABELS.items()
    ]
    return {
        "total": Figure("companies", _("Companies"), sum(figures["registration_status"].values()),
                        changelist(Company)),
        "charts": [
            bar_chart("chart-registration-status", _("Companies by registration status"), by_status),
            bar_chart("chart-uf", _("Companies by UF"), by_state),
        ],
        "enrichment": enrichment,
        "enrichment_backlog": [_backlog_figure(figures, name) for name in BACKLOG_FIGURES[:2]],
        "pipefy_backlog": [_backlog_figure(figures, name) for name in BACKLOG_FIGURES[2:]],
        "providers": [(name, PROVIDER_STATES.get(state, state), state) for name, state in providers.items()],
        "estimated": figures["estimated"],
        "freshness": freshness(figures),
    }


def task_section(figures: dict) -> dict:
    from django_celery_results.models import TaskResult

    url = changelist(TaskResult, status__exact="FAILURE", date_done__gte=figures["since"])
    return {
        "failures": Figure("task_failures", _("Failed tasks in the last 24 hours"), figures["failures"], url),
        "freshness": freshness(figures),
    }


def book_section(figures: dict | None) -> dict:
    if figures is None:
        return {"unavailable": True}
    if figures.get("slow"):
        return {"unavailable": False, "slow": True}
    by_language = [
        Figure(f"language-{code or 'none'}", code or gettext("(no language)"), count,
               changelist(Book, language__exact=code))
        for code, count in sorted(figures["language"].items(), key=lambda item: (-item[1], item[0]))
    ]
    return {
        "unavailable": False,
        "late": bool(figures.get("late")),
        "total": Figure("books", _("Books"), sum(figures["language"].values()), changelist(Book)),
        "archived": Figure("books_archived", _("Archived"), figures["archived"],
                           changelist(Book, **{ArchivedFilter.parameter_name: "archived"})),
        "charts": [bar_chart("chart-language", _("Books by language"), by_language)],
        "freshness": freshness(figures),
    }


def dashboard_for(request, site) -> dict:
    """The sections this user may see: each only with the view permission on its model."""
    from django_celery_results.models import TaskResult

    def may_view(model) -> bool:
        return site.is_registered(model) and site.get_model_admin(model).has_view_permission(request)

    shown = {}
    if may_view(Company):
        shown["companies"] = company_section(cached("companies", company_figures), provider_states())
    if may_view(TaskResult):
        shown["tasks"] = task_section(cached("tasks", task_figures))
    if may_view(Book):
        shown["books"] = book_section(cached("books", book_figures))
    return shown
