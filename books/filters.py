"""Query-string filters for the book list: parsed and documented here, turned into one MongoDB
filter by books.listing (user text is escaped before it reaches a regex there)."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
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
    """Validates the list's query string (400 naming the parameter) and documents it in the schema.

    Its values are read from `form.cleaned_data`; the filtering itself is books.listing's MongoDB
    filter, so every filter here is declared with the `parsed` method, which leaves querysets alone.
    """

    author = django_filters.CharFilter(method="parsed", help_text="Any author, whole name, ignoring case.")
    tag = django_filters.CharFilter(method="parsed", help_text="Has this tag (tags are lower case).")
    language = LanguageFilter(method="parsed", help_text="ISO 639-1 code, such as en.")
    isbn = IsbnFilter(method="parsed", help_text="ISBN-10 or ISBN-13, hyphens allowed.")
    published_after = PartialDateFilter(method="parsed", help_text="On or after YYYY, YYYY-MM or YYYY-MM-DD.")
    published_before = PartialDateFilter(
        method="parsed", help_text="On or before YYYY, YYYY-MM or YYYY-MM-DD (inclusive)."
    )
    search = django_filters.CharFilter(method="parsed", help_text="Title, subtitle or an author.")
    include_archived = StrictBooleanFilter(method="parsed", help_text="Also list archived books: true/false/1/0.")
    ordering = django_filters.OrderingFilter(
        fields=(("title", "title"), ("published_date", "published_date"), ("created_at", "created_at")),
        # Spelled out: django-filter formats its "(descending)" when the class is defined, in whatever
        # language is active then, and the API (and its schema) is in English.
        field_labels={
            "title": "Title",
            "-title": "Title (descending)",
            "published_date": "Published date",
            "-published_date": "Published date (descending)",
            "created_at": "Created at",
            "-created_at": "Created at (descending)",
        },
        help_text="title, published_date or created_at; prefix with - for descending.",
    )

    def parsed(self, queryset, name, value):
        return queryset

    @property
    def wants_archived(self) -> bool:
        return bool(self.form.cleaned_data.get("include_archived"))

    def errors_as_validation_error(self) -> ValidationError:
        return ValidationError(self.form.errors.as_data())
