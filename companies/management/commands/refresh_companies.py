"""manage.py refresh_companies: make registry lookups due, for the drainers or here and now.

Without --cnpj it queues, first, every company never enriched, left pending or failed (whatever
its age), then at most --limit companies whose registry data is stale: looked up (or found
unknown) more than --stale-days (default REGISTRY_MAX_AGE_DAYS) ago. The backlog drainers (a
worker) do the lookups at the providers' pace; the command ends with the backlog and its ETA.
--sync does the lookups in this process instead, one attempt each, waiting for a provider's
capacity when needed, with a line of progress per company (and, with PIPEFY_AUTO_PUSH, the
Pipefy push), and the progress (total, percentage, rate, ETA) as a bar on a terminal or a log line
at least every 10% or 10 seconds elsewhere. A company that could not be asked stays in the backlog.
--dry-run says what would be queued and changes nothing.
"""

from __future__ import annotations

import argparse
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, no_translations

from access.actor import acting_as
from companies import backlog, enrichment
from companies import cnpj as cnpj_value
from companies.backlog import ENRICHMENT, PIPEFY
from companies.models import Company
from companies.tasks import backlog_kick, companies_refresh_queue, companies_stale
from core.progress import Progress

ACTOR = "command:refresh_companies"


def _not_negative(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; give 0 or more")
    return number


class Command(BaseCommand):
    help = "Queue registry lookups of new, pending, failed and stale companies (or do them now with --sync)."

    def add_arguments(self, parser):
        parser.add_argument("--cnpj", action="append", default=[], help="a CNPJ to refresh (repeatable)")
        parser.add_argument(
            "--stale-days", type=_not_negative, default=None, help="age that makes registry data stale (0 or more)"
        )
        parser.add_argument(
            "--limit", type=_not_negative, default=None, help="at most this many stale companies (0 or more)"
        )
        parser.add_argument("--sync", action="store_true", help="look up here and now instead of queueing")
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would be queued (or looked up); change nothing"
        )

    @no_translations  # operators read the commands' output in English, like the API's messages
    def handle(self, *args, cnpj, stale_days, limit, sync, dry_run=False, **options):
        self.verbosity = options["verbosity"]
        if dry_run:
            self._dry_run(cnpj, stale_days, limit, sync=sync)
            return
        with acting_as(ACTOR):
            if cnpj:
                ids = self._selected(cnpj)
                backlog.queue_request(ENRICHMENT, Company.objects.filter(pk__in=ids))
                queued = {"selected": len(ids)}
            elif sync:
                ids = self._due_ids(stale_days, limit)
                queued = {"selected": len(ids)}
            else:
                queued = companies_refresh_queue(stale_days=stale_days, limit=limit)
                ids = []
            if not any(queued.values()):
                self.stdout.write("Nothing to refresh: no company is pending, failed or stale.")
                return
            if sync:
                counts = self._refresh_sync(ids)
                summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items()))
                self.stdout.write(self.style.SUCCESS(f"{len(ids)} companies: {summary}."))
                return
            self._kick()
        described = ", ".join(f"{count} {kind}" for kind, count in queued.items())
        self.stdout.write(self.style.SUCCESS(f"Queued registry lookups: {described}."))
        self.stdout.write(enrichment.backlog_summary())

    def _dry_run(self, cnpj, stale_days, limit, sync=False) -> None:
        if cnpj:
            ids = self._selected(cnpj)
            to_queue = backlog.queue_request(ENRICHMENT, Company.objects.filter(pk__in=ids), dry_run=True)
            verb = "looked up now" if sync else "queued"
            self.stdout.write(
                f"Dry run, nothing changed: {len(ids)} selected companies would be {verb} "
                f"({to_queue} not queued yet, {len(ids) - to_queue} already in the backlog)."
            )
            return
        would = companies_refresh_queue(stale_days=stale_days, limit=limit, dry_run=True)
        described = ", ".join(f"{count} {kind}" for kind, count in would.items())
        verb = "looked up now (--sync)" if sync else "queued"
        self.stdout.write(f"Dry run, nothing changed: the registry lookups of {described} would be {verb}.")

    def _selected(self, raw_values: list[str]) -> list[int]:
        cnpjs = []
        for raw in raw_values:
            try:
                cnpjs.append(cnpj_value.normalize(raw))
            except cnpj_value.InvalidCNPJ as exc:
                raise CommandError(f"--cnpj {raw}: {exc.message}") from exc
        known = dict(Company.objects.filter(cnpj__in=cnpjs).values_list("cnpj", "pk"))
        if missing := [c for c in cnpjs if c not in known]:
            raise CommandError(f"No company with CNPJ {', '.join(missing)}.")
        return list(dict.fromkeys(known[c] for c in cnpjs))

    def _due_ids(self, stale_days, limit) -> list[int]:
        """For --sync: the unfinished companies first, then the stale ones, as the queue would pick."""
        unfinished = Company.objects.filter(enrichment_status__in=["pending", "failed"]).order_by("id")
        ids = list(unfinished.values_list("pk", flat=True))
        stale = companies_stale(stale_days=settings.REGISTRY_MAX_AGE_DAYS if stale_days is None else stale_days)
        ids += list(stale.values_list("pk", flat=True)[: settings.REGISTRY_REFRESH_BATCH if limit is None else limit])
        backlog.queue_request(ENRICHMENT, Company.objects.filter(pk__in=ids))
        return ids

    def _kick(self) -> None:
        if backlog_kick() is None:
            self.stderr.write("The task queue is unavailable: the lookups wait in the backlog until a worker runs.")

    def _refresh_sync(self, ids: list[int]) -> dict[str, int]:
        counts: dict[str, int] = {}
        progress = Progress(
            "refresh_companies", total=len(ids), unit="companies", terminal=self.stdout.isatty(),
            enabled=self.verbosity >= 1,
        )
        with progress:
            for index, company_id in enumerate(ids, 1):
                self._refresh_one(index, company_id, len(ids), counts, progress)
                progress.update(index, ", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items())))
        return counts

    def _refresh_one(self, index, company_id, total, counts, progress) -> None:
        if wait := enrichment.capacity_wait(ENRICHMENT):
            if wait >= 1:
                progress.write(f"waiting {wait:.0f}s for a registry provider's capacity", self.stdout)
            time.sleep(wait)
        started = time.monotonic()
        outcome = enrichment.work_one(ENRICHMENT, company_id=company_id)
        if outcome is None:
            cnpj, detail, label = Company.objects.get(pk=company_id).cnpj, "being worked on elsewhere", "skipped"
        else:
            cnpj, label = outcome["cnpj"], outcome["enrichment_status"]
            if outcome["next_attempt_at"]:
                label, detail = "later", f"could not be asked now; due again at {outcome['next_attempt_at']}"
            else:
                source = outcome["registry_source"]
                detail = f"{label} via {source}" if label == "ok" and source else label
                detail += self._push(company_id)
        counts[label] = counts.get(label, 0) + 1
        elapsed = time.monotonic() - started
        progress.write(f"[{index}/{total}] {cnpj_value.format_cnpj(cnpj)} {detail} ({elapsed:.1f}s)", self.stdout)

    def _push(self, company_id: int) -> str:
        outcome = enrichment.work_one(PIPEFY, company_id=company_id)
        if outcome is None:
            return ""
        if outcome["pipefy_card_id"]:
            return f"; Pipefy card {outcome['pipefy_card_id']}" + ("" if outcome["created"] else " (found)")
        if outcome["error"]:
            return f"; Pipefy push failed: {outcome['error']}"
        return "; Pipefy push waits in the backlog"
