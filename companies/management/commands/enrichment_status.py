"""manage.py enrichment_status: the enrichment and Pipefy backlogs, as GET /api/enrichment/ shows them.

Plain text by default (one figure a line, fit for a log or a terminal); `--json` prints the API's
JSON document.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, no_translations

from companies.enrichment import backlog_status, backlog_summary, duration_text


class Command(BaseCommand):
    help = "Show the enrichment and Pipefy backlogs: counts, pace, ETA and each provider's state."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the JSON of GET /api/enrichment/")

    @no_translations  # operators read the commands' output in English, like the API's messages
    def handle(self, *args, **options):
        status = backlog_status()
        if options["json"]:
            self.stdout.write(json.dumps(status, indent=2))
            return
        counts = ", ".join(f"{status[name]} {name}" for name in ("pending", "ok", "not_found", "failed"))
        self.stdout.write(f"Companies: {counts}.")
        self.stdout.write(backlog_summary(status))
        for name, provider in status["providers"].items():
            self.stdout.write(f"  {name}: {self._provider(provider)}")
        pipefy = status["pipefy"]
        waiting = pipefy["queued"] + pipefy["in_progress"]
        self.stdout.write(
            f"Pipefy: {pipefy['with_card']} with a card, {waiting} pushes waiting ({pipefy['in_progress']} in "
            f"progress), {pipefy['failed']} failed; ETA {duration_text(pipefy['eta_seconds'])}; "
            f"{self._provider(pipefy)}"
        )

    @staticmethod
    def _provider(state: dict) -> str:
        limit = (
            "no limit" if state["limit"] is None else f"{state['used']}/{state['limit']} per {state['window_seconds']}s"
        )
        until = f" until {state['until']}" if state["until"] else ""
        return f"{state['state']}{until}, {limit}"
