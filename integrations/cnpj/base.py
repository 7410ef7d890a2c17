"""What every provider module shares: the GET and the normalisers for dates, money, codes, text."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from stdnum.br import cnpj as stdnum_cnpj

from integrations import http
from integrations.cnpj.types import BadResponse, NotFound, RegistrationStatus

# Receita Federal's numeric codes for the registration status.
STATUS_BY_CODE = {
    1: RegistrationStatus.NULA,
    2: RegistrationStatus.ATIVA,
    3: RegistrationStatus.SUSPENSA,
    4: RegistrationStatus.INAPTA,
    8: RegistrationStatus.BAIXADA,
}
STATUS_BY_TEXT = {status.value.lower(): status for status in STATUS_BY_CODE.values()}
STATUS_BY_TEXT.update({"nula": RegistrationStatus.NULA, "baixa": RegistrationStatus.BAIXADA})

_CENTS = Decimal("0.01")


def fetch(url: str, *, provider: str, headers: dict[str, str] | None = None) -> tuple[httpx.Response, Any]:
    """GET `url`; 429 and 5xx become named errors. Returns the response and its decoded JSON body."""
    with http.build_client(headers=headers) as client:
        response = http.request(client, "GET", url, provider=provider)
    http.raise_for_overload(response, provider=provider)
    return response, http.json_body(response, provider=provider)


def expect_object(body: Any, *, provider: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadResponse(f"{provider}: expected a JSON object, got {type(body).__name__}", provider=provider)
    return body


def fetch_object(url: str, *, provider: str, cnpj: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A provider's JSON object for `cnpj`: 404 is NotFound, any other non-200 a BadResponse."""
    response, body = fetch(url, provider=provider, headers=headers)
    if response.status_code == 404:
        raise NotFound(f"{provider}: {cnpj} is not in the registry", provider=provider)
    if response.status_code != 200:
        message = body.get("message", "") if isinstance(body, dict) else ""
        raise BadResponse(f"{provider}: HTTP {response.status_code} {message}".strip(), provider=provider)
    return expect_object(body, provider=provider)


def objects(value: Any) -> list[dict[str, Any]]:
    """The dict items of a JSON list (anything else in it, or a non-list, is ignored)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def text(value: Any) -> str:
    """Upstream text, trimmed; None, numbers and odd types become strings or ''."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    return " ".join(str(value).split())


def nested_text(value: Any, *keys: str) -> str:
    """`value[k1][k2]...` as text, tolerating missing levels and nulls."""
    for key in keys:
        if not isinstance(value, dict):
            return ""
        value = value.get(key)
    return text(value)


def parse_date(value: Any) -> date | None:
    """YYYY-MM-DD, DD/MM/YYYY or an ISO timestamp; anything else (or blank) is None."""
    raw = text(value)
    if not raw:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(raw[:10], pattern).date()
        except ValueError:
            continue
    return None


def parse_money(value: Any) -> Decimal | None:
    """10000 / 10000.5 / "10000.00" / "10.000,00" / "R$ 1.234,56" -> Decimal with cents; blank -> None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        number = str(value)
    else:
        number = re.sub(r"[^\d,.\-]", "", str(value))
        if not number:
            return None
        if "," in number:  # Brazilian format: '.' groups thousands, ',' marks the cents
            number = number.replace(".", "").replace(",", ".")
        elif number.count(".") > 1:
            number = number.replace(".", "")
    try:
        amount = Decimal(number)
    except InvalidOperation:
        return None
    return amount.quantize(_CENTS) if amount.is_finite() else None


def parse_status(value: Any) -> RegistrationStatus:
    """2 / "2" / "ATIVA" / "Ativa" / {"id": 2, "text": "Ativa"} -> RegistrationStatus."""
    if isinstance(value, dict):
        by_id = parse_status(value.get("id"))
        return by_id if by_id is not RegistrationStatus.UNKNOWN else parse_status(value.get("text"))
    if isinstance(value, bool) or value is None:
        return RegistrationStatus.UNKNOWN
    if isinstance(value, int):
        return STATUS_BY_CODE.get(value, RegistrationStatus.UNKNOWN)
    raw = text(value)
    if raw.isdigit():
        return STATUS_BY_CODE.get(int(raw), RegistrationStatus.UNKNOWN)
    return STATUS_BY_TEXT.get(raw.lower(), RegistrationStatus.UNKNOWN)


def digits(value: Any) -> str:
    return re.sub(r"\D", "", text(value))


def compact_cnpj(value: Any, *, fallback: str) -> str:
    raw = text(value)
    return stdnum_cnpj.compact(raw).upper() if raw else fallback


def state(value: Any) -> str:
    raw = text(value).upper()
    return raw if len(raw) == 2 and raw.isalpha() else ""


def email(value: Any) -> str:
    return text(value).lower()
