import datetime
import io
import json
import time
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from companies.models import Company
from companies.tests.factories import CompanyFactory, alphanumeric_cnpj, numeric_cnpj

pytestmark = pytest.mark.django_db


def run(path, **options):
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("import_companies", str(path), stdout=stdout, stderr=stderr, **options)
    return stdout.getvalue(), stderr.getvalue()


def write(tmp_path, text):
    path = tmp_path / "companies.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_imports_valid_rows_reports_invalid_ones_and_skips_repeats(tmp_path):
    stored = CompanyFactory(legal_name="Already Here")
    formatted = alphanumeric_cnpj(1)
    formatted = f"{formatted[:2]}.{formatted[2:5]}.{formatted[5:8]}/{formatted[8:12]}-{formatted[12:]}".lower()
    partners = json.dumps([{"name": "Ana", "role": "Sócia"}]).replace('"', '""')
    path = write(
        tmp_path,
        "\ufeffcnpj,legal_name,state,zip_code,partners\n"
        f"{numeric_cnpj(1)},Primeira Ltda,sp,01310-100,\"{partners}\"\n"  # line 2
        f"{formatted},Segunda Ltda,RJ,,\n"  # line 3
        "11.222.333/0001-82,Bad Digits,SP,,\n"  # line 4
        f"{numeric_cnpj(2)},Bad State,XX,,\n"  # line 5
        f"{stored.cnpj_formatted},Stored,SP,,\n"  # line 6
        f"{numeric_cnpj(1)},Repeated,SP,,\n"  # line 7
        "123,Short,SP,,\n"  # line 8
        f"{numeric_cnpj(3)},Too,Many,Columns,,\n"  # line 9
        f"{numeric_cnpj(4)},Bad JSON,SP,,[\n"  # line 10
        "\n",
    )
    out, err = run(path, batch_size=2)
    assert "9 rows read" in out
    assert "2 inserted, 1 already stored, 1 repeated in the file, 5 invalid" in out
    lines = err.strip().splitlines()
    assert lines[0] == "line 4: cnpj: The CNPJ check digits do not match; check for a typing error."
    assert lines[1].startswith("line 5: state:")
    assert lines[2] == "line 8: cnpj: A CNPJ has 14 characters; this one has 3."
    assert lines[3] == "line 9: expected 5 columns, found 6"
    assert lines[4] == "line 10: partners: not valid JSON"
    first = Company.objects.get(cnpj=numeric_cnpj(1))
    assert (first.legal_name, first.state, first.zip_code) == ("Primeira Ltda", "SP", "01310100")
    assert first.partners == [{"name": "Ana", "role": "Sócia", "since": None}]  # the API's shape
    assert Company.objects.get(cnpj=alphanumeric_cnpj(1)).legal_name == "Segunda Ltda"
    assert Company.objects.get(pk=stored.pk).legal_name == "Already Here"
    version = first.history.get()
    assert (version.history_type, version.history_actor) == ("+", "command:import_companies")


def test_running_twice_inserts_nothing_the_second_time(tmp_path):
    path = write(tmp_path, "cnpj\n" + "".join(f"{numeric_cnpj(n)}\n" for n in range(10)))
    out, _ = run(path, batch_size=3)
    assert "10 inserted" in out
    out, _ = run(path, batch_size=3)
    assert "0 inserted, 10 already stored" in out
    assert Company.objects.count() == 10
    assert Company.history.count() == 10


@pytest.mark.django_db(transaction=True)
def test_parallel_workers_insert_every_row_once_with_history(tmp_path):
    from companies.imports import BatchWriter

    writer = BatchWriter(workers=3, on_done=print, enrich=True)
    writer.close()
    assert len(writer.threads) == 3  # outside a transaction: threads with their own connections
    backends = _backends()
    path = write(tmp_path, "cnpj,legal_name\n" + "".join(f"{numeric_cnpj(n)},Empresa {n}\n" for n in range(25)))
    out, _ = run(path, batch_size=4, workers=3)
    assert "25 inserted, 0 already stored" in out
    assert Company.objects.count() == 25
    assert Company.history.filter(history_type="+", history_actor="command:import_companies").count() == 25
    out, _ = run(path, batch_size=4, workers=3)
    assert "0 inserted, 25 already stored" in out
    assert _backends_settle_at(backends)  # each worker closed its connection when the import ended


def _backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


def _backends_settle_at(expected: int, timeout: float = 5.0) -> bool:
    # A closed connection's server process leaves pg_stat_activity a moment after the client.
    deadline = time.monotonic() + timeout
    while _backends() != expected:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_text_with_copy_special_characters_and_typed_values_round_trip(tmp_path):
    legal_name = 'Tab\there, back\\slash \\N and "quotes"'
    trade_name = "Linha 1\nLinha 2 \u00e7\u00e3o"
    partners = json.dumps([{"name": "Ana\tB", "role": "S\u00f3cia\\"}]).replace('"', '""')
    escaped_legal = legal_name.replace('"', '""')
    path = write(
        tmp_path,
        "cnpj,legal_name,trade_name,opened_on,share_capital,partners,complement\n"
        f'{numeric_cnpj(7)},"{escaped_legal}","{trade_name}",2020-02-29,1234.50,"{partners}",\\N\n',
    )
    out, err = run(path)
    assert "1 inserted" in out, err
    company = Company.objects.get(cnpj=numeric_cnpj(7))
    assert (company.legal_name, company.trade_name, company.complement) == (legal_name, trade_name, "\\N")
    assert (company.opened_on, company.share_capital) == (datetime.date(2020, 2, 29), Decimal("1234.50"))
    assert company.partners == [{"name": "Ana\tB", "role": "S\u00f3cia\\", "since": None}]
    assert company.secondary_activities == [] and company.street == "" and company.status_date is None
    version = company.history.get()
    assert (version.legal_name, version.partners) == (legal_name, company.partners)


def test_a_row_repeating_an_invalid_one_is_still_imported(tmp_path):
    path = write(tmp_path, f"cnpj,state\n{numeric_cnpj(5)},XX\n{numeric_cnpj(5)},SP\n")
    out, _ = run(path)
    assert "1 inserted" in out and "1 invalid" in out and "0 repeated" in out
    assert Company.objects.get().state == "SP"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("legal_name\nAcme\n", "no `cnpj` column"),
        ("cnpj,colour\n", r"Unknown column\(s\): colour"),
        ("cnpj,enrichment_status\n", r"Unknown column\(s\): enrichment_status"),
        ("cnpj,cnpj\n", "appears twice"),
    ],
)
def test_bad_headers_stop_before_importing(tmp_path, text, message):
    with pytest.raises(CommandError, match=message):
        run(write(tmp_path, text))
    assert not Company.objects.exists()


def test_missing_file_and_undecodable_file(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        run(tmp_path / "missing.csv")
    path = tmp_path / "latin1.csv"
    path.write_bytes(f"cnpj,legal_name\n{numeric_cnpj(1)},S\xe3o\n".encode("ascii", "replace").replace(b"?", b"\xe3"))
    with pytest.raises(CommandError, match="not valid text"):
        run(path)
    out, _ = run(path, encoding="latin-1")
    assert "1 inserted" in out


def test_progress_is_only_shown_on_a_terminal(tmp_path):
    path = write(tmp_path, f"cnpj\n{numeric_cnpj(1)}\n")
    out, _ = run(path)
    assert "\r" not in out


def test_null_characters_are_an_invalid_row_not_a_failed_batch(tmp_path):
    path = write(tmp_path, f"cnpj,legal_name\n{numeric_cnpj(1)},Bad\x00Name\n{numeric_cnpj(2)},Good\n")
    out, err = run(path)
    assert "1 inserted" in out and "1 invalid" in out
    assert err.strip() == "line 2: legal_name: Null characters are not allowed."


class TestEnrichment:
    """Imported companies have their registry lookup due in the backlog; the drainers are told."""

    @pytest.fixture(autouse=True)
    def empty_queue(self):
        from tasks.testing import purge_queue

        purge_queue()
        yield
        purge_queue()

    def test_inserted_companies_are_due_and_one_drainer_per_slot_is_sent(self, tmp_path, settings):
        from tasks.testing import queued_messages

        settings.BACKLOG_DRAINERS = 2
        first, second, third = numeric_cnpj(101), numeric_cnpj(102), alphanumeric_cnpj(103)
        path = write(tmp_path, f"cnpj\n{first}\n{second}\n{third}\n")
        out, _ = run(path, batch_size=2, workers=1)
        due = Company.objects.filter(enrichment_due_at__isnull=False, enrichment_status="pending")
        assert sorted(due.values_list("cnpj", flat=True)) == sorted([first, second, third])
        names = [json.loads(message)["headers"]["task"] for message in queued_messages()]
        assert names == ["companies.backlog_drain"] * 2  # two batches, still one message per slot
        assert "Enrichment backlog: 3 lookups waiting" in out

        run(path, batch_size=2, workers=1)  # nothing new inserted, nothing more queued
        assert len(queued_messages()) == 2

    def test_no_enrich_queues_nothing(self, tmp_path):
        from tasks.testing import queued_task_ids

        run(write(tmp_path, f"cnpj\n{numeric_cnpj(104)}\n"), no_enrich=True)
        assert queued_task_ids() == []
        assert Company.objects.get().enrichment_due_at is None

    def test_queue_down_imports_anyway_and_says_so(self, tmp_path):
        from tasks.testing import broker_unreachable

        with broker_unreachable():
            _, errors = run(write(tmp_path, f"cnpj\n{numeric_cnpj(105)}\n{numeric_cnpj(106)}\n"), workers=1)
        assert Company.objects.filter(enrichment_due_at__isnull=False).count() == 2  # nothing lost
        assert "no worker was told of the new lookups" in errors


def test_nested_lists_are_validated_as_the_api_does(tmp_path):
    partners = json.dumps([{"name": "Ana", "cpf": "1"}]).replace('"', '""')
    activities = json.dumps([{"code": "620150"}]).replace('"', '""')
    path = write(
        tmp_path,
        "cnpj,partners,secondary_activities\n"
        f'{numeric_cnpj(801)},"{partners}",[]\n'
        f'{numeric_cnpj(802)},[],"{activities}"\n',
    )
    out, errors = run(path, no_enrich=True)
    assert "line 2: partners: Item 0: unknown key(s) cpf." in errors
    assert "line 3: secondary_activities: Item 0: code must be a CNAE of 7 digits." in errors
    assert "0 inserted" in out and not Company.objects.exists()
