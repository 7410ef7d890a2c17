"""The Postman collection (dist/postman_collection.json, `make dist`): it matches the schema, and it
runs clean with newman against a live server, as a user runs it, twice against the same database."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from scripts import postman_workflow

ROOT = Path(__file__).resolve().parents[2]
COLLECTION_PATH = ROOT / "dist" / "postman_collection.json"
SCHEMA_PATH = ROOT / "dist" / "openapi.yaml"
METHODS = {"get", "post", "put", "patch", "delete"}
PLACEHOLDER = re.compile(r"^(|string|number|integer|boolean|<.*>|\d{4,})$")
JWT_FOLDER = "JWT"  # skipped unless username and password are set


def collection() -> dict:
    return json.loads(COLLECTION_PATH.read_text())


def schema_operations() -> dict[tuple[str, str], dict]:
    schema = yaml.safe_load(SCHEMA_PATH.read_text())
    return {
        (method.upper(), path): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def requests(node: dict, folder: str = ""):
    """(folder name, item) for every request in the collection, in run order."""
    for child in node.get("item", []):
        if "request" in child:
            yield folder, child
        else:
            yield from requests(child, child["name"])


def template(url: dict) -> str:
    """The schema's path template of a Postman URL (`:cnpj` segments are `{cnpj}`)."""
    return "/" + "/".join(f"{{{s[1:]}}}" if s.startswith(":") else s for s in url["path"])


def scripts(item: dict, listen: str) -> str:
    return "\n".join(
        line for event in item.get("event", []) if event["listen"] == listen for line in event["script"]["exec"]
    )


def test_the_committed_collection_is_what_make_dist_builds():
    assert COLLECTION_PATH.read_text() == postman_workflow.render(SCHEMA_PATH), (
        "dist/postman_collection.json is stale: run `make dist`"
    )


def test_every_request_is_an_operation_of_the_schema_and_every_operation_has_one():
    operations = schema_operations()
    used = set()
    for folder, item in requests(collection()):
        operation = (item["request"]["method"], template(item["request"]["url"]))
        assert operation in operations, f"{folder} / {item['name']}: {operation} is not in dist/openapi.yaml"
        used.add(operation)
        declared = {p["name"].lower() for p in operations[operation].get("parameters", []) if p["in"] == "header"}
        for header in item["request"]["header"]:
            if header["key"].lower() != "content-type":
                assert header["key"].lower() in declared, f"{folder} / {item['name']}: header {header['key']}"
    assert set(operations) - used == set(), "operations of the schema the workflow never calls"


def test_every_request_has_a_pm_test():
    for folder, item in requests(collection()):
        assert "pm.test(" in scripts(item, "test"), f"{folder} / {item['name']} has no pm.test"


def test_no_placeholder_values_are_sent():
    data = collection()
    declared = {variable["key"] for variable in data["variable"]}
    for folder, item in requests(data):
        url = item["request"]["url"]
        where = f"{folder} / {item['name']}"
        for parameter in url["query"]:
            if not parameter.get("disabled"):
                assert not PLACEHOLDER.match(parameter["value"]), f"{where}: ?{parameter['key']}={parameter['value']}"
        for variable in url["variable"]:
            assert re.fullmatch(r"\{\{\w+\}\}", variable["value"]), f"{where}: :{variable['key']}"
        for header in item["request"]["header"]:
            if header["key"].lower() != "content-type":
                assert re.fullmatch(r"\{\{\w+\}\}", header["value"]), f"{where}: {header['key']}"
        body = item["request"].get("body", {}).get("raw", "")
        assert '"string"' not in body and "<string>" not in body, where
    used = set(re.findall(r"\{\{(\w+)\}\}", json.dumps(data)))
    assert used <= declared, f"variables used but not declared: {sorted(used - declared)}"


def test_collection_auth_is_the_api_key_header_and_the_jwt_folder_uses_its_own():
    data = collection()
    assert data["info"]["schema"].endswith("/v2.1.0/collection.json")
    auth = data["auth"]
    assert auth["type"] == "apikey"
    assert {entry["key"]: entry["value"] for entry in auth["apikey"]} == {
        "key": "X-API-Key", "value": "{{apiKey}}", "in": "header",
    }
    variables = {variable["key"]: variable["value"] for variable in data["variable"]}
    assert variables["baseUrl"] == "http://127.0.0.1:5000"
    assert {"apiKey", "username", "password", "accessToken", "refreshToken"} <= set(variables)
    jwt = next(folder for folder in data["item"] if folder["name"] == JWT_FOLDER)
    assert "pm.execution.skipRequest()" in scripts(jwt, "prerequest")
    for item in jwt["item"]:
        assert item["request"]["auth"]["type"] in {"noauth", "bearer"}, item["name"]


def newman(*arguments: str, report: Path) -> dict:
    command = [
        "npx", "--yes", "newman@6", "run", "dist/postman_collection.json", *arguments,
        "--reporters", "cli,json", "--reporter-json-export", str(report),
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    run = json.loads(report.read_text())["run"]
    assert run["failures"] == [], output[-8000:]
    assert run["stats"]["assertions"]["failed"] == 0, output[-8000:]
    return run


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, databases=["default", "mongo"])
def test_the_collection_runs_clean_with_newman_twice_and_with_a_user(live_server, make_user, settings, tmp_path):
    assert shutil.which("npx"), "npx (Node.js) is missing: `make test` installs it (scripts/ensure_servers.sh)"
    from access.services import api_key_create
    from integrations.fake.server import FakeServer
    from tasks.testing import purge_queue

    fake = FakeServer().start()  # the registry lookup asks the fake upstreams, never the internet
    for name, value in fake.settings().items():
        setattr(settings, name, value)
    _, api_key = api_key_create(name="postman")
    password = 'Quote"and\\backslash-12'  # the sign-in body must stay valid JSON
    make_user(username="postman-alice", password=password)
    items = list(requests(collection()))
    every = len(items)
    without_user = sum(1 for folder, _ in items if folder != JWT_FOLDER)
    base = ["--env-var", f"baseUrl={live_server.url}", "--env-var", f"apiKey={api_key}"]
    try:
        for attempt in (1, 2):  # the second run adds its own company and books to the same database
            run = newman(*base, report=tmp_path / f"run{attempt}.json")
            assert run["stats"]["requests"]["total"] == len(run["executions"]) == without_user
        run = newman(*base, "--env-var", "username=postman-alice", "--env-var", f"password={password}",
                     report=tmp_path / "run-user.json")
        assert run["stats"]["requests"]["total"] == len(run["executions"]) == every
    finally:
        fake.stop()
        purge_queue()  # the refresh and the import queued work no worker will run
    from companies.models import Company

    assert Company.objects.filter(legal_name__startswith="Oficina Postman").count() == 3
