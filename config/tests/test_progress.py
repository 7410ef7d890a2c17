"""Commands that report: a progress bar on a terminal, log lines at least every 10% or 10 seconds
without one (run as operators run them: subprocesses, with and without a pseudo-terminal), and
`--dry-run` writing nothing."""

import fcntl
import io
import json
import logging
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from django.core.management import call_command

from books.models import Book
from companies.models import Company
from companies.tests.factories import numeric_cnpj
from core.progress import Progress
from tasks.testing import test_database_url as database_url_for_processes

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_without_a_terminal_a_line_every_tenth_and_every_ten_seconds(caplog):
    clock = Clock()
    with (
        caplog.at_level(logging.INFO, logger="progress"),
        Progress("import", total=1000, terminal=False, clock=clock) as progress,
    ):
        for done in range(50, 1001, 50):  # 5% steps, one second apart
            clock.now += 1
            progress.update(done)
    lines = [record for record in caplog.records if record.name == "progress"]
    assert [record.done for record in lines] == list(range(100, 1001, 100))
    last = lines[-1]
    assert last.getMessage().startswith("import: 1,000/1,000 rows (100%), 50 rows/s, ETA 0s")
    assert (last.percent, last.rate_per_second, last.eta_seconds) == (100.0, 50.0, 0.0)

    caplog.clear()
    with (
        caplog.at_level(logging.INFO, logger="progress"),
        Progress("slow job", total=10_000, terminal=False, clock=clock) as slow,
    ):
        for done in range(1, 42):  # far under 10% each, 2 s apart: a line every 10 s, and the last
            clock.now += 2
            slow.update(done)
    lines = [record for record in caplog.records if record.name == "progress"]
    assert [record.done for record in lines] == [5, 10, 15, 20, 25, 30, 35, 40, 41]


def _csv(tmp_path, count, start=0):
    path = tmp_path / "companies.csv"
    rows = "".join(f"{numeric_cnpj(5000 + start + n)},Empresa {n} Ltda\n" for n in range(count))
    path.write_text("cnpj,legal_name\n" + rows)
    return path


def _command_env():
    return {
        **os.environ,
        "ENVIRONMENT": "TEST",
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url_for_processes(),
        "LOG_FORMAT": "json",
    }


@pytest.mark.django_db(transaction=True)
def test_an_import_without_a_terminal_logs_its_progress(tmp_path):
    path = _csv(tmp_path, 3000)
    result = subprocess.run(
        [sys.executable, "manage.py", "import_companies", str(path), "--batch-size", "100", "--no-enrich"],
        cwd=ROOT, env=_command_env(), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in (result.stdout + result.stderr).splitlines() if line.startswith("{")]
    progress = [line for line in lines if line["logger"] == "progress"]
    assert len(progress) >= 10  # every 10% at least
    assert progress[-1]["done"] == 3000 and progress[-1]["total"] == 3000 and progress[-1]["percent"] == 100.0
    assert "rows/s" in progress[-1]["message"] and "ETA" in progress[-1]["message"]
    assert "3000 inserted" in result.stdout
    assert Company.objects.count() == 3000


@pytest.mark.django_db(transaction=True)
def test_an_import_on_a_terminal_shows_a_bar_with_rate_and_eta(tmp_path):
    path = _csv(tmp_path, 500)
    main, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # a terminal has a size
    process = subprocess.Popen(
        [sys.executable, "manage.py", "import_companies", str(path), "--batch-size", "50", "--no-enrich"],
        cwd=ROOT, env={**_command_env(), "LOG_FORMAT": "plain"}, stdin=secondary, stdout=secondary,
        stderr=secondary, close_fds=True,
    )
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the other side closed
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=60)
    os.close(main)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text
    assert "import_companies: 100%" in text and "500/500" in text and "rows/s" in text
    assert "500 inserted" in text


@pytest.mark.django_db(databases=["default", "mongo"])
def test_dry_runs_report_and_write_nothing(tmp_path, capsys):
    Company.objects.create(cnpj=numeric_cnpj(5000), legal_name="Já Existe Ltda")
    companies_csv = _csv(tmp_path, 5)
    call_command("import_companies", str(companies_csv), "--dry-run")
    out = capsys.readouterr().out
    assert "Dry run, nothing written" in out and "4 would be inserted, 1 already stored" in out
    assert Company.objects.count() == 1

    books = tmp_path / "books.jsonl"
    books.write_text(
        json.dumps({"title": "Capitães da Areia", "authors": ["Jorge Amado"], "isbn": "9788535914061"}) + "\n"
        + json.dumps({"title": "Sem ISBN", "authors": ["Ninguém"], "isbn": "123"}) + "\n"
    )
    call_command("import_books", str(books), "--dry-run")
    captured = capsys.readouterr()
    assert "Dry run, nothing written" in captured.out and "1 would be created" in captured.out
    assert "line 2:" in captured.err
    assert Book.objects.count() == 0

    Company.objects.filter(cnpj=numeric_cnpj(5000)).update(enrichment_status="failed")
    call_command("refresh_companies", "--dry-run")
    out = capsys.readouterr().out
    assert "Dry run, nothing changed" in out and "1 unfinished" in out
    call_command("refresh_companies", "--dry-run", "--sync", "--cnpj", numeric_cnpj(5000))
    out = capsys.readouterr().out
    assert "1 selected companies would be looked up now (1 not queued yet" in out
    assert Company.objects.get(cnpj=numeric_cnpj(5000)).enrichment_due_at is None


@pytest.mark.django_db(databases=["default", "mongo"])
def test_a_book_import_without_a_terminal_logs_its_progress(tmp_path, caplog):
    from stdnum import ean

    lines = []
    for number in range(1200):
        base = f"978000{number:06d}"
        isbn = base + ean.calc_check_digit(base)
        lines.append(json.dumps({"title": f"Livro {number}", "authors": ["Autora"], "isbn": isbn}))
    path = tmp_path / "books.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with caplog.at_level(logging.INFO, logger="progress"):
        call_command("import_books", str(path), "--batch-size", "100", stdout=io.StringIO(), stderr=io.StringIO())
    progress = [record for record in caplog.records if record.name == "progress"]
    assert len(progress) >= 10 and progress[-1].done == 1200 and progress[-1].total == 1200
    assert "import_books: 1,200/1,200 rows (100%)" in progress[-1].getMessage()
    assert Book.objects.count() == 1200


@pytest.mark.django_db
def test_import_options_that_cannot_work_are_refused_clearly(tmp_path):
    from django.core.management.base import CommandError

    path = _csv(tmp_path, 1)
    with pytest.raises(CommandError, match="--encoding klingon"):
        call_command("import_companies", str(path), "--encoding", "klingon")
    with pytest.raises(CommandError, match="--delimiter must be one character"):
        call_command("import_companies", str(path), "--delimiter", ";;")
