"""The back office's display of a company's values: CNPJ, CEP and share capital (companies.formatting)."""

from decimal import Decimal

import pytest
from django.utils import translation

from companies.formatting import format_brl, format_cep, format_cnpj


def test_a_cnpj_is_shown_with_its_separators_and_anything_else_as_it_is():
    assert format_cnpj("11222333000181") == "11.222.333/0001-81"
    assert format_cnpj("12ABC34501DE35") == "12.ABC.345/01DE-35"  # the alphanumeric CNPJ
    assert format_cnpj("123") == "123"
    assert format_cnpj("") == ""


@pytest.mark.parametrize(
    ("stored", "shown"), [("01310100", "01310-100"), ("", ""), ("0131010", "0131010"), ("ABCDEFGH", "ABCDEFGH")]
)
def test_a_cep_is_shown_as_five_digits_a_dash_and_three(stored, shown):
    assert format_cep(stored) == shown


@pytest.mark.parametrize(
    ("amount", "portuguese", "english"),
    [
        (Decimal("1234.56"), "R$ 1.234,56", "R$ 1,234.56"),
        (Decimal("0"), "R$ 0,00", "R$ 0.00"),
        (Decimal("1000000"), "R$ 1.000.000,00", "R$ 1,000,000.00"),
        (Decimal("999.5"), "R$ 999,50", "R$ 999.50"),
        (Decimal("12345678901234567.89"), "R$ 12.345.678.901.234.567,89", "R$ 12,345,678,901,234,567.89"),
        (50000, "R$ 50.000,00", "R$ 50,000.00"),
    ],
)
def test_share_capital_is_shown_in_reais_with_the_languages_separators(amount, portuguese, english):
    with translation.override("pt-br"):
        assert format_brl(amount) == portuguese
    with translation.override("en"):
        assert format_brl(amount) == english


def test_no_share_capital_is_shown_as_nothing():
    assert format_brl(None) == ""
