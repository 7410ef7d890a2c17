"""Query-string filters for the book list. User input never reaches a regex unescaped."""

import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from books.isbn import isbn13
from books.languages import normalize_language
from books.published import PartialDate


def _literal(value: str) -> str:
    """A regex matching `value` exactly as typed (`[`, `(`, `.*` are plain characters)."""
    return re.escape(value)


class PartialDateFormField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        return PartialDate.parse(value) if value else None


class IsbnFormField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        return isbn13(value) if value else None


class LanguageFormField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        return normalize_language(value) if value else None


@extend_schema_field(OpenApiTypes.STR)
class PartialDateFilter(django_filters.Filter):
    field_class = PartialDateFormField


@extend_schema_field(OpenApiTypes.STR)
class IsbnFilter(django_filters.Filter):
    field_class = IsbnFormField


@extend_schema_field(OpenApiTypes.STR)
class LanguageFilter(django_filters.Filter):
    field_class = LanguageFormField


class StableOrderingFilter(django_filters.OrderingFilter):
    """Ordering with the id as a tie-breaker, so pages never repeat or skip a book."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value:
            qs = qs.order_by(*qs.query.order_by, "-id" if value[0].startswith("-") else "id")
        return qs


class BookFilter(django_filters.FilterSet):
    author = django_filters.CharFilter(method="filter_author", help_text="Any author, ignoring case.")
    tag = django_filters.CharFilter(method="filter_tag", help_text="Has this tag (tags are lower case).")
    language = LanguageFilter(field_name="language", help_text="ISO 639-1 code, such as en.")
    isbn = IsbnFilter(field_name="isbn", help_text="ISBN-10 or ISBN-13, hyphens allowed.")
    published_after = PartialDateFilter(
        method="filter_published_after", help_text="On or after YYYY, YYYY-MM or YYYY-MM-DD."
    )
    published_before = PartialDateFilter(
        method="filter_published_before", help_text="On or before YYYY, YYYY-MM or YYYY-MM-DD (inclusive)."
    )
    search = django_filters.CharFilter(method="filter_search", help_text="Title, subtitle or an author.")
    include_archived = django_filters.BooleanFilter(
        method="filter_include_archived", help_text="Also list archived books."
    )
    ordering = StableOrderingFilter(
        fields=(("title", "title"), ("published_date", "published_date"), ("created_at", "created_at")),
        help_text="title, published_date or created_at; prefix with - for descending.",
    )

    def filter_author(self, queryset, name, value):
        # MongoDB applies the regex to each element of the array.
        return queryset.filter(authors__iregex=f"^{_literal(value.strip())}$")

    def filter_tag(self, queryset, name, value):
        return queryset.filter(tags__contains=[value.strip().lower()])

    def filter_published_after(self, queryset, name, value):
        return queryset.filter(published_date__gte=value.start)

    def filter_published_before(self, queryset, name, value):
        return queryset.filter(published_date__lt=value.end)

    def filter_search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(title__icontains=value) | Q(subtitle__icontains=value) | Q(authors__iregex=_literal(value))
        )

    def filter_include_archived(self, queryset, name, value):
        # Applied by the selector, which starts from active books unless this is true.
        return queryset

    @property
    def wants_archived(self) -> bool:
        return bool(self.form.cleaned_data.get("include_archived"))

    def errors_as_validation_error(self) -> ValidationError:
        return ValidationError(self.form.errors.as_data())
