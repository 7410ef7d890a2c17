"""Writes for companies: every front door (API, admin, command, tasks) comes through here.

Each service validates, writes in one transaction, records history (django-simple-history, with
the current actor) and invalidates the cached reads. Nothing here deletes a company.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.actor import current_actor
from companies import bulk
from companies import cache as company_cache
from companies import cnpj as cnpj_value
from companies.models import BOOKKEEPING_FIELDS, QUEUE_FIELDS, Company, EnrichmentStatus
from companies.values import NORMALIZERS, normalize_text
from integrations.cnpj.types import RegistryRecord

logger = logging.getLogger(__name__)
NUL_MESSAGE = _("Null characters are not allowed.")

_NOT_EDITABLE = {"id", "cnpj", "created_at", "updated_at", *BOOKKEEPING_FIELDS, *QUEUE_FIELDS}
# What clients (API, admin, CSV) may set; the bookkeeping fields belong to the integrations.
EDITABLE_FIELDS = tuple(f.name for f in Company._meta.concrete_fields if f.name not in _NOT_EDITABLE)


class CompanyAlreadyExists(Exception):
    """Creating a company whose CNPJ is already stored; `company` is the stored one."""

    def __init__(self, company: Company):
        super().__init__(f"A company with CNPJ {company.cnpj_formatted} already exists.")
        self.company = company


def cnpj_clean(value: Any) -> str:
    """The compact CNPJ, or a ValidationError on `cnpj` saying whether format, length or digits fail."""
    try:
        return cnpj_value.normalize(value)
    except cnpj_value.InvalidCNPJ as exc:
        raise ValidationError({"cnpj": [ValidationError(exc.message, code=exc.code)]}) from exc


def company_fields_clean(fields: Mapping[str, Any], *, allowed: Iterable[str] = EDITABLE_FIELDS) -> dict:
    """Normalise and validate field values; raises one ValidationError naming every bad field."""
    errors: dict[str, list[ValidationError]] = {}
    cleaned = {}
    for name, value in fields.items():
        if name not in allowed:
            if name in _NOT_EDITABLE:
                errors[name] = [ValidationError("This field is read-only.", code="read_only")]
            else:
                errors[name] = [ValidationError("Unknown field.", code="unknown")]
            continue
        try:
            cleaned[name] = company_field_cleaner(name)(value)
        except ValidationError as exc:
            errors[name] = exc.error_list
    if errors:
        raise ValidationError(errors)
    return cleaned


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_nul(item) for item in value)
    return False


@functools.cache
def company_field_cleaner(name: str) -> Callable[[Any], Any]:
    """The one rule for a company field's value: its normaliser (companies.values.NORMALIZERS),
    then the model field's own clean() (type, choices, length, validators); returns the value
    to store or raises a ValidationError. The bulk import's fast path (companies.bulk) answers
    as this does."""
    field = Company._meta.get_field(name)
    normalize = NORMALIZERS.get(name, normalize_text)

    def clean(value):
        value = field.clean(normalize(value), None)
        # PostgreSQL stores no NUL character, in text or in JSON: refuse it here, not as a 500.
        if _has_nul(value):
            raise ValidationError(NUL_MESSAGE, code="null_characters_not_allowed")
        return value

    return clean


def company_create(*, cnpj: str, enrich: bool = True, **fields) -> Company:
    """Store a new company; raises CompanyAlreadyExists if the CNPJ is already stored. With
    `enrich`, its registry lookup is due at once (companies.enrichment)."""
    number, cleaned, errors = None, {}, {}
    try:
        number = cnpj_clean(cnpj)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    try:
        cleaned = company_fields_clean(fields)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)  # the CNPJ and every bad field at once
    company = Company(cnpj=number, **cleaned)
    if enrich:
        company.enrichment_due_at = timezone.now()
    existing = Company.objects.filter(cnpj=number).first()
    if existing is not None:
        raise CompanyAlreadyExists(existing)
    try:
        with transaction.atomic():
            company.save(force_insert=True)
            company_cache.invalidate(cnpjs=[number], lists=True)
            # {task_id, status} of the first lookup (published once this commits), or None.
            company.enrichment = _schedule_enrichment(company) if enrich else None
    except IntegrityError:
        existing = Company.objects.filter(cnpj=number).first()
        if existing is None:
            raise
        raise CompanyAlreadyExists(existing) from None
    return company


def _schedule_enrichment(company: Company) -> dict[str, str]:
    """Queue the first registry lookup, published when the creation commits: {task_id, status}.

    Raises ServiceUnavailable (503) when the task queue is down, which rolls the creation back.
    """
    from companies.tasks import company_enrichment_schedule  # the tasks module imports this one

    return company_enrichment_schedule(company)


def company_update(
    *, company: Company, precondition: Callable[[Company], None] | None = None, **fields
) -> Company:
    """Change editable fields. The CNPJ may be repeated but never changed. `precondition`, if
    given, is called with the row locked for the write and may raise to refuse it (a stale
    If-Match, a stale admin form)."""
    if "cnpj" in fields and cnpj_clean(fields.pop("cnpj")) != company.cnpj:
        error = ValidationError(_("The CNPJ of a company cannot change."), code="immutable")
        raise ValidationError({"cnpj": [error]})
    return _company_write(company=company, fields=company_fields_clean(fields), precondition=precondition)


def company_apply_registry_record(*, company: Company, record: RegistryRecord) -> Company:
    """Write what the registry says about a company and mark its enrichment `ok`.

    Every field of `record.company_fields()` is a company field; a value that fails the
    company's validation is skipped and logged, not fatal (the registry's data is not ours to
    correct, and the rest of the record is still worth having).
    """
    fields = {}
    for name, value in record.company_fields().items():
        if value is None:
            continue
        try:
            fields[name] = company_field_cleaner(name)(value)
        except ValidationError as exc:
            logger.warning("registry value for %s of %s skipped: %s", name, company.cnpj, exc.messages)
    fields.update(registry_synced_at=timezone.now(), enrichment_status=EnrichmentStatus.OK, enrichment_error="")
    return _company_write(company=company, fields=fields)


def company_set_enrichment_status(*, company: Company, status: str, error: str = "") -> Company:
    """Record the outcome of an enrichment attempt that brought no record (not_found, failed, pending)."""
    if status not in EnrichmentStatus.values:
        error = ValidationError(f"Unknown enrichment status {status!r}.", code="invalid")
        raise ValidationError({"enrichment_status": [error]})
    return _company_write(company=company, fields={"enrichment_status": status, "enrichment_error": error})


def company_set_pipefy_card(*, company: Company, card_id: str) -> Company:
    return _company_write(company=company, fields={"pipefy_card_id": str(card_id), "pipefy_error": ""})


def company_set_pipefy_error(*, company: Company, error: str) -> Company:
    """Record why the Pipefy push failed for good (empty: no failure)."""
    return _company_write(company=company, fields={"pipefy_error": error})


def _company_write(
    *, company: Company, fields: Mapping[str, Any], precondition: Callable[[Company], None] | None = None
) -> Company:
    """Apply already-clean values under a row lock; no change, no save (and no history row)."""
    with transaction.atomic():
        locked = Company.objects.select_for_update().get(pk=company.pk)
        if precondition is not None:
            precondition(locked)
        changed = [name for name, value in fields.items() if getattr(locked, name) != value]
        if not changed:
            return locked
        for name in changed:
            setattr(locked, name, fields[name])
        locked.save(update_fields=[*changed, "updated_at"])
        company_cache.invalidate(cnpjs=[locked.cnpj], lists=True)
    return locked


def company_bulk_create(*, rows: Sequence[Mapping[str, Any]], enrich: bool = True) -> list[str]:
    """Insert many clean rows ({"cnpj": compact, field: clean value}) in one transaction.

    CNPJs already stored are skipped (also when another process inserts them concurrently).
    Every inserted company gets its creation history row, attributed to the current actor, and
    with `enrich` its registry lookup is due at once (the backlog: companies.enrichment).
    Returns the CNPJs inserted.
    """
    if not rows:
        return []
    actor = current_actor() or "system"
    now = timezone.now()
    defaults = {"enrichment_due_at": now} if enrich else {}
    with transaction.atomic():
        if connection.vendor == "postgresql":
            inserted = bulk.insert_postgresql(rows, now=now, actor=actor, defaults=defaults)
        else:
            inserted = bulk.insert_generic(rows, actor=actor, defaults=defaults)
        if inserted:
            company_cache.invalidate(lists=True)
    return inserted
