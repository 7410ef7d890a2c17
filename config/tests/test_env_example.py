""".env.example lists every environment variable the settings, gunicorn and compose read, and
nothing that no one reads. Names are collected from the sources' syntax trees, not their text."""

import ast
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]

# The django-environ reader's methods that take a variable name first (env.str("NAME", ...)).
ENV_METHODS = {
    "str", "int", "bool", "float", "decimal", "list", "tuple", "dict", "json", "url", "path", "bytes",
    "db_url", "db", "cache_url", "cache", "email_url", "email", "search_url", "get_value",
}  # fmt: skip
# Read by other programs than the ones scanned below.
READ_ELSEWHERE = {
    "DJANGO_SETTINGS_MODULE": "Django itself (manage.py, config.wsgi, config.celery set its default)",
}
LISTED = re.compile(r"^\s*#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)
# ${NAME}, ${NAME:-default}, ${NAME:?message} or $NAME; $$ is a literal dollar sign.
COMPOSE_VARIABLE = re.compile(r"(?<!\$)(?:\$\$)*\$\{?([A-Za-z_][A-Za-z0-9_]*)")
MAKE_VARIABLE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def _is_name(node, name):
    return isinstance(node, ast.Name) and node.id == name


def _is_os_environ(node):
    return isinstance(node, ast.Attribute) and node.attr == "environ" and _is_name(node.value, "os")


def _reads(node):
    """The expression naming the variable when `node` reads one from the environment, else None."""
    if isinstance(node, ast.Call):
        func = node.func
        reads = (
            _is_name(func, "env")  # env("NAME")
            or (isinstance(func, ast.Attribute) and _is_name(func.value, "env") and func.attr in ENV_METHODS)
            or (isinstance(func, ast.Attribute) and func.attr == "get" and _is_os_environ(func.value))
            or (isinstance(func, ast.Attribute) and func.attr == "getenv" and _is_name(func.value, "os"))
        )
        if reads:
            return node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "var"), None)
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _is_os_environ(node.value):
        return node.slice  # os.environ["NAME"]
    if isinstance(node, ast.Compare) and any(_is_os_environ(c) for c in node.comparators):
        return node.left  # "NAME" in os.environ
    return None


def python_reads(path: Path) -> tuple[set[str], list[str]]:
    """Variable names `path` reads, and the places where a name is not a string literal."""
    names, unknown = set(), []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        expression = _reads(node)
        if expression is None:
            continue
        if isinstance(expression, ast.Constant) and isinstance(expression.value, str):
            names.add(expression.value)
        else:
            unknown.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return names, unknown


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def compose_reads() -> set[str]:
    """Variables docker-compose.yml interpolates (its values, not its comments)."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return {name for text in _strings(compose) for name in COMPOSE_VARIABLE.findall(text)}


def required_variables() -> tuple[set[str], list[str]]:
    """What .env.example must list: every variable the settings, gunicorn.conf.py and compose read."""
    names, unknown = compose_reads(), []
    for path in [*sorted((ROOT / "config" / "settings").glob("*.py")), ROOT / "gunicorn.conf.py"]:
        found, not_literal = python_reads(path)
        names |= found
        unknown += not_literal
    return names, unknown


def listed_variables() -> list[str]:
    return LISTED.findall((ROOT / ".env.example").read_text())


def test_the_scanner_finds_each_way_of_reading_a_variable(tmp_path, monkeypatch):
    source = tmp_path / "sample.py"
    source.write_text(
        'import os\nA = env.str("A", default="")\nB = env("B")\nC = env.db_url("C")\n'
        'D = env.json("D", default={})\nE = os.environ.get("E", "1")\nF = os.environ["F"]\n'
        'G = os.getenv("G")\nH = f"{env.int(\'H\', default=1)}"\nI = "I" in os.environ\n'
        'os.environ["J"] = "set, not read"\nK = env.str(name)\n'
    )
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    names, unknown = python_reads(source)
    assert names == set("ABCDEFGHI")
    assert unknown == ["sample.py:12"]


def test_every_variable_read_is_in_env_example():
    required, not_literal = required_variables()
    assert not not_literal, f"environment variables read under names the test cannot see: {not_literal}"
    missing = sorted(required - set(listed_variables()))
    assert not missing, f".env.example does not list: {', '.join(missing)}"


def test_every_variable_in_env_example_is_read_somewhere():
    readers, _ = required_variables()
    readers |= python_reads(ROOT / "scripts" / "run_local.py")[0]
    readers |= set(MAKE_VARIABLE.findall((ROOT / "Makefile").read_text()))
    readers |= READ_ELSEWHERE.keys()
    unread = sorted(set(listed_variables()) - readers)
    assert not unread, f".env.example lists variables nothing reads: {', '.join(unread)}"


def test_env_example_lists_each_variable_once():
    listed = listed_variables()
    twice = sorted({name for name in listed if listed.count(name) > 1})
    assert not twice, f".env.example lists more than once: {', '.join(twice)}"
