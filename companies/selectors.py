"""Reads for companies: the list with its filters, one company, and its history with changes."""

from __future__ import annotations

import datetime
import decimal
import functools
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from companies.filters import CompanyFilter
from companies.models import QUEUE_FIELDS, Company

# Timestamps: the version itself says when; they are not a change anyone made.
HISTORY_IGNORED_FIELDS = ("created_at", "updated_at")


def company_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[Company]:
    """Companies matching the list filters; raises ValidationError naming a bad filter."""
    filterset = CompanyFilter(filters or {}, queryset=Company.objects.all())
    if not filterset.is_valid():
        raise ValidationError(filterset.errors.as_data())
    return filterset.qs


def company_get(*, cnpj: str) -> Company | None:
    return Company.objects.filter(cnpj=cnpj).first()


@functools.cache
def _values_of(fields: tuple[str, ...]) -> QuerySet:
    # An unevaluated queryset is a template: each call below refines a copy of it.
    return Company.objects.order_by().values(*fields)


def company_get_values(*, cnpj: str, fields: tuple[str, ...]) -> dict[str, Any] | None:
    """The company's `fields` as `values(*fields)` gives them, or None if there is no such company."""
    for row in _values_of(fields).filter(cnpj=cnpj)[:1]:
        return row
    return None


def company_history(*, company: Company) -> QuerySet:
    """The company's versions, newest first."""
    return company.history.select_related("history_user").order_by("-history_id")


def company_history_previous(*, company: Company, before_history_id: int):
    """The version just older than `before_history_id` (to diff the oldest version of a page)."""
    return company.history.filter(history_id__lt=before_history_id).order_by("-history_id").first()


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


_TRACKED = [
    field.attname
    for field in Company._meta.concrete_fields
    if field.attname not in ("id", *HISTORY_IGNORED_FIELDS, *QUEUE_FIELDS)
]


def history_changes(record, previous) -> list[dict[str, Any]]:
    """What changed from `previous` to `record`: [{field, old, new}]. For a creation, every set field."""
    changes = []
    for name in _TRACKED:
        new = getattr(record, name)
        old = getattr(previous, name) if previous is not None else None
        if previous is None and new in (None, "", [], {}):
            continue
        if old != new:
            changes.append({"field": name, "old": _plain(old), "new": _plain(new)})
    return changes


def company_history_with_changes(records: Sequence, previous) -> list[tuple[Any, list[dict]]]:
    """Pair each version of a newest-first page with its changes; `previous` is the version older
    than the page's last one (or None when the page ends with the creation)."""
    paired = []
    for index, record in enumerate(records):
        older = records[index + 1] if index + 1 < len(records) else previous
        paired.append((record, history_changes(record, older)))
    return paired
