"""Keyset pagination for every list of the API: one query per page whatever its size or depth.

A page answers `{"next": url|null, "previous": url|null, "results": [...]}`. A link's cursor is the
position of the page's last (or, going back, first) row: its ordering value and its tie-breaker
(the id), signed with a salt per list (core.cursors). The following page is the rows after that
position in the list's ordering; `previous` reads the same ordering reversed, from the first row
backwards, and turns the rows round. No count and no offset: a deep page costs what the first does,
and rows added meanwhile are neither repeated nor skipped.

The condition "after (value, id)" is a row-value comparison `(field, id) > (value, id)` where the
database has one (PostgreSQL: one range of a `(field, id)` index), else the equivalent
`field >= value AND (field > value OR (field = value AND id > id0))`, whose first term bounds the
index range (MongoDB). A nullable ordering field is compared knowing where the database sorts a null.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Func, Q, QuerySet, Value
from django.db.models.lookups import GreaterThan, LessThan
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from core.cursors import InvalidCursor, cursor_read, cursor_sign

CURSOR_SALT = "core.pagination"

PAGE_SIZE_MESSAGE = "Enter a whole number from 1 to {maximum}."
ORDERING_MESSAGE = "Order by one of {fields}, with a leading '-' for descending."
CURSOR_MESSAGE = "This cursor is not one this list gave out; follow a next or previous link as it is."
CURSOR_ORDERING_MESSAGE = "This cursor belongs to another ordering; start again without it."


class Row(Func):
    """A row value `(a, b)`: compared as a whole, `(a, b) > (x, y)` (PostgreSQL and SQLite)."""

    template = "(%(expressions)s)"

    def __init__(self, *expressions, output_field):
        super().__init__(*expressions, output_field=output_field)


def _refuse(parameter: str, message: str) -> ValidationError:
    return ValidationError({parameter: [message]}, code="invalid")


def _dump(value) -> Any:
    """A field's value as JSON: numbers and text as they are, dates in ISO 8601, ids as text."""
    if value is None or (isinstance(value, (str, int)) and not isinstance(value, bool)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)  # ObjectId, UUID, Decimal


class KeysetPagination(BasePagination):
    """A list's keyset pages; a subclass per list sets what it orders by and how large a page is."""

    page_size = 50
    max_page_size = 200
    ordering_fields: tuple[str, ...] = ("id",)
    default_ordering = "id"
    tiebreaker = "id"
    # None: the list has one fixed ordering (a history) and no `ordering` parameter.
    ordering_query_param: str | None = "ordering"
    page_size_query_param = "page_size"
    cursor_query_param = "cursor"
    # Names the list in the cursors' salt: a cursor is refused by every other list.
    cursor_name = "list"
    # Whether the database compares row values `(a, b) > (x, y)` (PostgreSQL does, MongoDB not).
    row_comparison = True
    # Where the database sorts a null in ascending order (MongoDB: lowest; PostgreSQL: highest).
    nulls_lowest = True

    # --- what a subclass may change ---------------------------------------------------------
    def get_scope(self, request, view) -> str:
        """The part of the salt naming one instance of the list (the company of a history)."""
        return ""

    # --- parameters -------------------------------------------------------------------------
    def _page_size(self, raw) -> int:
        if raw in (None, ""):
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise _refuse(self.page_size_query_param, PAGE_SIZE_MESSAGE.format(maximum=self.max_page_size))
        return size

    def _ordering(self, raw) -> str:
        if self.ordering_query_param is None or raw in (None, ""):
            return self.default_ordering
        term = raw.strip()
        if term.removeprefix("-") not in self.ordering_fields:
            raise _refuse(
                self.ordering_query_param, ORDERING_MESSAGE.format(fields=", ".join(self.ordering_fields))
            )
        return term

    def _field_value(self, model_field, raw):
        """A cursor's value read back by the model field, or ValueError for anything it would not store."""
        if raw is None:
            if model_field.null:
                return None
            raise ValueError("no value")
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            raise ValueError("not a value")
        try:
            value = model_field.to_python(raw)
            model_field.run_validators(value)  # integer ranges, NUL characters: refused here, not by the database
        except (DjangoValidationError, TypeError, ValueError, ArithmeticError) as error:
            raise ValueError(str(error)) from error
        if value is None:
            raise ValueError("no value")
        return value

    def _decode(self, raw, model):
        if not raw:
            return None
        try:
            position = cursor_read(raw, salt=self.salt)
            if not (isinstance(position, dict) and position.keys() == {"o", "v", "k", "b"}):
                raise InvalidCursor("not a position")
            if not isinstance(position["o"], str) or not isinstance(position["b"], bool):
                raise InvalidCursor("not a position")
            if position["o"] != self.ordering:
                raise _refuse(self.cursor_query_param, CURSOR_ORDERING_MESSAGE)
            field = self.ordering.lstrip("-")
            value = self._field_value(model._meta.get_field(field), position["v"])
            key = self._field_value(model._meta.get_field(self.tiebreaker), position["k"])
        except (ValueError, TypeError, LookupError):  # InvalidCursor is a ValueError
            raise _refuse(self.cursor_query_param, CURSOR_MESSAGE) from None
        return {"value": value, "key": key, "backwards": position["b"]}

    # --- the page ---------------------------------------------------------------------------
    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list:
        self.request = request
        params = request.query_params
        self.size = self._page_size(params.get(self.page_size_query_param))
        ordering_raw = params.get(self.ordering_query_param) if self.ordering_query_param else None
        self.ordering = self._ordering(ordering_raw)
        self.salt = f"{CURSOR_SALT}:{self.cursor_name}:{self.get_scope(request, view)}"
        self.cursor = self._decode(params.get(self.cursor_query_param), queryset.model)

        field = self.ordering.lstrip("-")
        backwards = bool(self.cursor and self.cursor["backwards"])
        reverse = self.ordering.startswith("-") != backwards
        keys = [field] if field == self.tiebreaker else [field, self.tiebreaker]
        queryset = queryset.order_by(*(f"-{name}" if reverse else name for name in keys))
        if self.cursor is not None:
            queryset = queryset.filter(self._after(queryset.model, field, reverse))
        rows = list(queryset[: self.size + 1])
        more = len(rows) > self.size
        rows = rows[: self.size]
        if backwards:
            rows.reverse()
            self.has_next, self.has_previous = True, more
        else:
            self.has_next, self.has_previous = more, self.cursor is not None
        self.rows = rows
        return rows

    def _after(self, model, field: str, reverse: bool):
        """The rows after the cursor's position in the query's order (descending when `reverse`)."""
        value, key, tiebreaker = self.cursor["value"], self.cursor["key"], self.tiebreaker
        model_field = model._meta.get_field(field)
        past = "lt" if reverse else "gt"
        if field == tiebreaker:
            return Q(**{f"{field}__{past}": value})
        if self.row_comparison and not model_field.null:
            compare = LessThan if reverse else GreaterThan
            row = Row(F(field), F(tiebreaker), output_field=model_field)
            position = Row(Value(value, output_field=model_field), Value(key), output_field=model_field)
            return compare(row, position)
        # Nulls come first in the query's order when the database sorts them lowest and the query
        # ascends, or highest and it descends; `>`/`<` never match a null.
        nulls_first = self.nulls_lowest != reverse
        same_value_later = Q(**{f"{tiebreaker}__{past}": key})
        if value is None:
            later = Q(**{f"{field}__isnull": True}) & same_value_later
            return later | Q(**{f"{field}__isnull": False}) if nulls_first else later
        later = Q(**{f"{field}__{past}e": value}) & (
            Q(**{f"{field}__{past}": value}) | (Q(**{field: value}) & same_value_later)
        )
        if model_field.null and not nulls_first:
            return later | Q(**{f"{field}__isnull": True})
        return later

    # --- the answer -------------------------------------------------------------------------
    def _encode(self, row, *, backwards: bool) -> str:
        position = {
            "o": self.ordering,
            "v": _dump(getattr(row, self.ordering.lstrip("-"))),
            "k": _dump(getattr(row, self.tiebreaker)),
            "b": backwards,
        }
        return cursor_sign(position, salt=self.salt)

    def _link(self, cursor: str | None) -> str:
        params = self.request.query_params.copy()
        params.pop(self.cursor_query_param, None)
        if cursor:
            params[self.cursor_query_param] = cursor
        query = urlencode(sorted(params.lists()), doseq=True)
        base = self.request.build_absolute_uri(self.request.path)
        return f"{base}?{query}" if query else base

    def get_next_link(self) -> str | None:
        if self.rows and self.has_next:
            return self._link(self._encode(self.rows[-1], backwards=False))
        return None

    def get_previous_link(self) -> str | None:
        if self.rows and self.has_previous:
            return self._link(self._encode(self.rows[0], backwards=True))
        if not self.rows and self.cursor is not None:
            return self._link(None)  # past either end: back to the first page
        return None

    def get_paginated_data(self, results) -> OrderedDict:
        return OrderedDict(
            [("next", self.get_next_link()), ("previous", self.get_previous_link()), ("results", results)]
        )

    def get_paginated_response(self, data) -> Response:
        return Response(self.get_paginated_data(data))

    # --- the schema (drf-spectacular) -------------------------------------------------------
    def get_paginated_response_schema(self, schema: dict) -> dict:
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {**link, "description": "The following page (same filters and ordering); null on the last."},
                "previous": {**link, "description": "The page before this one; null on the first."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = []
        if self.ordering_query_param is not None:
            choices = [term for field in self.ordering_fields for term in (field, f"-{field}")]
            parameters.append({
                "name": self.ordering_query_param, "required": False, "in": "query",
                "schema": {"type": "string", "enum": choices},
                "description": f"Default {self.default_ordering}; a leading '-' for descending.",
            })
        parameters += [
            {"name": self.page_size_query_param, "required": False, "in": "query",
             "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
             "description": f"Rows per page, default {self.page_size}."},
            {"name": self.cursor_query_param, "required": False, "in": "query", "schema": {"type": "string"},
             "description": "Where the page starts: from a `next` or `previous` link, as it is."},
        ]
        return parameters
