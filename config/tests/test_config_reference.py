"""The configuration reference (docs/operators/configuration.md) is generated from .env.example by
scripts/config_reference.py and committed: it must be current and name every variable the settings read."""

import re

import pytest

from config.tests.test_env_example import listed_variables, required_variables
from scripts import config_reference

PAGE = config_reference.OUTPUT
NAMED = re.compile(r"`([A-Z][A-Z0-9_]*)`")


def page_variables() -> set[str]:
    """The variables the page's tables list (the first cell of each row)."""
    names = set()
    for line in PAGE.read_text().splitlines():
        if line.startswith("| `"):
            names |= set(NAMED.findall(line.split(" | ")[0]))
    return names


def test_the_committed_page_is_current():
    assert PAGE.read_text() == config_reference.generate(), (
        f"{PAGE.relative_to(config_reference.ROOT)} is stale: run `make docs` (or `make dist`) and commit it"
    )


def test_every_variable_the_settings_read_is_on_the_page():
    required, _ = required_variables()
    missing = sorted(required - page_variables())
    assert not missing, f"the configuration reference does not list: {', '.join(missing)}"


def test_the_page_lists_exactly_what_env_example_lists():
    assert page_variables() == set(listed_variables())


def test_every_variable_has_a_meaning():
    reference = config_reference.parse(config_reference.SOURCE.read_text())
    unexplained = [
        variable.name for group in reference.groups for entry in group.entries if not entry.meaning
        for variable in entry.variables
    ]
    assert not unexplained, f".env.example: give these a comment line above them: {', '.join(unexplained)}"


def test_the_parser_reads_groups_blocks_and_values():
    reference = config_reference.parse(
        "# Preamble.\n\n"
        "# --- Cache: REDIS_URL wins ---------\n"
        "# lifetime and prefix\n"
        "CACHE_TTL=300\n"
        "CACHE_KEY_PREFIX=app\n"
        "# the URL\n"
        "# REDIS_URL=\n"
        "# a <b> | c\n"
        "EMPTY=\n"
    )
    assert reference.preamble == "Preamble."
    [group] = reference.groups
    assert (group.title, group.note) == ("Cache", "REDIS_URL wins")
    assert [(entry.meaning, [v.name for v in entry.variables]) for entry in group.entries] == [
        ("lifetime and prefix", ["CACHE_TTL", "CACHE_KEY_PREFIX"]),
        ("the URL", ["REDIS_URL"]),
        ("a <b> | c", ["EMPTY"]),
    ]
    page = config_reference.render(reference)
    assert "| `CACHE_TTL`, `CACHE_KEY_PREFIX` | `300`, `app` | lifetime and prefix |" in page
    assert "| `REDIS_URL` | unset | the URL |" in page
    assert r"| `EMPTY` | empty | a &lt;b&gt; \| c |" in page
    assert "`REDIS_URL` wins." in page


def test_a_variable_before_any_group_is_refused():
    with pytest.raises(ValueError, match="before the first group"):
        config_reference.parse("NAME=1\n")
