"""Keyset cursor pagination: one query per page whatever its size or depth.

The cursor carries the last row's (ordering value, tie-breaker) and the page is fetched with a
row-value comparison `(field, id) > (value, id)`, which an index on (field, id) serves. Unlike an
offset, it stays correct and cheap with duplicate values (blank names) and deep pages.
"""

from __future__ import annotations

from collections import OrderedDict
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db.models import F, Func, QuerySet, Value
from django.db.models.lookups import GreaterThan, LessThan

from core.cursors import cursor_read, cursor_sign

CURSOR_SALT = "companies.cursor"


class Row(Func):
    """A row value `(a, b)`: compared as a whole, `(a, b) > (x, y)` (PostgreSQL and SQLite)."""

    template = "(%(expressions)s)"

    def __init__(self, *expressions, output_field):
        super().__init__(*expressions, output_field=output_field)


def _error(field: str, message: str) -> ValidationError:
    return ValidationError({field: [ValidationError(message, code="invalid")]})


class KeysetPagination:
    page_size = 50
    max_page_size = 200
    ordering_fields: tuple[str, ...] = ("cnpj",)
    default_ordering = "cnpj"
    tiebreaker = "id"

    def __init__(self, request, *, scope: str = ""):
        """`scope` names the list a cursor belongs to (a company's history is not another's)."""
        self.request = request
        self.salt = f"{CURSOR_SALT}:{type(self).__name__}:{scope}"
        params = request.query_params
        self.size = self._page_size(params.get("page_size"))
        self.ordering = self._ordering(params.get("ordering"))
        self.cursor = self._decode(params.get("cursor"))

    # --- parameters -----------------------------------------------------------------------
    def _page_size(self, raw):
        if raw in (None, ""):
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise _error("page_size", "Enter a whole number.") from None
        if not 1 <= size <= self.max_page_size:
            raise _error("page_size", f"Enter a page size between 1 and {self.max_page_size}.")
        return size

    def _ordering(self, raw):
        term = (raw or self.default_ordering).strip()
        if term.lstrip("-") not in self.ordering_fields:
            allowed = ", ".join(self.ordering_fields)
            raise _error("ordering", f"Order by one of {allowed}, with a leading '-' for descending.")
        return term

    def _decode(self, raw):
        if not raw:
            return None
        try:
            cursor = cursor_read(raw, salt=self.salt)
            if not (isinstance(cursor, dict) and cursor.keys() == {"o", "v", "k", "b"}):
                raise ValueError
            if not isinstance(cursor["k"], int) or not -(2**63) < cursor["k"] < 2**63:
                raise ValueError
            if not isinstance(cursor["v"], (str, int)) or "\x00" in str(cursor["v"]):
                raise ValueError
        except (ValueError, TypeError):  # InvalidCursor is a ValueError
            raise _error("cursor", "This cursor is not valid; follow the next or previous link.") from None
        if cursor["o"] != self.ordering:
            raise _error("cursor", "This cursor belongs to another ordering.")
        return cursor

    def _encode(self, row, *, backwards: bool) -> str:
        field = self.ordering.lstrip("-")
        value = getattr(row, field)
        position = {
            "o": self.ordering,
            "v": value.isoformat() if hasattr(value, "isoformat") else value,
            "k": getattr(row, self.tiebreaker),
            "b": backwards,
        }
        return cursor_sign(position, salt=self.salt)

    # --- the page -------------------------------------------------------------------------
    def paginate(self, queryset: QuerySet) -> list:
        field = self.ordering.lstrip("-")
        descending = self.ordering.startswith("-")
        backwards = bool(self.cursor and self.cursor["b"])
        reverse = descending != backwards
        key = self.tiebreaker
        queryset = queryset.order_by(*([f"-{field}", f"-{key}"] if reverse else [field, key]))
        if self.cursor is not None:
            model_field = queryset.model._meta.get_field(field)
            try:
                value = model_field.to_python(self.cursor["v"])
            except ValidationError:
                raise _error("cursor", "This cursor is not valid.") from None
            compare = LessThan if reverse else GreaterThan
            row = Row(F(field), F(key), output_field=model_field)
            position = Row(
                Value(value, output_field=model_field), Value(self.cursor["k"]), output_field=model_field
            )
            queryset = queryset.filter(compare(row, position))
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

    def _link(self, cursor: str | None) -> str:
        params = self.request.query_params.copy()
        params.pop("cursor", None)
        if cursor:
            params["cursor"] = cursor
        query = urlencode(sorted(params.lists()), doseq=True)
        base = self.request.build_absolute_uri(self.request.path)
        return f"{base}?{query}" if query else base

    def response_data(self, results) -> OrderedDict:
        next_link = previous_link = None
        if self.rows and self.has_next:
            next_link = self._link(self._encode(self.rows[-1], backwards=False))
        if self.rows and self.has_previous:
            previous_link = self._link(self._encode(self.rows[0], backwards=True))
        elif not self.rows and self.cursor is not None:
            previous_link = self._link(None)
        return OrderedDict([("next", next_link), ("previous", previous_link), ("results", results)])


class CompanyPagination(KeysetPagination):
    ordering_fields = ("cnpj", "legal_name", "updated_at")
    default_ordering = "cnpj"


class HistoryPagination(KeysetPagination):
    ordering_fields = ("history_id",)
    default_ordering = "-history_id"
    tiebreaker = "history_id"
