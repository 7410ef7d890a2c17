"""Settings come from the environment; PRODUCTION refuses development secrets."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "api.example.com",
    # Nothing connects during `check`: the values only have to say where the services are.
    "DATABASE_URL": "postgres://app:pw@db.example:5432/app",
    "REDIS_URL": "redis://cache.example:6379/0",
}


def run(code_or_args, **env):
    """Run Python in a clean environment (only PATH/HOME plus `env`), from the project root."""
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **env}
    args = code_or_args if isinstance(code_or_args, list) else ["-c", code_or_args]
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


def settings_of(*names, **env):
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {list(names)!r}}}, default=str))"
    )
    result = run(code, DJANGO_SETTINGS_MODULE="config.settings", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_embedded_defaults_when_nothing_is_set():
    values = settings_of("ENVIRONMENT", "DATABASES", "CACHES", "CELERY_TASK_ALWAYS_EAGER", "DEBUG")
    assert values["ENVIRONMENT"] == "LOCAL" and values["DEBUG"] is True
    assert values["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert values["DATABASES"]["mongo"]["ENGINE"] == "django_mongodb_backend"
    assert "locmem" in values["CACHES"]["default"]["BACKEND"].lower()
    assert values["CELERY_TASK_ALWAYS_EAGER"] is True


def test_environment_is_case_insensitive():
    assert settings_of("ENVIRONMENT", ENVIRONMENT="test")["ENVIRONMENT"] == "TEST"


def test_seed_variable_names_build_postgres_and_redis():
    values = settings_of(
        "DATABASES", "CACHES", "CELERY_BROKER_URL",
        ENVIRONMENT="TEST", POSTGRESQL_USER="svc", POSTGRESQL_PASSWORD="pw", POSTGRESQL_HOST="db.internal",
        POSTGRESQL_PORT="6543", POSTGRESQL_DATABASE="companies", REDIS_HOST="cache.internal", REDIS_PORT="6380",
        REDIS_DB="2", REDIS_PASSWORD="redispw",
    )
    default = values["DATABASES"]["default"]
    assert (default["ENGINE"], default["NAME"], default["USER"], default["HOST"], str(default["PORT"])) == (
        "django.db.backends.postgresql", "companies", "svc", "db.internal", "6543"
    )
    assert default["CONN_MAX_AGE"] > 0 and default["CONN_HEALTH_CHECKS"] is True
    assert values["CACHES"]["default"]["LOCATION"] == "redis://:redispw@cache.internal:6380/2"
    assert values["CELERY_BROKER_URL"] == "redis://:redispw@cache.internal:6380/2"


def test_url_forms_win_over_seed_names():
    values = settings_of(
        "DATABASES", "CACHES", "CELERY_BROKER_URL",
        ENVIRONMENT="TEST", POSTGRESQL_HOST="ignored", REDIS_HOST="ignored",
        DATABASE_URL="postgres://u:p@pg.example:5432/main", REDIS_URL="redis://r.example:6379/1",
        CELERY_BROKER_URL="redis://broker.example:6379/3", MONGODB_URI="mongodb://m.example:27017/",
    )
    assert values["DATABASES"]["default"]["HOST"] == "pg.example"
    assert values["DATABASES"]["mongo"]["HOST"] == "mongodb://m.example:27017/"
    assert values["CACHES"]["default"]["LOCATION"] == "redis://r.example:6379/1"
    assert values["CELERY_BROKER_URL"] == "redis://broker.example:6379/3"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, ["ops.E001", "SECRET_KEY is missing", "ops.E002", "ops.E004"]),
        ({**STRONG, "SECRET_KEY": "django-insecure-" + "x" * 60}, ["ops.E001", "development default"]),
        ({**STRONG, "JWT_SIGNING_KEY": "short"}, ["ops.E002", "too short"]),
        ({**STRONG, "DEBUG": "true"}, ["ops.E003"]),
        ({**STRONG, "ALLOWED_HOSTS": ""}, ["ops.E004"]),
        ({**STRONG, "DATABASE_URL": ""}, ["ops.E006", "DATABASE_URL"]),
        ({**STRONG, "REDIS_URL": ""}, ["ops.E007", "REDIS_URL", "ops.E008", "CELERY_BROKER_URL"]),
        ({**STRONG, "CELERY_TASK_ALWAYS_EAGER": "true"}, ["ops.E008"]),
    ],
)
def test_production_refuses_to_start_with_unsafe_settings(env, expected):
    result = run(["manage.py", "check"], ENVIRONMENT="PRODUCTION", **env)
    assert result.returncode != 0
    for text in expected:
        assert text in result.stderr
    assert "HINT: Set" in result.stderr  # a one-line fix


def test_production_wsgi_refuses_to_load_with_default_secrets():
    result = run("import config.wsgi", ENVIRONMENT="PRODUCTION", ALLOWED_HOSTS="api.example.com")
    assert result.returncode != 0
    assert "Refusing to start" in result.stderr and "ops.E001" in result.stderr


def test_check_deploy_is_clean_with_real_values():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], ENVIRONMENT="PRODUCTION", **STRONG)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_prepared_statements_are_on_for_postgresql_unless_turned_off():
    url = {"DATABASE_URL": "postgres://app@127.0.0.1:5432/app"}
    assert settings_of("DATABASES", **url)["DATABASES"]["default"]["OPTIONS"]["prepare_threshold"] == 5
    off = settings_of("DATABASES", DATABASE_PREPARED_STATEMENTS="false", **url)
    assert off["DATABASES"]["default"]["OPTIONS"]["prepare_threshold"] is None


@pytest.mark.parametrize(
    ("uri", "name", "expected"),
    [
        ("mongodb://db.example:27017/mydb", "other", "mydb"),
        ("mongodb://user:p%40ss@a.example,b.example/shop?replicaSet=rs0&authSource=admin", "other", "shop"),
        ("mongodb+srv://cluster.example/inventory?retryWrites=true", "", "inventory"),
        ("mongodb://db.example:27017/", "other", "other"),
        ("mongodb://db.example:27017/?replicaSet=rs0", "other", "other"),
        ("mongodb://db.example:27017", "", "catalogue"),
    ],
)
def test_the_database_named_in_the_mongodb_uri_is_used(uri, name, expected):
    env = {"MONGODB_URI": uri, **({"MONGODB_NAME": name} if name else {})}
    values = settings_of("MONGODB_NAME", "DATABASES", **env)
    assert values["MONGODB_NAME"] == expected
    assert values["DATABASES"]["mongo"]["NAME"] == expected


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REDIS_DOWN_SECONDS": "abc"}, "REDIS_DOWN_SECONDS='abc' is not a number"),
        ({"REDIS_DOWN_SECONDS": "1,000"}, "REDIS_DOWN_SECONDS='1,000' is not a number"),
        ({"REGISTRY_DEADLINE_SECONDS": "2O"}, "REGISTRY_DEADLINE_SECONDS='2O' is not a number"),
        ({"CONN_MAX_AGE": "5s"}, "CONN_MAX_AGE='5s' is not a whole number"),
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not true or false"),
    ],
)
def test_a_value_that_is_not_a_number_or_a_boolean_stops_the_start_naming_the_variable(env, message):
    result = run(["manage.py", "check"], **env)
    assert result.returncode != 0 and message in result.stderr


def test_an_empty_number_means_the_default():
    assert settings_of("REDIS_DOWN_SECONDS", REDIS_DOWN_SECONDS="")["REDIS_DOWN_SECONDS"] == 5.0


def test_every_setting_is_defined_once():
    """In each settings module a setting is assigned once (branches of one `if` aside), and an
    environment's module sets only what it changes: never the very line base.py already has."""
    import ast
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "settings"
    assignments = {}
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text())
        lines = {}
        for node in tree.body:  # module level; CACHES is set in both branches of one `if`
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id.isupper():
                        assert target.id not in lines, f"{path.name}: {target.id} is set twice"
                        lines[target.id] = ast.unparse(node.value)
        assignments[path.stem] = lines
    for environment in ("local", "test", "production"):
        repeated = [
            name for name, value in assignments[environment].items() if assignments["base"].get(name) == value
        ]
        assert not repeated, f"{environment}.py repeats base.py: {repeated}"
