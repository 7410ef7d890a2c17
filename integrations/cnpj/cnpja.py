"""CNPJá open API (`GET {CNPJA_URL}{cnpj}`, no key) -> RegistryRecord. Its shape is loosely
documented, so every field is optional and nested objects may be missing or null."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from integrations.cnpj import base
from integrations.cnpj.types import Activity, Address, BadResponse, Partner, RegistryRecord, cnae_code

NAME = "cnpja"


def lookup(cnpj: str) -> RegistryRecord:
    payload = base.fetch_object(f"{settings.CNPJA_URL}{cnpj}", provider=NAME, cnpj=cnpj)
    return parse(payload, cnpj=cnpj)


def parse(payload: dict[str, Any], *, cnpj: str) -> RegistryRecord:
    company = _object(payload.get("company"))
    legal_name = base.text(company.get("name"))
    if not legal_name:
        raise BadResponse(f"{NAME}: answer without company.name", provider=NAME)
    address = _object(payload.get("address"))
    main = _activity(payload.get("mainActivity"))
    return RegistryRecord(
        cnpj=base.compact_cnpj(payload.get("taxId"), fallback=cnpj),
        legal_name=legal_name,
        trade_name=base.text(payload.get("alias")),
        registration_status=base.parse_status(payload.get("status")),
        status_date=base.parse_date(payload.get("statusDate")),
        opened_on=base.parse_date(payload.get("founded")),
        legal_nature=base.nested_text(company, "nature", "text"),
        size=base.nested_text(company, "size", "text") or base.text(company.get("size")),
        share_capital=base.parse_money(company.get("equity")),
        main_activity=main,
        secondary_activities=tuple(
            activity for item in _list(payload.get("sideActivities")) if (activity := _activity(item))
        ),
        partners=tuple(
            Partner(
                name=base.nested_text(member, "person", "name"),
                role=base.nested_text(member, "role", "text"),
                since=base.parse_date(member.get("since")),
            )
            for member in _list(company.get("members"))
            if base.nested_text(member, "person", "name")
        ),
        address=Address(
            street=base.text(address.get("street")),
            number=base.text(address.get("number")),
            complement=base.text(address.get("details")),
            district=base.text(address.get("district")),
            city=base.text(address.get("city")),
            state=base.state(address.get("state")),
            zip_code=base.digits(address.get("zip")),
            ibge_code=base.digits(address.get("municipality")),
        ),
        email=_first_email(payload.get("emails")),
        phone=_first_phone(payload.get("phones")),
        source=NAME,
        raw=payload,
    )


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _activity(value: Any) -> Activity | None:
    item = _object(value)
    code = cnae_code(item.get("id"))
    return Activity(code=code, description=base.text(item.get("text"))) if code else None


def _first_email(value: Any) -> str:
    for item in _list(value):
        if address := base.email(item.get("address")):
            return address
    return ""


def _first_phone(value: Any) -> str:
    for item in _list(value):
        if number := base.digits(item.get("number")):
            return base.digits(item.get("area")) + number
    return ""
