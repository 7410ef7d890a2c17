"""No cycles between the apps, counting every import outside tests and migrations (function-level
ones too): `core` imports no app, the apps import `core` and each other one way only, and `config`
(settings, URLs, the Celery app) wires them together."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("access", "books", "companies", "config", "core", "integrations", "ops", "tasks")


def _imports() -> dict[str, set[str]]:
    edges = {package: set() for package in PACKAGES}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if {"tests", "migrations"} & set(path.relative_to(ROOT).parts):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                else:
                    continue
                edges[package] |= {name.split(".")[0] for name in names if name.split(".")[0] in PACKAGES}
            edges[package].discard(package)
    return edges


def _cycle(edges) -> list[str] | None:
    state: dict[str, str] = {}

    def visit(node, path):
        state[node] = "open"
        for target in sorted(edges[node]):
            if state.get(target) == "open":
                return [*path, node, target]
            if target not in state and (found := visit(target, [*path, node])):
                return found
        state[node] = "done"
        return None

    for package in sorted(edges):
        if package not in state and (found := visit(package, [])):
            return found
    return None


def test_no_cycles_between_apps():
    edges = _imports()
    assert _cycle(edges) is None, " -> ".join(_cycle(edges))
    assert edges["core"] == set(), "core imports no app"


def test_the_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
