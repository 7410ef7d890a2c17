"""Reads for companies: the list with its filters, one company, and its history with changes."""

from __future__ import annotations

import datetime
import decimal
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import router
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler

from companies.filters import CompanyFilter
from companies.models import QUEUE_FIELDS, Company
from core.db import prepared_cursor

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


class _CompiledQueries(threading.local):
    """`Company.objects.filter(cnpj=...).values(*fields)`, compiled to SQL by the ORM once per
    thread, database and field list, then run with the CNPJ as its only parameter. Building and
    compiling the queryset was most of the ORM's cost in an uncached single-company read. The row
    goes through the ORM's own converters (JSON decoded, and so on), so it equals `values()`'s.
    """

    def __init__(self):
        self.compiled: dict[tuple[str, tuple[str, ...]], tuple[str, SQLCompiler, dict]] = {}

    def get(self, alias: str, fields: tuple[str, ...]) -> tuple[str, SQLCompiler, dict]:
        compiled = self.compiled.get((alias, fields))
        if compiled is None:
            queryset = Company.objects.using(alias).filter(cnpj="").order_by().values(*fields)
            compiler = queryset.query.get_compiler(using=alias)
            sql, params = compiler.as_sql()
            if list(params) != [""]:  # the CNPJ must be the one parameter, whatever the backend
                raise RuntimeError(f"unexpected parameters in the company query: {params!r}")
            converters = compiler.get_converters([column for column, *_ in compiler.select[: compiler.col_count]])
            compiled = self.compiled[(alias, fields)] = (sql, compiler, converters)
        return compiled


_compiled = _CompiledQueries()


def company_get_values(*, cnpj: str, fields: tuple[str, ...]) -> dict[str, Any] | None:
    """The company's `fields` as `values(*fields)` gives them, or None if there is no such company."""
    alias = router.db_for_read(Company)
    sql, compiler, converters = _compiled.get(alias, fields)
    with prepared_cursor(alias) as cursor:
        cursor.execute(sql, [cnpj])
        row = cursor.fetchone()
    if row is None:
        return None
    if converters:
        row = next(iter(compiler.apply_converters([row], converters)))
    return dict(zip(fields, row, strict=True))


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
