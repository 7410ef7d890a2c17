"""Normalisers for company field values other than the CNPJ (UF, CEP, CNAE, IBGE code, lists).

Every write path (API, admin, import command, registry enrichment) passes values through
`normalize_fields`, so the stored form is the same whoever wrote it.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from integrations.cnpj.types import cnae_code

UFS = (
    "AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA",
    "PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO",
)

_SEPARATORS = re.compile(r"[\s./-]")


def _digits(value: Any) -> str:
    """Separators (spaces, dots, dashes, slashes) removed; anything else is kept, so a value with
    letters is refused by validation instead of silently losing them."""
    return _SEPARATORS.sub("", str(value))


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


ACTIVITY_KEYS = frozenset({"code", "description"})
PARTNER_KEYS = frozenset({"name", "role", "since"})
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _items(value: Any, *, allowed: frozenset[str], label: str):
    """Each item of a JSON list of objects with only `allowed` keys, with its position."""
    if not isinstance(value, list):
        raise ValidationError(_("Send a list of objects."), code="invalid_item")
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            message = _("Item %(index)d: send an object {%(keys)s}.") % {"index": index, "keys": label}
            raise ValidationError(message, code="invalid_item")
        if unknown := sorted(set(item) - allowed):
            message = _("Item %(index)d: unknown key(s) %(keys)s.") % {"index": index, "keys": ", ".join(unknown)}
            raise ValidationError(message, code="unknown")
        yield index, item


def _text(item: Mapping, key: str, index: int, *, required: bool = False, max_length: int = 255) -> None:
    value = item.get(key)
    if value is None and not required:
        return
    if not isinstance(value, str) or (required and not value.strip()):
        if required:
            message = _("Item %(index)d: %(key)s must be non-empty text.")
        else:
            message = _("Item %(index)d: %(key)s must be text.")
        raise ValidationError(message % {"index": index, "key": key}, code="invalid_item")
    if len(value) > max_length:
        message = _("Item %(index)d: %(key)s is longer than %(max)d characters.")
        raise ValidationError(message % {"index": index, "key": key, "max": max_length}, code="max_length")


def validate_activities(value: Any) -> None:
    """Secondary activities: [{code (7 digits, like the main CNAE), description}], nothing else."""
    for index, item in _items(value, allowed=ACTIVITY_KEYS, label="code, description"):
        code = item.get("code")
        if not isinstance(code, str) or not re.fullmatch(r"[0-9]{7}", code):
            message = _("Item %(index)d: code must be a CNAE of 7 digits.") % {"index": index}
            raise ValidationError(message, code="invalid_item")
        _text(item, "description", index)


def validate_partners(value: Any) -> None:
    """Partners: [{name (required), role, since (YYYY-MM-DD or null)}], nothing else."""
    for index, item in _items(value, allowed=PARTNER_KEYS, label="name, role, since"):
        _text(item, "name", index, required=True)
        _text(item, "role", index)
        since = item.get("since")
        if since is not None:
            try:
                valid = isinstance(since, str) and _ISO_DATE.match(since) and datetime.date.fromisoformat(since)
            except ValueError:
                valid = False
            if not valid:
                message = _("Item %(index)d: since must be a date, YYYY-MM-DD.") % {"index": index}
                raise ValidationError(message, code="invalid_item")
