"""ReceitaWS (`GET {RECEITAWS_URL}{cnpj}`, optional Bearer token) -> RegistryRecord."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from integrations.cnpj import base
from integrations.cnpj.types import (
    Activity,
    Address,
    BadResponse,
    NotFound,
    Partner,
    RateLimited,
    RegistryRecord,
    cnae_code,
)

NAME = "receitaws"
# ReceitaWS answers HTTP 200 {"status": "ERROR", "message": ...}; these messages mean "no such CNPJ".
_NOT_FOUND_HINTS = ("inválido", "invalido", "não encontrado", "nao encontrado", "rejeitado", "not found")
_RATE_LIMIT_HINTS = ("too many", "muitas requisições", "muitas requisicoes", "limite")


def lookup(cnpj: str) -> RegistryRecord:
    headers = {"Authorization": f"Bearer {settings.RECEITAWS_TOKEN}"} if settings.RECEITAWS_TOKEN else None
    payload = base.fetch_object(f"{settings.RECEITAWS_URL}{cnpj}", provider=NAME, cnpj=cnpj, headers=headers)
    if base.text(payload.get("status")).upper() == "ERROR":
        _raise_error(payload, cnpj=cnpj)
    return parse(payload, cnpj=cnpj)


def _raise_error(payload: dict[str, Any], *, cnpj: str) -> None:
    message = base.text(payload.get("message"))
    lowered = message.lower()
    if any(hint in lowered for hint in _RATE_LIMIT_HINTS):
        raise RateLimited(f"{NAME}: {message}", provider=NAME)
    if any(hint in lowered for hint in _NOT_FOUND_HINTS):
        raise NotFound(f"{NAME}: {cnpj}: {message}", provider=NAME)
    raise BadResponse(f"{NAME}: {message or 'status ERROR without a message'}", provider=NAME)


def parse(payload: dict[str, Any], *, cnpj: str) -> RegistryRecord:
    legal_name = base.text(payload.get("nome"))
    if not legal_name:
        raise BadResponse(f"{NAME}: answer without nome", provider=NAME)
    main = _activities(payload.get("atividade_principal"))
    return RegistryRecord(
        cnpj=base.compact_cnpj(payload.get("cnpj"), fallback=cnpj),
        legal_name=legal_name,
        trade_name=_blank_asterisks(base.text(payload.get("fantasia"))),
        registration_status=base.parse_status(payload.get("situacao")),
        status_date=base.parse_date(payload.get("data_situacao")),
        opened_on=base.parse_date(payload.get("abertura")),
        legal_nature=base.text(payload.get("natureza_juridica")),
        size=base.text(payload.get("porte")),
        share_capital=base.parse_money(payload.get("capital_social")),
        main_activity=main[0] if main else None,
        secondary_activities=tuple(_activities(payload.get("atividades_secundarias"))),
        partners=tuple(
            Partner(name=base.text(item.get("nome")), role=base.text(item.get("qual")))
            for item in base.objects(payload.get("qsa"))
            if base.text(item.get("nome"))
        ),
        address=Address(
            street=base.text(payload.get("logradouro")),
            number=base.text(payload.get("numero")),
            complement=_blank_asterisks(base.text(payload.get("complemento"))),
            district=base.text(payload.get("bairro")),
            city=base.text(payload.get("municipio")),
            state=base.state(payload.get("uf")),
            zip_code=base.digits(payload.get("cep")),
        ),
        email=base.email(payload.get("email")),
        phone=base.text(payload.get("telefone")),
        source=NAME,
        raw=payload,
    )


def _activities(value: Any) -> list[Activity]:
    # "00.00-0-00" / "********" is ReceitaWS's way of saying "none".
    return [
        Activity(code=code, description=base.text(item.get("text")))
        for item in base.objects(value)
        if (code := cnae_code(item.get("code")))
    ]


def _blank_asterisks(value: str) -> str:
    return "" if value and not value.strip("*") else value
