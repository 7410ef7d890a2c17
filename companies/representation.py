"""A company's API representation built from a database row: the uncached read path.

`CompanySerializer` defines what a company looks like in the API. Rendering it through the
serializer costs, per answer, fresh copies of ~30 field objects and a model instance. For the
single-company read, `company_document` builds the same dict from a `values()` row (see
`selectors.company_get_values`) with the serializer's own field objects, built once per process,
so every value is formatted by the same code (dates, decimals, timestamps, choices).
`companies/tests/test_representation.py` keeps the two equal for every field.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from rest_framework import fields as drf_fields

from companies import cnpj as cnpj_value
from companies.serializers import DERIVED_FIELDS, CompanySerializer

# The row's fields: everything the serializer outputs except what is derived from the CNPJ.
VALUE_FIELDS = tuple(name for name in CompanySerializer.Meta.fields if name not in DERIVED_FIELDS)


@functools.cache
def _formatters() -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
    """(field, to_representation) in output order; None where the value is output as it is."""
    fields = CompanySerializer(context={"companies_url": ""}).fields
    formatters = []
    for name in VALUE_FIELDS:
        field = fields[name]
        plain_text = type(field) in (drf_fields.CharField, drf_fields.EmailField)
        formatters.append((name, None if plain_text else field.to_representation))
    return tuple(formatters)


def company_document(row: Mapping[str, Any], *, companies_url: str) -> dict[str, Any]:
    """The same dict as `CompanySerializer(company).data`, from a `values(*VALUE_FIELDS)` row."""
    cnpj = row["cnpj"]
    document = {
        "url": f"{companies_url}{cnpj}/",
        "cnpj": cnpj,
        "cnpj_formatted": cnpj_value.format_cnpj(cnpj),
        "root": cnpj_value.root(cnpj),
        "is_head_office": cnpj_value.is_head_office(cnpj),
    }
    for name, formatter in _formatters():
        value = row[name]
        document[name] = value if value is None or formatter is None else formatter(value)
    return document
