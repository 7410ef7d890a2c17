"""Writes that bring outside data in and push company data out: registry enrichment, Pipefy cards.

Both are idempotent: enriching twice stores the same values (no change, no history row), and a
company gets at most one Pipefy card (its id is stored, the pipe is searched before creating,
and concurrent pushes of one company are serialised by a lock in the shared cache).
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.conf import settings
from django.core.cache import cache

from access.actor import acting_as
from companies.models import Company, EnrichmentStatus
from companies.services import (
    company_apply_registry_record,
    company_set_enrichment_status,
    company_set_pipefy_card,
)
from integrations.cnpj.chain import registry_lookup
from integrations.errors import NotFound, Rejected, Unavailable
from integrations.pipefy.client import PipefyCard, PipefyClient

logger = logging.getLogger(__name__)

NOT_IN_REGISTRY = "No registry provider knows this CNPJ."


def company_enrich(*, company: Company) -> Company:
    """Fill the company from the registry; the change is recorded as `provider:<name>`.

    A CNPJ no provider knows is marked `not_found`. RateLimited / Unavailable / BadResponse
    propagate: the caller (a task) decides whether to retry or mark the enrichment failed.
    """
    try:
        record = registry_lookup(company.cnpj)
    except NotFound:
        return company_set_enrichment_status(company=company, status=EnrichmentStatus.NOT_FOUND, error=NOT_IN_REGISTRY)
    with acting_as(f"provider:{record.source}"):
        return company_apply_registry_record(company=company, record=record.company_fields())


def company_enrichment_failed(*, company: Company, error: BaseException) -> Company:
    return company_set_enrichment_status(company=company, status=EnrichmentStatus.FAILED, error=str(error)[:2000])


# --- Pipefy --------------------------------------------------------------------------------
def pipefy_title(company: Company) -> str:
    name = company.legal_name or company.trade_name or "(name unknown)"
    return f"{company.cnpj_formatted} {name}"


def pipefy_fields(company: Company) -> dict[str, Any]:
    """Pipefy field id -> value, from PIPEFY_FIELD_MAP (company attribute -> Pipefy field id)."""
    fields = {}
    for attribute, field_id in settings.PIPEFY_FIELD_MAP.items():
        if not hasattr(company, attribute):
            raise Rejected(f"PIPEFY_FIELD_MAP names {attribute!r}, which a company does not have.", provider="pipefy")
        fields[str(field_id)] = getattr(company, attribute)
    return fields


def company_push_to_pipefy(*, company: Company) -> tuple[Company, PipefyCard | None, bool]:
    """Make sure the company has a Pipefy card. Returns (company, card, created); card is None
    when the stored card id was enough."""
    if company.pipefy_card_id:
        return company, None, False
    client = PipefyClient.from_settings()  # PipefyNotConfigured before anything else
    lock_key = f"integrations:pipefy:push:{company.cnpj}"
    lock_seconds = math.ceil(settings.PIPEFY_READ_TIMEOUT * 2 + 10)
    if not cache.add(lock_key, 1, timeout=lock_seconds):
        raise Unavailable(
            "Another push of this company to Pipefy is in progress.", provider="pipefy", retry_after=lock_seconds
        )
    try:
        company.refresh_from_db()
        if company.pipefy_card_id:
            return company, None, False
        card, created = client.card_ensure(
            key=company.cnpj_formatted, title=pipefy_title(company), fields=pipefy_fields(company)
        )
        if not created:
            logger.info("Pipefy card %s for %s already existed; storing its id", card.id, company.cnpj)
        return company_set_pipefy_card(company=company, card_id=card.id), card, created
    finally:
        cache.delete(lock_key)
