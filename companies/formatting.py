"""How the back office writes a company's values: the CNPJ as 12.345.678/0001-95, the CEP as
01310-100, the share capital as R$ 1.234,56 (the separators of the active language: R$ 1,234.56
in English). The stored and API forms stay compact and plain."""

from __future__ import annotations

from decimal import Decimal

from django.utils import formats

from companies import cnpj as cnpj_value

CEP_LENGTH = 8


def format_cnpj(cnpj: str) -> str:
    """`12345678000195` -> `12.345.678/0001-95`; anything not 14 characters is shown as it is."""
    return cnpj_value.format_cnpj(cnpj) if len(cnpj or "") == cnpj_value.LENGTH else cnpj


def format_cep(zip_code: str) -> str:
    """`01310100` -> `01310-100`; anything else (empty, a legacy value) is shown as it is."""
    if len(zip_code or "") == CEP_LENGTH and zip_code.isdigit():
        return f"{zip_code[:5]}-{zip_code[5:]}"
    return zip_code


def format_brl(amount: Decimal | int | None) -> str:
    """`Decimal("1234.56")` -> `R$ 1.234,56` (pt-BR) or `R$ 1,234.56` (English); None -> ""."""
    if amount is None:
        return ""
    return "R$ " + formats.number_format(Decimal(amount), decimal_pos=2, use_l10n=True, force_grouping=True)
