"""Demo companies for local development (`make run`): fictional names, valid CNPJs. Idempotent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from companies import cnpj as cnpj_value
from companies.models import Company
from companies.services import company_apply_registry_record, company_create
from integrations.cnpj.types import Activity, Address, RegistrationStatus, RegistryRecord


def _cnpj(base: str) -> str:
    return base + cnpj_value.check_digits(base)


def _company(base, legal_name, trade_name, city, state, cnae, cnae_text, status="ATIVA", **extra):
    return {
        "cnpj": _cnpj(base),
        "legal_name": legal_name,
        "trade_name": trade_name,
        "city": city,
        "state": state,
        "main_activity_code": cnae,
        "main_activity_description": cnae_text,
        "registration_status": status,
        **extra,
    }


SOFTWARE = ("6201501", "Desenvolvimento de programas de computador sob encomenda")
RETAIL = ("4712100", "Comércio varejista de mercadorias em geral, com predominância de produtos alimentícios")
FREIGHT = ("4930202", "Transporte rodoviário de carga, exceto produtos perigosos e mudanças, intermunicipal")
RESTAURANT = ("5611201", "Restaurantes e similares")
CONSULTING = ("7020400", "Atividades de consultoria em gestão empresarial")

DEMO_COMPANIES = [
    _company("112223330001", "Araucária Sistemas Ltda", "Araucária Tech", "Curitiba", "PR", *SOFTWARE,
             opened_on=date(2012, 3, 14), size="ME", share_capital=Decimal("150000.00"),
             street="Rua XV de Novembro", street_number="1200", district="Centro", zip_code="80020310"),
    _company("112223330002", "Araucária Sistemas Ltda", "Araucária Tech Joinville", "Joinville", "SC",
             *SOFTWARE, opened_on=date(2018, 8, 1)),
    _company("45ABC1230001", "Ipê Amarelo Comércio de Alimentos S.A.", "Mercado Ipê", "São Paulo", "SP",
             *RETAIL, opened_on=date(2026, 7, 6), size="DEMAIS", share_capital=Decimal("2500000.00")),
    _company("45ABC1230002", "Ipê Amarelo Comércio de Alimentos S.A.", "Mercado Ipê Campinas", "Campinas",
             "SP", *RETAIL),
    _company("078912340001", "Transportes Rio Doce Ltda", "Rio Doce Cargas", "Belo Horizonte", "MG", *FREIGHT,
             opened_on=date(1998, 11, 23), size="EPP", email="contato@riodoce.example"),
    _company("231098760001", "Sabor da Bahia Restaurante Ltda", "Sabor da Bahia", "Salvador", "BA",
             *RESTAURANT, status="SUSPENSA", status_date=date(2024, 5, 2)),
    _company("5Z9K8J7H0001", "Mandacaru Consultoria Empresarial Ltda", "Mandacaru", "Recife", "PE",
             *CONSULTING, opened_on=date(2026, 9, 15), size="ME"),
    _company("334455660001", "Pampa Gaúcho Logística Ltda", "Pampa Log", "Porto Alegre", "RS", *FREIGHT,
             status="BAIXADA", status_date=date(2021, 12, 31)),
    _company("998877660001", "Cerrado Digital Serviços de Informática Ltda", "Cerrado Digital", "Brasília",
             "DF", *SOFTWARE, size="EPP", phone="(61) 3333-0000"),
    _company("102030400001", "Maré Alta Pescados Ltda", "Maré Alta", "Florianópolis", "SC", *RETAIL,
             status="INAPTA", status_date=date(2023, 3, 10)),
    _company("AB12CD340001", "Jequitibá Gestão e Participações S.A.", "Jequitibá", "Rio de Janeiro", "RJ",
             *CONSULTING, opened_on=date(2026, 10, 1), size="DEMAIS",
             partners=[{"name": "Marina Souza", "role": "Diretora", "since": "2026-10-01"}]),
    _company("556677880001", "Carnaúba Têxtil Ltda", "Carnaúba", "Fortaleza", "CE", *RETAIL, status="NULA"),
]

# Two records as if the registry enrichment had already run, to show those fields in the admin.
ENRICHED = {
    _cnpj("112223330001"): {"source": "brasilapi", "raw": {"razao_social": "ARAUCARIA SISTEMAS LTDA"}},
    _cnpj("078912340001"): {"source": "receitaws", "raw": {"nome": "TRANSPORTES RIO DOCE LTDA"}},
}


def _as_registry_record(company: Company) -> RegistryRecord:
    """The demo company as a provider would describe it (the same values)."""
    return RegistryRecord(
        cnpj=company.cnpj,
        legal_name=company.legal_name,
        trade_name=company.trade_name,
        registration_status=RegistrationStatus(company.registration_status),
        status_date=company.status_date,
        opened_on=company.opened_on,
        size=company.size,
        share_capital=company.share_capital,
        main_activity=Activity(company.main_activity_code, company.main_activity_description),
        address=Address(city=company.city, state=company.state),
        phone=company.phone,
        **ENRICHED[company.cnpj],
    )


def load_demo_data() -> int:
    """Create the demo companies that are not stored yet; returns how many were created."""
    numbers = [row["cnpj"] for row in DEMO_COMPANIES]
    stored = set(Company.objects.filter(cnpj__in=numbers).values_list("cnpj", flat=True))
    created = 0
    for row in DEMO_COMPANIES:
        if row["cnpj"] in stored:
            continue
        company = company_create(enrich=False, **row)
        if company.cnpj in ENRICHED:
            company_apply_registry_record(company=company, record=_as_registry_record(company))
        created += 1
    return created
