"""The rules on company field values other than the CNPJ (companies.cnpj): how each is
normalised (UF, CEP, CNAE, IBGE code, the partners and activities lists) and what the two lists
may hold.

The normalisers run first, then the model field's own validation (choices, lengths, the digit
patterns, email, a share capital of 0 or more, these list validators): both only through
`companies.services.company_field_clean`, which every door (API, admin, CSV import, registry
enrichment) goes through, so the stored form and the refusals are the same whoever wrote it.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date
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


def _stripped(value: Any, *, blank: Any = "") -> Any:
    """Text trimmed; None becomes `blank`; anything else is left for validation to refuse."""
    if value is None:
        return blank
    return value.strip() if isinstance(value, str) else value


def _iso_date(value: Any) -> Any:
    """A partner's `since` as YYYY-MM-DD, read as a model DateField reads text (`2020-2-1` too);
    blank is null; text that is no date is left for validation to refuse."""
    value = _stripped(value, blank=None)
    if value == "":
        return None
    if isinstance(value, str):
        try:
            parsed = parse_date(value)
        except ValueError:  # well formed, but no such day (2020-02-30)
            return value
        return parsed.isoformat() if parsed else value
    return value


def normalize_activities(value: Any) -> Any:
    """A list of {code, description}, each item with both keys: the code normalised like the
    main CNAE, the description trimmed ("" when left out). Unknown keys stay, for validation to
    refuse; anything but a list is left as it is."""
    value = _plain(value)
    if not isinstance(value, list):
        return value
    return [
        {**item, "code": normalize_cnae(item.get("code")), "description": _stripped(item.get("description"))}
        if isinstance(item, Mapping)
        else item
        for item in value
    ]


def normalize_partners(value: Any) -> Any:
    """A list of {name, role, since}, each item with all three keys: text trimmed (role "" when
    left out), `since` as YYYY-MM-DD or null. Dataclasses and dates become plain JSON."""
    value = _plain(value)
    if not isinstance(value, list):
        return value
    return [
        {
            **item,
            "name": _stripped(item.get("name")),
            "role": _stripped(item.get("role")),
            "since": _iso_date(item.get("since")),
        }
        if isinstance(item, Mapping)
        else item
        for item in value
    ]


NORMALIZERS = {
    "main_activity_code": normalize_cnae,
    "city_ibge_code": normalize_ibge_code,
    "zip_code": normalize_zip,
    "state": normalize_upper,
    "registration_status": normalize_upper,
    "secondary_activities": normalize_activities,
    "partners": normalize_partners,
}


ACTIVITY_KEYS = frozenset({"code", "description"})
PARTNER_KEYS = frozenset({"name", "role", "since"})
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def item_error(message: str, *, code: str, index: int, key: str | None = None) -> ValidationError:
    """An error about one item of a list field (and one of its keys): the API names it
    `field.index.key` (core.exceptions.api_validation_error)."""
    # `%` escaped: Django formats a message that has params, and item keys come from the client.
    return ValidationError(message.replace("%", "%%"), code=code, params={"item": index, "key": key})


def _items(value: Any, *, allowed: frozenset[str], label: str):
    """Each item of a JSON list of objects with only `allowed` keys, with its position."""
    if not isinstance(value, list):
        raise ValidationError(_("Send a list of objects."), code="invalid_item")
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            message = _("Item %(index)d: send an object {%(keys)s}.") % {"index": index, "keys": label}
            raise item_error(message, code="invalid_item", index=index)
        if unknown := sorted(set(item) - allowed):
            message = _("Item %(index)d: unknown key(s) %(keys)s.") % {"index": index, "keys": ", ".join(unknown)}
            raise item_error(message, code="unknown", index=index, key=unknown[0])
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
        raise item_error(message % {"index": index, "key": key}, code="invalid_item", index=index, key=key)
    if len(value) > max_length:
        message = _("Item %(index)d: %(key)s is longer than %(max)d characters.")
        message %= {"index": index, "key": key, "max": max_length}
        raise item_error(message, code="max_length", index=index, key=key)


def validate_activities(value: Any) -> None:
    """Secondary activities: [{code (7 digits, like the main CNAE), description}], nothing else."""
    for index, item in _items(value, allowed=ACTIVITY_KEYS, label="code, description"):
        code = item.get("code")
        if not isinstance(code, str) or not re.fullmatch(r"[0-9]{7}", code):
            message = _("Item %(index)d: code must be a CNAE of 7 digits.") % {"index": index}
            raise item_error(message, code="invalid_item", index=index, key="code")
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
                raise item_error(message, code="invalid_item", index=index, key="since")
