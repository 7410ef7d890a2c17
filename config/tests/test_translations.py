"""The back office's Portuguese catalogue (locale/pt_BR): every entry translated and none fuzzy, the
placeholders kept, the committed .mo compiled from the .po as it is, and the .po current with the
sources (`make messages` collects every translatable string of the project)."""

import re
import shutil

import polib
import pytest

from scripts import messages

PO = messages.catalogue()
PLACEHOLDER = re.compile(r"%(?:\([a-z_]+\))?[sd]|\{[a-z_]*\}")


def _po():
    return polib.pofile(str(PO))


def _key(entry) -> tuple:
    return entry.msgctxt, entry.msgid, entry.msgid_plural


def _translations(catalogue) -> dict:
    """msgid (with its plural and context) -> msgstr or the plural forms, for every translated entry."""
    found = {}
    for entry in catalogue:
        if entry.obsolete or not entry.msgid:
            continue
        key = (entry.msgctxt, entry.msgid, entry.msgid_plural or None)
        found[key] = tuple(entry.msgstr_plural[form] for form in sorted(entry.msgstr_plural)) or entry.msgstr
    return found


def test_every_entry_is_translated_and_none_is_fuzzy():
    catalogue = _po()
    assert len(catalogue) > 100
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert not untranslated, f"untranslated in {PO.name}: {untranslated}"
    assert not fuzzy, f"fuzzy (check, then remove the flag): {fuzzy}"
    assert not catalogue.metadata_is_fuzzy


def test_translations_keep_their_placeholders():
    for entry in _po():
        translations = list(entry.msgstr_plural.values()) or [entry.msgstr]
        wanted = sorted(set(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid)))
        for translation in translations:
            assert sorted(set(PLACEHOLDER.findall(translation))) == wanted, entry.msgid


def test_the_committed_mo_is_the_po_compiled():
    mo = PO.with_suffix(".mo")
    assert mo.exists(), "compile it: make messages"
    assert _translations(polib.mofile(str(mo))) == _translations(_po()), "the .mo is stale: run `make messages`"


def test_the_po_holds_every_string_of_the_sources(tmp_path):
    if not shutil.which("xgettext"):
        pytest.fail("GNU gettext is needed (scripts/ensure_servers.sh installs it): apt-get install gettext")
    root = messages.ROOT
    for name in messages.SOURCE_DIRS:
        shutil.copytree(root / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    shutil.copytree(root / "locale", tmp_path / "locale")
    shutil.copy(root / "manage.py", tmp_path / "manage.py")
    messages.extract(tmp_path)

    fresh = {_key(entry) for entry in polib.pofile(str(messages.catalogue(tmp_path)))}
    committed = {_key(entry) for entry in _po() if not entry.obsolete}
    assert not fresh - committed, f"new strings, run `make messages` and translate them: {sorted(fresh - committed)}"
    assert not committed - fresh, f"strings no longer used, run `make messages`: {sorted(committed - fresh)}"
