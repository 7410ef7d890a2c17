"""BrasilAPI (`GET {BRASILAPI_URL}{cnpj}`, no key) -> RegistryRecord."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from integrations.cnpj import base
from integrations.cnpj.types import Activity, Address, BadResponse, Partner, RegistryRecord, cnae_code

NAME = "brasilapi"


def lookup(cnpj: str) -> RegistryRecord:
    payload = base.fetch_object(f"{settings.BRASILAPI_URL}{cnpj}", provider=NAME, cnpj=cnpj)
    return parse(payload, cnpj=cnpj)


def parse(payload: dict[str, Any], *, cnpj: str) -> RegistryRecord:
    legal_name = base.text(payload.get("razao_social"))
    if not legal_name:
        raise BadResponse(f"{NAME}: answer without razao_social", provider=NAME)
    main_code = cnae_code(payload.get("cnae_fiscal"))
    return RegistryRecord(
        cnpj=base.compact_cnpj(payload.get("cnpj"), fallback=cnpj),
        legal_name=legal_name,
        trade_name=base.text(payload.get("nome_fantasia")),
        registration_status=base.parse_status(
            payload.get("situacao_cadastral") or payload.get("descricao_situacao_cadastral")
        ),
        status_date=base.parse_date(payload.get("data_situacao_cadastral")),
        opened_on=base.parse_date(payload.get("data_inicio_atividade")),
        legal_nature=base.text(payload.get("natureza_juridica")),
        size=base.text(payload.get("porte")),
        share_capital=base.parse_money(payload.get("capital_social")),
        main_activity=(
            Activity(code=main_code, description=base.text(payload.get("cnae_fiscal_descricao"))) if main_code else None
        ),
        secondary_activities=tuple(
            Activity(code=code, description=base.text(item.get("descricao")))
            for item in base.objects(payload.get("cnaes_secundarios"))
            if (code := cnae_code(item.get("codigo")))
        ),
        partners=tuple(
            Partner(
                name=base.text(item.get("nome_socio")),
                role=base.text(item.get("qualificacao_socio")),
                since=base.parse_date(item.get("data_entrada_sociedade")),
            )
            for item in base.objects(payload.get("qsa"))
            if base.text(item.get("nome_socio"))
        ),
        address=Address(
            street=_street(payload),
            number=base.text(payload.get("numero")),
            complement=base.text(payload.get("complemento")),
            district=base.text(payload.get("bairro")),
            city=base.text(payload.get("municipio")),
            state=base.state(payload.get("uf")),
            zip_code=base.digits(payload.get("cep")),
            ibge_code=base.digits(payload.get("codigo_municipio_ibge")),
        ),
        email=base.email(payload.get("email")),
        phone=base.text(payload.get("ddd_telefone_1")),
        source=NAME,
        raw=payload,
    )


def _street(payload: dict[str, Any]) -> str:
    kind = base.text(payload.get("descricao_tipo_de_logradouro"))
    street = base.text(payload.get("logradouro"))
    if kind and street and not street.upper().startswith(kind.upper()):
        return f"{kind} {street}"
    return street or kind
