"""factory-boy factories for companies (they save directly; services are what the tests test)."""

import factory

from companies import cnpj as cnpj_value
from companies.models import Company, RegistrationStatus

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def cnpj_for(base: str) -> str:
    """A valid CNPJ from a 12-character base (digits or upper-case letters)."""
    return base + cnpj_value.check_digits(base)


def numeric_cnpj(n: int, branch: str = "0001") -> str:
    return cnpj_for(f"{n + 1:08d}{branch}")


def alphanumeric_cnpj(n: int, branch: str = "0001") -> str:
    root = "".join(ALPHABET[(n // 36**i) % 36] for i in range(5))
    return cnpj_for(f"AB{root}C{branch}")


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    cnpj = factory.Sequence(numeric_cnpj)
    legal_name = factory.Sequence(lambda n: f"Empresa Exemplo {n} Ltda")
    trade_name = factory.Sequence(lambda n: f"Exemplo {n}")
    registration_status = RegistrationStatus.ATIVA
    city = "São Paulo"
    state = "SP"
    main_activity_code = "6201501"
    main_activity_description = "Desenvolvimento de programas de computador sob encomenda"

    class Params:
        alphanumeric = factory.Trait(cnpj=factory.Sequence(alphanumeric_cnpj))
