"""Query-string filters for the book list: parsed, documented and applied here as ORM lookups
(user text is escaped before it reaches a regex)."""

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


class StrictBooleanFormField(forms.CharField):
    """true / false / 1 / 0 (any case); anything else is an error, not a silent false."""

    def clean(self, value):
        value = super().clean(value)
        if value in ("", None):
            return None
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise forms.ValidationError("Use true, false, 1 or 0.", code="invalid")


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanFormField


@extend_schema_field(OpenApiTypes.STR)
class PartialDateFilter(django_filters.Filter):
    field_class = PartialDateFormField


@extend_schema_field(OpenApiTypes.STR)
class IsbnFilter(django_filters.Filter):
    field_class = IsbnFormField


@extend_schema_field(OpenApiTypes.STR)
class LanguageFilter(django_filters.Filter):
    field_class = LanguageFormField


class BookFilter(django_filters.FilterSet):
    """Validates the list's query string (400 naming the parameter), documents it in the schema and
    filters the books. The ordering is the paginator's (books.pagination)."""

    author = django_filters.CharFilter(method="filter_author", help_text="Any author, whole name, ignoring case.")
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
    include_archived = StrictBooleanFilter(
        method="filter_include_archived", help_text="Also list archived books: true/false/1/0."
    )

    # `iregex` with escaped text, not `iexact`: django-mongodb-backend 5.2.4 puts an `iexact` value
    # into its regex unescaped. A case-insensitive regex is matched against every `authors` key of
    # the index, not a range of it (docs/architecture/books.md).
    def filter_author(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.filter(authors__iregex=f"^{re.escape(value.strip())}$")

    def filter_tag(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.filter(tags__contains=[value.strip().lower()])  # {tags: {$all: [tag]}}

    def filter_published_after(self, queryset, name, value):
        return queryset.filter(published_date__gte=value.start)

    def filter_published_before(self, queryset, name, value):
        try:
            end = value.end
        except ValueError:  # the year 9999: no day after it to stop before
            return queryset
        return queryset.filter(published_date__lt=end)

    def filter_search(self, queryset, name, value):
        if not value.strip():
            return queryset
        pattern = re.escape(value.strip())
        return queryset.filter(
            Q(title__iregex=pattern) | Q(subtitle__iregex=pattern) | Q(authors__iregex=pattern)
        )

    def filter_include_archived(self, queryset, name, value):
        return queryset  # applied in filter_queryset, which also runs when the parameter is absent

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("include_archived"):
            queryset = queryset.filter(archived_at=None)  # null or missing
        return queryset

    def errors_as_validation_error(self) -> ValidationError:
        return ValidationError(self.form.errors.as_data())
