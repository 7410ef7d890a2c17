"""The lock files (requirements/*.txt, written by `make lock`) agree with the inputs (requirements/*.in).

No network and no database: the files are only read. A failure here means an .in file changed without
`make lock`, or a lock was edited by hand.
"""

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REQUIREMENTS = Path(__file__).resolve().parents[2] / "requirements"
LOCKS = {"production.txt": "production.in", "local.txt": "local.in", "test.txt": "test.in"}
TEST_ONLY = {"pytest", "ruff", "playwright", "schemathesis", "respx", "factory-boy", "secantusdb", "pip-tools"}
# `name==version`, an optional environment marker, then one or more sha256 hashes; nothing else.
LOCKED_LINE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;]+)(?:\s*;.*?)?"
                         r"(?:\s+--hash=sha256:[0-9a-f]{64})+$")
VIA_INPUT = re.compile(r"-r \S+\.in\b")


def read_input(path):
    """The requirements of an .in file, following `-r` lines (relative to the file), in order."""
    found = []
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            found += read_input(path.parent / line.split(None, 1)[1])
            continue
        assert not line.startswith("-"), f"{path.name}:{number}: only requirements and -r lines belong here: {raw}"
        found.append((f"{path.name}:{number}", Requirement(line)))
    return found


def logical_lines(path):
    """A lock's lines with comments dropped and backslash continuations joined, each with the comments
    that follow it (pip-compile's `# via` annotations)."""
    entries, current = [], None
    for raw in path.read_text().splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or not stripped:
            if current is not None and stripped.startswith("#"):
                current["comments"].append(stripped)
            continue
        if current is not None and current["open"]:
            current["text"] += " " + stripped.rstrip("\\").strip()
        else:
            current = {"text": stripped.rstrip("\\").strip(), "comments": []}
            entries.append(current)
        current["open"] = stripped.endswith("\\")
    return entries


def read_lock(path):
    """({normalised name: (version, comments)}, [entries that are not a pinned, hashed requirement])."""
    pins, bad = {}, []
    for entry in logical_lines(path):
        match = LOCKED_LINE.match(entry["text"])
        name = match and canonicalize_name(match["name"])
        if match is None or name in pins:
            bad.append(entry["text"][:100])
        else:
            pins[name] = (match["version"], entry["comments"])
    return pins, bad


@pytest.fixture(scope="module")
def locks():
    return {lock: read_lock(REQUIREMENTS / lock)[0] for lock in LOCKS}


@pytest.mark.parametrize("lock", LOCKS)
def test_every_lock_entry_is_pinned_and_hashed(lock):
    pins, bad = read_lock(REQUIREMENTS / lock)
    assert len(pins) > 1, f"{lock} pins nothing"
    assert not bad, f"{lock}: entries that are not one `name==version --hash=sha256:...` (run `make lock`): {bad}"


@pytest.mark.parametrize("lock", LOCKS)
def test_every_input_pin_is_locked_at_its_version(lock, locks):
    pins = locks[lock]
    stale = []
    for where, requirement in read_input(REQUIREMENTS / LOCKS[lock]):
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        locked = pins.get(canonicalize_name(requirement.name))
        if locked is None:
            stale.append(f"{where} {requirement}: missing from {lock}")
        elif not requirement.specifier.contains(Version(locked[0]), prereleases=True):
            stale.append(f"{where} {requirement}: {lock} has {locked[0]}")
    assert not stale, "stale lock, run `make lock`:\n" + "\n".join(stale)


@pytest.mark.parametrize("lock", LOCKS)
def test_lock_has_no_direct_requirement_the_inputs_dropped(lock, locks):
    """pip-compile marks what an .in file asks for with `# via -r requirements/X.in`."""
    wanted = {canonicalize_name(requirement.name) for _, requirement in read_input(REQUIREMENTS / LOCKS[lock])}
    marked = {name for name, (_, comments) in locks[lock].items() if VIA_INPUT.search(" ".join(comments))}
    assert marked <= wanted, f"{lock} still lists as direct requirements {sorted(marked - wanted)}: run `make lock`"


@pytest.mark.parametrize(("line", "accepted"), [
    ("django==5.2 --hash=sha256:" + "0" * 64, True),
    ('async-timeout==5.0.1 ; python_full_version < "3.11.3" --hash=sha256:' + "0" * 64, True),
    ("django==5.2", False),
    ("django>=5.2 --hash=sha256:" + "0" * 64, False),
    ("django==5.2 --hash=md5:" + "0" * 32, False),
    ("--extra-index-url https://mirror.example/simple", False),
    ("-r base.in", False),
])
def test_lock_line_format(line, accepted):
    assert bool(LOCKED_LINE.match(line)) is accepted


def test_production_lock_has_no_test_tools(locks):
    leaked = sorted(TEST_ONLY & set(locks["production.txt"]))
    assert not leaked, f"test-only tools in production.txt: {leaked}"


def test_shared_packages_have_one_version(locks):
    """make lock constrains local.txt to production.txt and test.txt to local.txt: the suite runs on the
    versions production installs, and test.txt covers local.txt (the Makefile counts one install as both)."""
    for smaller, larger in (("production.txt", "local.txt"), ("local.txt", "test.txt")):
        small, large = locks[smaller], locks[larger]
        differ = {name: (version, large.get(name, (None,))[0])
                  for name, (version, _) in small.items() if large.get(name, (None,))[0] != version}
        assert not differ, f"{smaller} vs {larger} (name: versions), run `make lock`: {differ}"
