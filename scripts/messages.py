"""`make messages`: the back office's Portuguese catalogue. Collects every translatable string of the
project's code and templates into locale/pt_BR/LC_MESSAGES/django.po (a new string gets an empty
entry for the translator; a string no longer used is dropped), then compiles django.mo, which is
committed, so a machine without GNU gettext still shows Portuguese. Needs GNU gettext (xgettext,
msgmerge, msgfmt). config/tests/test_translations.py runs `extract` on a copy of the sources to check
the committed catalogue is current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCALE = "pt_BR"
# Where the back office's strings live; everything else (tests, scripts, bench, docs) is not shown to staff.
SOURCE_DIRS = ("access", "books", "companies", "config", "core", "integrations", "ops", "tasks", "templates")
IGNORED = ("*/tests/*", "*/migrations/*")


def catalogue(root: Path = ROOT) -> Path:
    return root / "locale" / LOCALE / "LC_MESSAGES" / "django.po"


def extract(root: Path = ROOT) -> None:
    """Update `root`'s catalogue from the sources under `root` (Django's makemessages)."""
    ignored = [name for path in root.iterdir() if (name := path.name) not in (*SOURCE_DIRS, "locale")]
    options = [f"--ignore={pattern}" for pattern in (*ignored, *IGNORED)]
    command = [sys.executable, "manage.py", "makemessages", f"--locale={LOCALE}", "--no-obsolete"]
    command.append("--add-location=file")  # no line numbers: the catalogue changes only when its strings do
    subprocess.run([*command, *options], cwd=root, check=True, stdout=subprocess.DEVNULL)


def compile_catalogue(root: Path = ROOT) -> None:
    po = catalogue(root)
    subprocess.run(["msgfmt", "--check-format", "--output-file", str(po.with_suffix(".mo")), str(po)], check=True)


if __name__ == "__main__":
    extract()
    compile_catalogue()
    print(f"updated {catalogue().relative_to(ROOT)} and its .mo")
