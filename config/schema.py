"""OpenAPI post-processing: document the one error shape on every operation, and give every
request body and success answer a realistic example.

The schema is written in English whatever language is active (the back office's default is
Portuguese): `EnglishSchemaGenerator`, drf-spectacular's generator class here, generates it under
English, so the help texts and choice labels the models translate read as in the source.

drf-spectacular describes success answers; this hook adds the `Error` component and, per
operation, the error statuses it can answer, so clients (and schema fuzzers) know them.
"""

import functools
import json
from pathlib import Path

from django.utils import translation
from drf_spectacular.generators import SchemaGenerator

from core.localization import API_LANGUAGE


class EnglishSchemaGenerator(SchemaGenerator):
    def get_schema(self, request=None, public=False):
        # Lazy texts are resolved inside get_schema (drf-spectacular's normalize_result_object).
        with translation.override(API_LANGUAGE):
            return super().get_schema(request=request, public=public)

ERROR_COMPONENT = {
    "type": "object",
    "description": "Every 4xx/5xx answer under /api/ has this shape.",
    "properties": {
        "type": {"type": "string", "enum": ["validation_error", "client_error", "server_error"]},
        "code": {"type": "string", "example": "invalid"},
        "message": {"type": "string"},
        "field": {"type": "string", "nullable": True},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string", "nullable": True},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
                "required": ["field", "code", "message"],
            },
        },
        "existing_url": {"type": "string", "description": "409 only: the resource that already exists."},
        "service": {"type": "string", "description": "503 only: the backing service that is down."},
    },
    "required": ["type", "code", "message", "field", "errors"],
    "additionalProperties": True,
}

DESCRIPTIONS = {
    "400": "Invalid input: `field` names the input at fault and `message` says why.",
    "401": "No valid credentials (X-API-Key header or Bearer token).",
    "403": "Authenticated, but not allowed (read-only key, missing model permission).",
    "404": "No such resource.",
    "405": "Method not allowed on this resource.",
    "409": "The resource already exists: `existing_url` points to it.",
    "413": "Request body too large.",
    "415": "Unsupported content type.",
    "429": "Too many requests: retry after `Retry-After` seconds.",
    "503": "A backing service is down: retry after `Retry-After` seconds.",
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
WRITE_METHODS = {"post", "put", "patch"}


def _error_response(status: str) -> dict:
    response = {
        "description": DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if status in ("429", "503"):
        response["headers"] = RETRY_AFTER
    return response


def _statuses(method: str, path: str, operation: dict) -> list[str]:
    statuses = ["400", "429", "503"]
    if operation.get("security") != [{}] and operation.get("security", True):
        statuses += ["401", "403"]
    if "{" in path or method == "get":
        statuses.append("404")  # unknown resource, or a page number past the end of a list
    if method in WRITE_METHODS:
        statuses += ["409", "413", "415"]
    if method == "delete":
        statuses.append("405")
    return statuses


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_COMPONENT
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status in _statuses(method, path, operation):
                operation["responses"].setdefault(status, _error_response(status))
    return result


# --- examples ---------------------------------------------------------------------------------
EXAMPLES_FILE = Path(__file__).with_name("openapi_examples.json")


@functools.cache
def _examples() -> dict:
    """Realistic examples (a Brazilian company, a real book), one per component: requests and
    answers. config/tests/test_examples.py checks every one against the schema."""
    return json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))


def _component(media: dict) -> str | None:
    reference = (media.get("schema") or {}).get("$ref", "")
    return reference.rsplit("/", 1)[-1] or None


def add_examples(result, generator, request, public):
    """Every request body and every 2xx JSON answer gets the example of its component, so Swagger
    UI's "Try it out" starts from a valid body instead of `"string"` placeholders."""
    examples = _examples()
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for media in (operation.get("requestBody") or {}).get("content", {}).values():
                name = _component(media)
                if name in examples["requests"]:
                    media["examples"] = {name: {"summary": name, "value": examples["requests"][name]}}
            for status, response in operation.get("responses", {}).items():
                if not str(status).startswith("2"):
                    continue
                media = (response.get("content") or {}).get("application/json")
                name = _component(media) if media else None
                if name in examples["responses"]:
                    media["examples"] = {name: {"summary": name, "value": examples["responses"][name]}}
    return result
