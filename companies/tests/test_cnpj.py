import random

import pytest
from stdnum.br import cnpj as stdnum_cnpj

from companies import cnpj as cnpj_value
from companies.converters import CNPJConverter
from companies.tests.factories import ALPHABET, cnpj_for


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("12.345.678/0001-95", "12345678000195"),
        ("12345678000195", "12345678000195"),
        ("12.ABC.345/01DE-35", "12ABC34501DE35"),
        ("12.abc.345/01de-35", "12ABC34501DE35"),
        ("12abc34501de35", "12ABC34501DE35"),
        (" 19.131.243/0001-97 ", "19131243000197"),
        ("00.000.000/0001-91", "00000000000191"),
    ],
)
def test_normalize_accepts_raw_formatted_and_any_case(raw, stored):
    assert cnpj_value.normalize(raw) == stored


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("12.345.678/0001-96", "check_digits"),
        ("12ABC34501DE36", "check_digits"),
        ("12.345.678/0001", "length"),
        ("123456780001950", "length"),
        ("12.345.678/0001=95", "format"),
        ("12ABC34501DEAB", "format"),
        ("00000000000000", "format"),
        ("", "format"),
        (12345678000195, "format"),
    ],
)
def test_normalize_says_what_is_wrong(raw, reason):
    with pytest.raises(cnpj_value.InvalidCNPJ) as caught:
        cnpj_value.normalize(raw)
    assert caught.value.reason == reason
    assert caught.value.code == f"invalid_{reason}"
    assert str(caught.value)


def test_check_digits_match_the_reference_examples():
    assert cnpj_value.check_digits("12ABC34501DE") == "35"
    assert cnpj_value.check_digits("191312430001") == "97"
    assert cnpj_value.check_digits("000000000001") == "91"


def test_fast_path_agrees_with_stdnum_on_random_input():
    rng = random.Random(7)
    for _ in range(3000):
        base = "".join(rng.choice(ALPHABET) for _ in range(12))
        digits = f"{rng.randrange(100):02d}" if rng.random() < 0.5 else stdnum_cnpj.calc_check_digits(base)
        number = base + digits
        candidate = number.lower() if rng.random() < 0.3 else stdnum_cnpj.format(number)
        assert cnpj_value.is_valid(candidate) == stdnum_cnpj.is_valid(candidate), candidate


def test_format_root_and_head_office():
    number = cnpj_for("12ABC3450001")
    assert cnpj_value.format_cnpj(number) == f"12.ABC.345/0001-{number[-2:]}"
    assert cnpj_value.root(number) == "12ABC345"
    assert cnpj_value.is_head_office(number)
    assert not cnpj_value.is_head_office(cnpj_for("12ABC3450002"))


def test_converter_upper_cases_and_refuses_invalid():
    converter = CNPJConverter()
    assert converter.to_python("12abc34501de35") == "12ABC34501DE35"
    with pytest.raises(ValueError):
        converter.to_python("12ABC34501DE36")
    assert converter.to_url("12.ABC.345/01DE-35") == "12ABC34501DE35"
