"""The company list's and a company's history's pages (core.pagination's keyset pages)."""

from __future__ import annotations

from core.pagination import KeysetPagination


class CompanyPagination(KeysetPagination):
    ordering_fields = ("cnpj", "legal_name", "updated_at")
    default_ordering = "cnpj"
    cursor_name = "companies"


class CompanyHistoryPagination(KeysetPagination):
    ordering_query_param = None
    ordering_fields = ("history_id",)
    default_ordering = "-history_id"
    tiebreaker = "history_id"
    cursor_name = "companies.history"

    def get_scope(self, request, view) -> str:
        return view.kwargs["cnpj"]  # one company's history: its cursors are refused by another's
