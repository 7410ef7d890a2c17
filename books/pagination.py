"""The book list's and a book's history's pages (core.pagination's keyset pages, on MongoDB)."""

from __future__ import annotations

from core.pagination import KeysetPagination


class BookPagination(KeysetPagination):
    """Each ordering is served by its `(field, _id)` index (books.models): a page is one index range."""

    page_size = 20
    max_page_size = 100
    ordering_fields = ("created_at", "published_date", "title")
    default_ordering = "-created_at"
    tiebreaker = "id"
    cursor_name = "books"
    row_comparison = False  # MongoDB has no row values: field >= v AND (field > v OR (field = v AND _id > k))
    nulls_lowest = True  # a missing published_date sorts before every date


class BookHistoryPagination(KeysetPagination):
    ordering_query_param = None
    ordering_fields = ("history_date",)
    default_ordering = "-history_date"
    tiebreaker = "history_id"
    cursor_name = "books.history"
    row_comparison = False

    def get_scope(self, request, view) -> str:
        return view.kwargs["pk"]  # one book's history: its cursors are refused by another's
