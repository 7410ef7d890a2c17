#!/usr/bin/env bash
# `make dist`: the OpenAPI schema, the Postman collection built from it, and the configuration reference
# (docs/operators/configuration.md), all committed.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p dist
.venv/bin/python manage.py spectacular --file dist/openapi.yaml --validate --fail-on-warn
# The collection is the workflow of scripts/postman_workflow.py over the schema's operations (building
# fails if a request is not one of them); its ids derive from names, so it changes only with its sources.
.venv/bin/python scripts/postman_workflow.py dist/postman_collection.json
echo "wrote dist/openapi.yaml and dist/postman_collection.json"
# The configuration reference of the documentation, generated from .env.example.
.venv/bin/python scripts/config_reference.py
