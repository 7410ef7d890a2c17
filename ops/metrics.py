"""Prometheus metrics at `/metrics`, for operators.

- Requests: django-prometheus's middleware (`django_http_requests_latency_seconds_by_view_method`,
  responses by status, exceptions...), cache gets (`django_cache_get_total`, `..._hits_total`,
  `..._misses_total` through its django-redis backend) and database operations.
- The company answer cache: `app_company_cache_lookups_total{kind, result}` (hit or miss,
  counted in companies.cache).
- Read from the database and Redis when scraped, so they are the same whichever process answers:
  the enrichment and Pipefy backlogs (`app_enrichment_companies{status}`,
  `app_backlog_companies{backlog, state}`), each provider's state (`app_provider_state{provider,
  state}`, 1 for the current one) and task outcomes in the last 24 hours
  (`app_task_results{task, status}`).

Several gunicorn workers share their counters through `PROMETHEUS_MULTIPROC_DIR` (set it to an
empty directory writable by the app; gunicorn.conf.py clears it at start and tells it when a
worker exits). Access: from `METRICS_ALLOWED_NETWORKS` (the client address after
TRUSTED_PROXIES; loopback by default) or with `Authorization: Bearer <METRICS_TOKEN>`.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
from datetime import timedelta

import prometheus_client
from django.conf import settings
from django.db.models import Count
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

TASK_WINDOW = timedelta(hours=24)


class StateCollector:
    """Figures read at scrape time from the shared stores (one process's view is everyone's)."""

    def collect(self):
        failed = []
        yield from _safely("backlog", _backlog_metrics, failed)
        if failed:  # the database let the first group down: do not wait for it a second time
            yield _figures_up("tasks", 0)
            return
        yield from _safely("tasks", _task_metrics, failed)

    def describe(self):
        return []


def _figures_up(name: str, value: int) -> GaugeMetricFamily:
    up = GaugeMetricFamily("app_figures_up", "1 when this group of figures could be read.", labels=["group"])
    up.add_metric([name], value)
    return up


def _safely(name, produce, failed: list):
    try:
        yield from produce()
    except Exception as error:  # a store being down must not break the scrape
        logger.warning("metrics: %s figures unavailable (%s)", name, type(error).__name__)
        failed.append(name)
        yield _figures_up(name, 0)


def _backlog_metrics():
    from companies.enrichment import backlog_status
    from companies.models import EnrichmentStatus

    status = backlog_status()
    enrichment = GaugeMetricFamily(
        "app_enrichment_companies", "Companies by registry enrichment status.", labels=["status"]
    )
    for value in EnrichmentStatus.values:
        enrichment.add_metric([value], status.get(value, 0))
    yield enrichment

    backlog = GaugeMetricFamily(
        "app_backlog_companies", "Companies waiting in a backlog, by state.", labels=["backlog", "state"]
    )
    for state in ("queued", "in_progress"):
        backlog.add_metric(["enrichment", state], status.get(state, 0))
        backlog.add_metric(["pipefy", state], status["pipefy"].get(state, 0))
    yield backlog
    eta = GaugeMetricFamily(
        "app_backlog_eta_seconds", "Estimated seconds to clear a backlog (absent: no capacity).", labels=["backlog"]
    )
    for name, seconds in (("enrichment", status["eta_seconds"]), ("pipefy", status["pipefy"]["eta_seconds"])):
        if seconds is not None:
            eta.add_metric([name], seconds)
    yield eta

    from integrations.guard import STATES

    providers = GaugeMetricFamily(
        "app_provider_state", "Each outside service's state: 1 for the current one.", labels=["provider", "state"]
    )
    for name, provider in {**status["providers"], "pipefy": status["pipefy"]}.items():
        for state in STATES:
            providers.add_metric([name, state], 1 if provider["state"] == state else 0)
    yield providers
    yield _figures_up("backlog", 1)


def _task_metrics():
    from django_celery_results.models import TaskResult

    since = timezone.now() - TASK_WINDOW
    rows = (
        TaskResult.objects.filter(date_created__gte=since)
        .order_by()
        .values("task_name", "status")
        .annotate(count=Count("pk"))
    )
    results = GaugeMetricFamily(
        "app_task_results", "Task results recorded in the last 24 hours, by task and status.", labels=["task", "status"]
    )
    for row in rows:
        results.add_metric([row["task_name"] or "unknown", row["status"]], row["count"])
    yield results


_state_collector = StateCollector()


def _registry() -> prometheus_client.CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = prometheus_client.CollectorRegistry()
        registry.register(_DefaultRegistry())
    registry.register(_state_collector)
    return registry


class _DefaultRegistry:
    """This process's own metrics (single-process servers: runserver, one gunicorn worker)."""

    def collect(self):
        yield from prometheus_client.REGISTRY.collect()

    def describe(self):
        return []


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if token and scheme.lower() == "bearer":
        # Compared as bytes: any header text, ASCII or not, is just a wrong token.
        sent = credentials.strip().encode("utf-8", "surrogateescape")
        if secrets.compare_digest(sent, token.encode("utf-8")):
            return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in allowed_networks())


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(item.strip(), strict=False) for item in settings.METRICS_ALLOWED_NETWORKS if item]


@never_cache
@require_safe
def metrics(request):
    if not _allowed(request):
        return JsonResponse(
            {
                "detail": "Metrics are served to METRICS_ALLOWED_NETWORKS or with the METRICS_TOKEN bearer token.",
                "code": "forbidden",
            },
            status=403,
        )
    body = prometheus_client.generate_latest(_registry())
    return HttpResponse(body, content_type=prometheus_client.CONTENT_TYPE_LATEST)
