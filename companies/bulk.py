"""The bulk import's fast path: each CSV value cleaned by the service's rule with a shortcut for
plain text (`field_cleaner`), and companies inserted with their creation history rows through
COPY (`insert_postgresql`, used by company_bulk_create).

The SQL below is built from model metadata only (table and column names quoted by the backend);
every value travels as a query parameter or through COPY, never inside the SQL text.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import psycopg
from django.core.validators import MaxLengthValidator
from django.db import connection, models
from simple_history.utils import bulk_create_with_history

from companies.models import Company
from companies.values import NORMALIZERS, normalize_text


@functools.cache
def field_cleaner(name: str) -> Callable[[Any], Any]:
    """What companies.services.company_field_cleaner(name) answers, faster for plain text and
    choice fields (most of a CSV row): a normalised value that is text within the length, one of
    the choices and without NUL is returned as it is; anything else takes the service's own
    path, for its value or its error. Tests check both agree."""
    from companies.services import company_field_cleaner  # the services module imports this one

    clean = company_field_cleaner(name)
    field = Company._meta.get_field(name)
    only_length_checked = all(isinstance(validator, MaxLengthValidator) for validator in field.validators)
    if type(field) is not models.CharField or not only_length_checked:
        return clean
    normalize = NORMALIZERS.get(name, normalize_text)
    max_length, blank = field.max_length, field.blank
    choices = None
    if field.choices:
        choices = {value for value, _label in field.flatchoices} | ({""} if field.blank else set())

    def clean_text(value):
        normalized = normalize(value)
        if (
            isinstance(normalized, str)
            and (normalized or blank)
            and len(normalized) <= max_length
            and (choices is None or normalized in choices)
            and "\x00" not in normalized
        ):
            return normalized
        return clean(value)

    return clean_text


def insert_generic(rows, *, actor, defaults) -> list[str]:
    """Any database: skip stored CNPJs, then django-simple-history's bulk_create_with_history."""
    stored = set(
        Company.objects.filter(cnpj__in=[row["cnpj"] for row in rows]).values_list("cnpj", flat=True)
    )
    companies = [Company(**defaults, **row) for row in rows if row["cnpj"] not in stored]
    bulk_create_with_history(
        companies, Company, batch_size=1000, custom_historical_attrs={"history_actor": actor}
    )
    return [company.cnpj for company in companies]


def _db_value(field: models.Field, value: Any) -> Any:
    if isinstance(field, models.JSONField):
        return None if value is None else json.dumps(value)
    return value


def insert_postgresql(rows, *, now, actor, defaults: dict) -> list[str]:
    """PostgreSQL, inside a transaction: the rows are copied (`COPY`, psycopg writing them in its
    text format) into a temporary table, then one statement inserts them; `ON CONFLICT DO NOTHING`
    skips stored CNPJs (also ones inserted concurrently), and the history rows are written from the
    inserted rows in the same statement. COPY costs a fraction of what sending one array per column
    cost, on both sides. `defaults` gives values for columns the rows do not have."""
    quote = connection.ops.quote_name
    columns = list(dict.fromkeys(name for row in rows for name in row))
    given = [Company._meta.get_field(name) for name in columns]
    unset = [
        field
        for field in Company._meta.concrete_fields
        if not field.primary_key and field.name not in columns
    ]
    staging = quote("companies_import_rows")
    definition = ", ".join(f"{quote(field.column)} {field.db_type(connection)}" for field in given)
    select = [f"r.{quote(field.column)}" for field in given]
    params = []
    for field in unset:
        if field.name in defaults:
            value = defaults[field.name]
        else:
            value = now if field.name in ("created_at", "updated_at") else field.get_default()
        select.append(f"%s::{field.db_type(connection)}")
        params.append(_db_value(field, value))
    history_sql, history_params = _history_sql(now=now, actor=actor)
    table = quote(Company._meta.db_table)
    target = ", ".join(quote(field.column) for field in (*given, *unset))
    sql = (
        f"WITH inserted AS (INSERT INTO {table} ({target}) SELECT {', '.join(select)} "  # noqa: S608 (module doc)
        # In CNPJ order: consecutive insertions into the CNPJ indexes land on neighbouring pages.
        f"FROM {staging} AS r ORDER BY r.{quote('cnpj')} "
        f"ON CONFLICT ({quote('cnpj')}) DO NOTHING RETURNING *), "
        f"history AS ({history_sql}) "
        f"SELECT {quote('cnpj')} FROM inserted"
    )
    missing = [field.get_default() for field in given]
    json_fields = [(index, field) for index, field in enumerate(given) if isinstance(field, models.JSONField)]
    connection.ensure_connection()
    # A cursor on Django's own connection (same transaction), speaking psycopg's COPY protocol.
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {staging} ({definition}) ON COMMIT DROP")
        with cursor.copy(f"COPY {staging} ({', '.join(quote(field.column) for field in given)}) FROM STDIN") as copy:
            for row in rows:
                values = [row.get(name, default) for name, default in zip(columns, missing, strict=True)]
                for index, field in json_fields:
                    values[index] = _db_value(field, values[index])
                copy.write_row(values)
        cursor.execute(sql, [*params, *history_params])
        inserted = [cnpj for (cnpj,) in cursor.fetchall()]
        # Dropped now, not only at commit: the caller's transaction may insert another batch.
        cursor.execute(f"DROP TABLE {staging}")
    return inserted


def _history_sql(*, now, actor):
    """The history rows of the companies in `inserted`: a creation (`+`) by `actor`."""
    quote = connection.ops.quote_name
    history_model = Company.history.model
    tracked = {field.column for field in Company._meta.concrete_fields}
    special = {
        "history_date": ("%s", now),
        "history_type": ("%s", "+"),
        "history_actor": ("%s", actor),
        "history_change_reason": ("NULL", None),
        "history_user": ("NULL", None),
    }
    target, select, params = [], [], []
    for field in history_model._meta.concrete_fields:
        if field.name == "history_id":
            continue
        target.append(quote(field.column))
        if field.column in tracked:
            select.append(quote(field.column))
        else:
            placeholder, value = special[field.name]
            select.append(placeholder)
            if placeholder == "%s":
                params.append(value)
    sql = (
        f"INSERT INTO {quote(history_model._meta.db_table)} ({', '.join(target)}) "  # noqa: S608
        f"SELECT {', '.join(select)} FROM inserted"
    )
    return sql, params
