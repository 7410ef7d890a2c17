"""core.exports (the plain CSV and XLSX writers) and core.exports_fast (PostgreSQL's COPY): the
fast path writes the very bytes the plain path writes."""

import datetime
import decimal

import pytest
from django.db.models import F

from companies.admin import EXPORT_COLUMNS
from companies.models import Company
from companies.tests.factories import CompanyFactory, alphanumeric_cnpj, numeric_cnpj
from core.exports import Column, cell_text, column_rows, csv_chunks
from core.exports_fast import copy_csv_chunks, copy_supported

pytestmark = pytest.mark.django_db

AWKWARD_TEXT = [
    'comma, "quotes" and ;semicolon',
    "two\nlines",
    "carriage\rreturn",
    "=SUM(A1:A9)",
    "+55 11 5555-0000",
    "-minus",
    "@mention",
    "\tleading tab",
    "back\\slash \\N and \\.",
    "São Paulo — ação, 日本",
    " padded ",
    "",
    "'already quoted",
]


def _plain(columns, queryset) -> bytes:
    return b"".join(csv_chunks(columns, column_rows(columns, queryset, chunk_size=3)))


def _fast(columns, queryset) -> bytes:
    assert copy_supported(columns, queryset)
    return b"".join(copy_csv_chunks(columns, queryset))


def test_the_copy_path_writes_the_same_bytes_as_the_plain_path():
    for number, text in enumerate(AWKWARD_TEXT):
        CompanyFactory(
            cnpj=numeric_cnpj(number) if number % 2 else alphanumeric_cnpj(number),
            legal_name=text,
            trade_name=AWKWARD_TEXT[-1 - number],
            city=text[:120],
            share_capital=decimal.Decimal("1234.50") if number % 3 else None,
            opened_on=datetime.date(1999, 12, 31) if number % 2 else None,
            registry_synced_at=datetime.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC)
            if number % 2 else None,
        )
    columns = list(EXPORT_COLUMNS)
    queryset = Company.objects.filter(cnpj__gte="").order_by("-legal_name", "pk")
    plain, fast = _plain(columns, queryset), _fast(columns, queryset)
    assert fast.decode().splitlines() == plain.decode().splitlines()
    assert fast == plain
    text = plain.decode()
    assert text.startswith("\ufeffCNPJ,Legal name,")
    assert "'=SUM(A1:A9)" in text and "'+55 11" in text and "'-minus" in text and "'@mention" in text
    assert "2026-01-02 03:04:05" in text and "1234.50" in text and "1999-12-31" in text
    assert len(text.splitlines()) > len(AWKWARD_TEXT)  # two cells hold line breaks

    # Filtered, searched and empty querysets alike.
    for subset in (queryset.filter(legal_name__icontains="a"), queryset.none(), queryset.filter(state="SP")):
        assert _fast(columns, subset) == _plain(columns, subset)


def test_a_column_the_database_cannot_write_the_same_way_keeps_the_plain_path():
    CompanyFactory()
    queryset = Company.objects.all()
    assert not copy_supported([Column("Partners", "partners")], queryset)  # JSON
    assert not copy_supported([Column("Name", "legal_name", str.upper)], queryset)  # a Python conversion only
    assert copy_supported([Column("Name", "legal_name", str.upper, sql=lambda: F("legal_name"))], queryset)


def test_cell_text():
    assert cell_text(None) == "" and cell_text("") == ""
    assert cell_text("=1+1") == "'=1+1" and cell_text("ok") == "ok"
    assert cell_text(["Ana", "Bia"]) == "Ana; Bia"
    assert cell_text([{"code": "1"}]) == '[{"code": "1"}]'
    assert cell_text(datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=-3)))) \
        == "2026-01-02 06:04:05"
    assert cell_text(datetime.date(2026, 1, 2)) == "2026-01-02"
    assert cell_text(decimal.Decimal("10.50")) == "10.50" and cell_text(True) == "true"


def test_a_download_cut_short_leaves_the_connection_usable():
    CompanyFactory.create_batch(3000)
    chunks = copy_csv_chunks(list(EXPORT_COLUMNS), Company.objects.all())
    next(chunks), next(chunks)  # the header, then the first rows
    chunks.close()  # the browser went away: the COPY is abandoned mid-way
    assert Company.objects.count() == 3000
