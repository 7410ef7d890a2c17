"""Normalisers for company field values other than the CNPJ (UF, CEP, CNAE, IBGE code, lists).

Every write path (API, admin, import command, registry enrichment) passes values through
`normalize_fields`, so the stored form is the same whoever wrote it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from integrations.cnpj.types import cnae_code

UFS = (
    "AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA",
    "PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO",
)

_NON_DIGITS = re.compile(r"\D")


def _digits(value: Any) -> str:
    return _NON_DIGITS.sub("", str(value))


def normalize_cnae(value: Any) -> str:
    """The CNAE code as stored (integrations.cnpj.types.cnae_code: one rule for every writer)."""
    return cnae_code(value)


def normalize_ibge_code(value: Any) -> str:
    if value is None or value == "":
        return ""
    return _digits(value)


def normalize_zip(value: Any) -> str:
    """`01310-100` -> `01310100`."""
    if value is None or value == "":
        return ""
    return _digits(value)


def normalize_upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def normalize_text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _plain(item: Any) -> Any:
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        item = dataclasses.asdict(item)
    if isinstance(item, Mapping):
        return {str(key): _plain(value) for key, value in item.items()}
    if isinstance(item, (list, tuple)):
        return [_plain(value) for value in item]
    if hasattr(item, "isoformat"):
        return item.isoformat()
    return item


def normalize_activities(value: Any) -> list:
    """A list of {code, description}; the code normalised like the main CNAE."""
    activities = []
    for item in _plain(value) or []:
        if isinstance(item, Mapping):
            item = {**item, "code": normalize_cnae(item.get("code"))}
        activities.append(item)
    return activities


def normalize_partners(value: Any) -> list:
    """A list of {name, role, since}: dataclasses and dates become plain JSON."""
    return list(_plain(value) or [])


NORMALIZERS = {
    "main_activity_code": normalize_cnae,
    "city_ibge_code": normalize_ibge_code,
    "zip_code": normalize_zip,
    "state": normalize_upper,
    "registration_status": normalize_upper,
    "secondary_activities": normalize_activities,
    "partners": normalize_partners,
}


def normalize_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    normalized = {}
    for name, value in fields.items():
        normalizer = NORMALIZERS.get(name, normalize_text)
        normalized[name] = normalizer(value)
    return normalized
