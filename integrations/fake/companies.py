"""Deterministic plausible companies for any valid CNPJ, in each provider's shape, and the
trigger CNPJs that make the fake misbehave.

The first three digits of a CNPJ pick a behaviour, the fourth which provider shows it
(0 every provider, 1 BrasilAPI, 2 ReceitaWS, 3 CNPJá); any other CNPJ answers normally:

    404...  404 not found                 429...  429 with Retry-After
    500...  HTTP 500                      200...  HTTP 200 with a malformed (non-JSON) body
    408...  a slow answer (then normal)   502...  answers normally; Pipefy's createCard stores
                                                  the card, then answers 502 the first time

A script (`POST /_fake/script`, `FakeState.script`) overrides these for a given number of lookups.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, timedelta

from stdnum.br import cnpj as stdnum_cnpj

PROVIDER_DIGITS = {"0": None, "1": "brasilapi", "2": "receitaws", "3": "cnpja"}
BEHAVIOURS = {
    "404": "not_found",
    "429": "rate_limited",
    "500": "server_error",
    "200": "malformed",
    "408": "slow",
    "502": "pipefy_ambiguous",
}


def trigger_cnpj(behaviour_prefix: str, provider_digit: str = "0", branch: str = "0001") -> str:
    """A valid CNPJ that triggers `behaviour_prefix` (e.g. "429") for the provider digit."""
    base = f"{behaviour_prefix}{provider_digit}0000{branch}"
    return base + stdnum_cnpj.calc_check_digits(base)


def behaviour(cnpj: str, provider: str) -> str | None:
    """What the fake does for this CNPJ at this provider: None means "answer normally"."""
    kind = BEHAVIOURS.get(cnpj[:3])
    if kind is None or cnpj[3] not in PROVIDER_DIGITS:
        return None
    target = PROVIDER_DIGITS[cnpj[3]]
    return kind if target in (None, provider) else None


NAMES = (
    "ALFA",
    "BETA",
    "SOL NASCENTE",
    "MAR AZUL",
    "SERRA VERDE",
    "RIO CLARO",
    "NOVA ERA",
    "VALE DO SOL",
    "CAMPO BELO",
    "PONTE ALTA",
    "ESTRELA",
    "HORIZONTE",
)
KINDS = (
    "COMERCIO DE ALIMENTOS",
    "TECNOLOGIA",
    "CONSTRUCOES",
    "TRANSPORTES",
    "SERVICOS MEDICOS",
    "CONSULTORIA",
    "PADARIA",
    "INDUSTRIA TEXTIL",
)
SUFFIXES = ("LTDA", "S.A.", "EIRELI", "LTDA - ME")
CITIES = (
    ("SAO PAULO", "SP", "3550308"),
    ("RIO DE JANEIRO", "RJ", "3304557"),
    ("BELO HORIZONTE", "MG", "3106200"),
    ("CURITIBA", "PR", "4106902"),
    ("PORTO ALEGRE", "RS", "4314902"),
    ("SALVADOR", "BA", "2927408"),
    ("RECIFE", "PE", "2611606"),
    ("FORTALEZA", "CE", "2304400"),
    ("BRASILIA", "DF", "5300108"),
    ("MANAUS", "AM", "1302603"),
)
CNAES = (
    (6201501, "Desenvolvimento de programas de computador sob encomenda"),
    (4711302, "Comércio varejista de mercadorias em geral, com predominância de produtos alimentícios"),
    (4120400, "Construção de edifícios"),
    (4930202, "Transporte rodoviário de carga, intermunicipal, interestadual e internacional"),
    (8630503, "Atividade médica ambulatorial restrita a consultas"),
    (7020400, "Atividades de consultoria em gestão empresarial"),
    (5611201, "Restaurantes e similares"),
    (1091102, "Fabricação de produtos de padaria e confeitaria com predominância de produção própria"),
)
STREETS = (
    ("RUA", "DAS FLORES"),
    ("AVENIDA", "PAULISTA"),
    ("RUA", "XV DE NOVEMBRO"),
    ("AVENIDA", "BRASIL"),
    ("RUA", "SETE DE SETEMBRO"),
    ("TRAVESSA", "DO COMERCIO"),
)
DISTRICTS = ("CENTRO", "JARDIM AMERICA", "VILA NOVA", "BELA VISTA", "SAO JOSE")
FIRST_NAMES = (
    "MARIA",
    "JOSE",
    "ANA",
    "JOAO",
    "FRANCISCA",
    "ANTONIO",
    "ADRIANA",
    "CARLOS",
    "JULIANA",
    "PAULO",
)
SURNAMES = ("SILVA", "SANTOS", "OLIVEIRA", "SOUZA", "RODRIGUES", "FERREIRA", "ALVES", "PEREIRA", "LIMA")
ROLES = ((49, "Sócio-Administrador"), (22, "Sócio"), (5, "Administrador"))
SIZES = (
    ("ME", "MICRO EMPRESA", "Microempresa"),
    ("EPP", "EMPRESA DE PEQUENO PORTE", "Empresa de Pequeno Porte"),
    ("DEMAIS", "DEMAIS", "Demais"),
)
STATUS_TEXT = {1: "NULA", 2: "ATIVA", 3: "SUSPENSA", 4: "INAPTA", 8: "BAIXADA"}


@dataclass(frozen=True)
class FakeCompany:
    cnpj: str
    legal_name: str
    trade_name: str
    status_code: int
    status_date: date
    opened_on: date
    capital: float
    cnae: tuple[int, str]
    side_cnaes: tuple[tuple[int, str], ...]
    street: tuple[str, str]
    number: str
    district: str
    city: tuple[str, str, str]
    zip_code: str
    size: tuple[str, str, str]
    partners: tuple[tuple[str, tuple[int, str], date], ...]
    email: str
    phone: str

    @property
    def formatted(self) -> str:
        return stdnum_cnpj.format(self.cnpj)


def company_for(cnpj: str) -> FakeCompany:
    rng = random.Random(int(hashlib.sha256(cnpj.encode()).hexdigest()[:16], 16))
    name, kind = rng.choice(NAMES), rng.choice(KINDS)
    cnae = rng.choice(CNAES)
    opened_on = date(1990, 1, 1) + timedelta(days=rng.randrange(0, 12000))
    partners = tuple(
        (
            f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}",
            rng.choice(ROLES),
            opened_on + timedelta(days=rng.randrange(0, 800)),
        )
        for _ in range(rng.randint(1, 3))
    )
    ddd = rng.randint(11, 99)
    return FakeCompany(
        cnpj=cnpj,
        legal_name=f"{name} {kind} {rng.choice(SUFFIXES)}",
        trade_name=name if rng.random() < 0.8 else "",
        status_code=rng.choices((2, 8, 4, 3), weights=(85, 8, 5, 2))[0],
        status_date=opened_on + timedelta(days=rng.randrange(0, 3000)),
        opened_on=opened_on,
        capital=float(rng.choice((1000, 10000, 50000, 100000, 250000.5, 1000000))),
        cnae=cnae,
        side_cnaes=tuple(rng.sample([c for c in CNAES if c != cnae], rng.randint(0, 2))),
        street=rng.choice(STREETS),
        number=str(rng.randint(1, 3000)),
        district=rng.choice(DISTRICTS),
        city=rng.choice(CITIES),
        zip_code=f"{rng.randint(1000000, 99999999):08d}",
        size=rng.choice(SIZES),
        partners=partners,
        email=f"contato@{name.split()[0].lower()}{cnpj[:4].lower()}.com.br",
        phone=f"{ddd}{rng.randint(20000000, 39999999)}",
    )


def _cnae_formatted(code: int) -> str:
    digits = f"{code:07d}"
    return f"{digits[:2]}.{digits[2:4]}-{digits[4]}-{digits[5:]}"


def brasilapi_payload(company: FakeCompany) -> dict:
    street_kind, street = company.street
    return {
        "cnpj": company.cnpj,
        "razao_social": company.legal_name,
        "nome_fantasia": company.trade_name,
        "situacao_cadastral": company.status_code,
        "descricao_situacao_cadastral": STATUS_TEXT[company.status_code],
        "data_situacao_cadastral": company.status_date.isoformat(),
        "data_inicio_atividade": company.opened_on.isoformat(),
        "cnae_fiscal": company.cnae[0],
        "cnae_fiscal_descricao": company.cnae[1],
        "cnaes_secundarios": [{"codigo": code, "descricao": text} for code, text in company.side_cnaes],
        "descricao_tipo_de_logradouro": street_kind,
        "logradouro": street,
        "numero": company.number,
        "complemento": "",
        "bairro": company.district,
        "municipio": company.city[0],
        "uf": company.city[1],
        "cep": company.zip_code,
        "codigo_municipio_ibge": int(company.city[2]),
        "capital_social": company.capital,
        "porte": company.size[1],
        "natureza_juridica": "Sociedade Empresária Limitada",
        "opcao_pelo_simples": company.size[0] != "DEMAIS",
        "opcao_pelo_mei": False,
        "qsa": [
            {
                "nome_socio": name,
                "cnpj_cpf_do_socio": "***123456**",
                "qualificacao_socio": role[1],
                "data_entrada_sociedade": since.isoformat(),
                "identificador_de_socio": 2,
                "faixa_etaria": "Entre 41 a 50 anos",
            }
            for name, role, since in company.partners
        ],
        "email": company.email.upper(),
        "ddd_telefone_1": company.phone,
    }


def receitaws_payload(company: FakeCompany) -> dict:
    street_kind, street = company.street
    zip_code = company.zip_code
    return {
        "status": "OK",
        "ultima_atualizacao": "2026-01-15T10:00:00.000Z",
        "cnpj": company.formatted,
        "tipo": "MATRIZ" if company.cnpj[8:12] == "0001" else "FILIAL",
        "porte": company.size[0],
        "nome": company.legal_name,
        "fantasia": company.trade_name,
        "abertura": company.opened_on.strftime("%d/%m/%Y"),
        "atividade_principal": [{"code": _cnae_formatted(company.cnae[0]), "text": company.cnae[1]}],
        "atividades_secundarias": [{"code": _cnae_formatted(code), "text": text} for code, text in company.side_cnaes]
        or [{"code": "00.00-0-00", "text": "Não informada"}],
        "natureza_juridica": "206-2 - Sociedade Empresária Limitada",
        "logradouro": f"{street_kind} {street}",
        "numero": company.number,
        "complemento": "********",
        "cep": f"{zip_code[:2]}.{zip_code[2:5]}-{zip_code[5:]}",
        "bairro": company.district,
        "municipio": company.city[0],
        "uf": company.city[1],
        "email": company.email,
        "telefone": f"({company.phone[:2]}) {company.phone[2:6]}-{company.phone[6:]}",
        "situacao": STATUS_TEXT[company.status_code],
        "data_situacao": company.status_date.strftime("%d/%m/%Y"),
        "motivo_situacao": "",
        "capital_social": f"{company.capital:.2f}",
        "qsa": [{"nome": name, "qual": f"{role[0]}-{role[1]}"} for name, role, _ in company.partners],
    }


def cnpja_payload(company: FakeCompany) -> dict:
    street_kind, street = company.street
    return {
        "taxId": company.cnpj,
        "updated": "2026-01-15T10:00:00.000Z",
        "alias": company.trade_name or None,
        "founded": company.opened_on.isoformat(),
        "head": company.cnpj[8:12] == "0001",
        "statusDate": company.status_date.isoformat(),
        "status": {"id": company.status_code, "text": STATUS_TEXT[company.status_code].title()},
        "company": {
            "id": int(company.cnpj[:8]) if company.cnpj[:8].isdigit() else company.cnpj[:8],
            "name": company.legal_name,
            "equity": company.capital,
            "nature": {"id": 2062, "text": "Sociedade Empresária Limitada"},
            "size": {"id": 1, "acronym": company.size[0], "text": company.size[2]},
            "members": [
                {
                    "since": since.isoformat(),
                    "person": {"name": name, "type": "NATURAL"},
                    "role": {"id": role[0], "text": role[1]},
                }
                for name, role, since in company.partners
            ],
        },
        "address": {
            "municipality": int(company.city[2]),
            "street": f"{street_kind.title()} {street.title()}",
            "number": company.number,
            "details": None,
            "district": company.district.title(),
            "city": company.city[0].title(),
            "state": company.city[1],
            "zip": company.zip_code,
        },
        "phones": [{"area": company.phone[:2], "number": company.phone[2:]}],
        "emails": [{"address": company.email, "domain": company.email.split("@")[1]}],
        "mainActivity": {"id": company.cnae[0], "text": company.cnae[1]},
        "sideActivities": [{"id": code, "text": text} for code, text in company.side_cnaes],
    }


PAYLOADS = {"brasilapi": brasilapi_payload, "receitaws": receitaws_payload, "cnpja": cnpja_payload}
