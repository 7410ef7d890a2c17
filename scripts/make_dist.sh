#!/usr/bin/env bash
# `make dist`: the OpenAPI schema and a Postman collection converted from it, both committed.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p dist
.venv/bin/python manage.py spectacular --file dist/openapi.yaml --validate --fail-on-warn
npx --yes openapi-to-postmanv2@6 -s dist/openapi.yaml -o dist/postman_collection.json -p \
  -O parametersResolution=Example >/dev/null
# The converter adds random ids on every run; replace them so the file only changes with the schema.
.venv/bin/python - <<'PY'
import json, pathlib, uuid

path = pathlib.Path("dist/postman_collection.json")
collection = json.loads(path.read_text())
collection.setdefault("variable", [])
names = {variable["key"] for variable in collection["variable"]}
for key, value in (("baseUrl", "http://127.0.0.1:5000"), ("apiKey", ""), ("bearerToken", "")):
    if key not in names:
        collection["variable"].append({"key": key, "value": value, "type": "string"})
counter = 0

def stable(node):
    global counter
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("id", "_postman_id") and isinstance(value, str):
                counter += 1
                node[key] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"postman/{counter}"))
            else:
                stable(value)
    elif isinstance(node, list):
        for item in node:
            stable(item)

stable(collection)
path.write_text(json.dumps(collection, indent=2, ensure_ascii=False) + "\n")
PY
echo "wrote dist/openapi.yaml and dist/postman_collection.json"
