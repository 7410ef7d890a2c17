"""Query-string filters for the company list (django-filter); every filter has an index."""

import datetime
import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import F, Func, Q, TextField

from companies import cnpj as cnpj_value
from companies.models import Company, EnrichmentStatus, RegistrationStatus
from companies.values import UFS, normalize_cnae

_ROOT_RE = re.compile(r"^[0-9A-Z]{8}$")
_CNPJ_PREFIX_RE = re.compile(r"[0-9A-Z]{1,14}")


class NamesSearch(Func):
    """`legal_name || ' ' || trade_name`: what `search` matches. On PostgreSQL `icontains` on it
    compiles to the expression of the trigram index (migration 0003); keep the two identical."""

    template = "(%(expressions)s)"
    arg_joiner = " || ' ' || "

    def __init__(self):
        super().__init__(F("legal_name"), F("trade_name"), output_field=TextField())


class UpperChoiceField(forms.ChoiceField):
    """A choice in any letter case (`ativa`, `sp`)."""

    def to_python(self, value):
        return super().to_python(value).strip().upper()


class UpperChoiceFilter(django_filters.ChoiceFilter):
    field_class = UpperChoiceField


class RootField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return value
        root = cnpj_value.compact(value)
        if not _ROOT_RE.match(root):
            raise ValidationError("A CNPJ root is the first 8 characters of a CNPJ (digits or letters).")
        return root


class CNAEField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return value
        code = normalize_cnae(value)
        if not re.fullmatch(r"[0-9]{7}", code):
            raise ValidationError("A CNAE code has 7 digits, for example 6201501 or 62.01-5-01.")
        return code


class RootFilter(django_filters.CharFilter):
    field_class = RootField


class CNAEFilter(django_filters.CharFilter):
    field_class = CNAEField


class UTCIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """ISO 8601 with any offset Python accepts (up to ±23:59), sent to the database in UTC:
    PostgreSQL refuses offsets beyond ±15:59."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return value
        try:
            return value.astimezone(datetime.UTC)
        except OverflowError:
            raise ValidationError("Date and time out of range.", code="invalid") from None


class UTCIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCIsoDateTimeField


class CompanyFilter(django_filters.FilterSet):
    status = UpperChoiceFilter(field_name="registration_status", choices=RegistrationStatus.choices)
    state = UpperChoiceFilter(field_name="state", choices=[(uf, uf) for uf in UFS])
    # `iexact` compiles to UPPER(city::text) = UPPER(%s), served by the UPPER(city) index.
    city = django_filters.CharFilter(field_name="city", lookup_expr="iexact")
    cnae = CNAEFilter(field_name="main_activity_code")
    root = RootFilter(field_name="cnpj", lookup_expr="startswith")
    enrichment_status = django_filters.ChoiceFilter(choices=EnrichmentStatus.choices)
    updated_after = UTCIsoDateTimeFilter(field_name="updated_at", lookup_expr="gt")
    search = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = Company
        fields = []

    def filter_search(self, queryset, name, value):
        """Legal or trade name containing the term (any case), or a CNPJ starting with it."""
        term = value.strip()
        if not term:
            return queryset
        condition = Q(names_search__icontains=term)
        prefix = cnpj_value.compact(term)
        if _CNPJ_PREFIX_RE.fullmatch(prefix):
            condition |= Q(cnpj__startswith=prefix)
        return queryset.alias(names_search=NamesSearch()).filter(condition)
