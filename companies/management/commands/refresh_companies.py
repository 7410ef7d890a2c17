"""manage.py refresh_companies: re-read companies from the registry.

Without --cnpj it picks the companies whose registry data is older than --stale-days (default
REGISTRY_MAX_AGE_DAYS) or that were never enriched, at most --limit of them. By default it queues
one enrichment task per company and prints the task ids; --sync looks them up here and now,
one after the other, with progress (and, with PIPEFY_AUTO_PUSH, pushes them to Pipefy).
History rows name the provider that answered.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from access.actor import acting_as
from companies import cnpj as cnpj_value
from companies.models import Company, EnrichmentStatus
from companies.tasks import companies_due_for_refresh, company_enrichment_enqueue
from config.exceptions import ServiceUnavailable
from integrations import services as integration_services
from integrations.errors import IntegrationError

ACTOR = "command:refresh_companies"


class Command(BaseCommand):
    help = "Refresh companies from the Receita Federal registry (queued, or --sync)."

    def add_arguments(self, parser):
        parser.add_argument("--cnpj", action="append", default=[], help="a CNPJ to refresh (repeatable)")
        parser.add_argument("--stale-days", type=int, default=None, help="age that makes registry data stale")
        parser.add_argument("--limit", type=int, default=None, help="at most this many companies")
        parser.add_argument("--sync", action="store_true", help="look up here and now instead of queueing")

    def handle(self, *args, cnpj, stale_days, limit, sync, **options):
        if stale_days is not None and stale_days < 0:
            raise CommandError("--stale-days cannot be negative.")
        cnpjs = self._selected(cnpj) if cnpj else companies_due_for_refresh(stale_days=stale_days, limit=limit)
        if not cnpjs:
            self.stdout.write("Nothing to refresh.")
            return
        with acting_as(ACTOR):
            counts = self._refresh_sync(cnpjs) if sync else self._enqueue(cnpjs)
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items()))
        self.stdout.write(self.style.SUCCESS(f"{len(cnpjs)} companies: {summary}."))

    def _selected(self, raw_values: list[str]) -> list[str]:
        cnpjs = []
        for raw in raw_values:
            try:
                cnpjs.append(cnpj_value.normalize(raw))
            except cnpj_value.InvalidCNPJ as exc:
                raise CommandError(f"--cnpj {raw}: {exc.message}") from exc
        known = set(Company.objects.filter(cnpj__in=cnpjs).values_list("cnpj", flat=True))
        if missing := [c for c in cnpjs if c not in known]:
            raise CommandError(f"No company with CNPJ {', '.join(missing)}.")
        return list(dict.fromkeys(cnpjs))

    def _progress(self, index: int, total: int, cnpj: str, outcome: str) -> None:
        self.stdout.write(f"[{index}/{total}] {cnpj_value.format_cnpj(cnpj)} {outcome}")

    def _enqueue(self, cnpjs: list[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for index, number in enumerate(cnpjs, 1):
            try:
                enqueued = company_enrichment_enqueue(cnpj=number)
            except ServiceUnavailable as exc:
                raise CommandError(f"{exc.detail} ({index - 1} of {len(cnpjs)} queued)") from exc
            self._progress(index, len(cnpjs), number, f"queued as task {enqueued.task_id}")
            counts["queued"] = counts.get("queued", 0) + 1
        return counts

    def _refresh_sync(self, cnpjs: list[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for index, number in enumerate(cnpjs, 1):
            company = Company.objects.get(cnpj=number)
            started = time.monotonic()
            try:
                company = integration_services.company_enrich(company=company)
                outcome = company.enrichment_status
                detail = f"{outcome} via {company.registry_source}" if company.registry_source else outcome
            except IntegrationError as exc:
                integration_services.company_enrichment_failed(company=company, error=exc)
                outcome, detail = "failed", f"failed: {exc}"
            if outcome == EnrichmentStatus.OK and settings.PIPEFY_AUTO_PUSH and not company.pipefy_card_id:
                detail += self._push(company)
            counts[outcome] = counts.get(outcome, 0) + 1
            self._progress(index, len(cnpjs), number, f"{detail} ({time.monotonic() - started:.1f}s)")
        return counts

    def _push(self, company: Company) -> str:
        try:
            company, _, created = integration_services.company_push_to_pipefy(company=company)
        except IntegrationError as exc:
            return f"; Pipefy push failed: {exc}"
        return f"; Pipefy card {company.pipefy_card_id}" + ("" if created else " (found)")
