from datetime import date
from decimal import Decimal

import pytest

from integrations.cnpj import base
from integrations.cnpj.types import RegistrationStatus, cnae_code


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2005-11-03", date(2005, 11, 3)),
        ("03/11/2005", date(2005, 11, 3)),
        ("2024-05-01T10:00:00.000Z", date(2024, 5, 1)),
        ("", None),
        (None, None),
        ("31/02/2005", None),
        ("não informado", None),
    ],
)
def test_parse_date(value, expected):
    assert base.parse_date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10000.00", Decimal("10000.00")),
        (10000, Decimal("10000.00")),
        (150000.5, Decimal("150000.50")),
        ("10.000,00", Decimal("10000.00")),
        ("R$ 1.234.567,89", Decimal("1234567.89")),
        ("1.000.000", Decimal("1000000.00")),
        ("", None),
        (None, None),
        ("n/a", None),
        (True, None),
    ],
)
def test_parse_money(value, expected):
    assert base.parse_money(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2, RegistrationStatus.ATIVA),
        ("8", RegistrationStatus.BAIXADA),
        (1, RegistrationStatus.NULA),
        ("ATIVA", RegistrationStatus.ATIVA),
        ("Suspensa", RegistrationStatus.SUSPENSA),
        ("inapta", RegistrationStatus.INAPTA),
        ({"id": 3, "text": "Suspensa"}, RegistrationStatus.SUSPENSA),
        ({"text": "Baixada"}, RegistrationStatus.BAIXADA),
        (99, RegistrationStatus.UNKNOWN),
        (None, RegistrationStatus.UNKNOWN),
        ("whatever", RegistrationStatus.UNKNOWN),
    ],
)
def test_parse_status(value, expected):
    assert base.parse_status(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (6201501, "6201501"),
        ("62.01-5-01", "6201501"),
        (111301, "0111301"),
        ("00.00-0-00", ""),
        (None, ""),
        ("620150", "620150"),  # six digits as text: left for validation to refuse, not guessed
        (True, ""),
    ],
)
def test_cnae_code(value, expected):
    assert cnae_code(value) == expected


def test_text_helpers():
    assert base.text("  RUA   DAS  FLORES ") == "RUA DAS FLORES"
    assert base.text(None) == ""
    assert base.nested_text({"a": {"b": " x "}}, "a", "b") == "x"
    assert base.nested_text({"a": None}, "a", "b") == ""
    assert base.state("sp") == "SP"
    assert base.state("São Paulo") == ""
    assert base.compact_cnpj("11.222.333/0001-81", fallback="x") == "11222333000181"
    assert base.compact_cnpj("12.abc.345/01de-35", fallback="x") == "12ABC34501DE35"
    assert base.compact_cnpj(None, fallback="fallback") == "fallback"
