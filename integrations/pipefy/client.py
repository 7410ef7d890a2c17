"""Pipefy GraphQL client: create a card, find a card by title; every failure a named error.

GraphQL errors arrive with HTTP 200 and an `errors` list; they are mapped by `extensions.code`.
A bad token (HTTP 401) and refused input are permanent; timeouts, 5xx and malformed bodies are
transient, and a create that failed that way may still have created the card (Pipefy has no
idempotency key), so `card_ensure` looks for the card before creating one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings

from integrations import http
from integrations.errors import IntegrationError, RateLimited, Rejected, Unavailable

PROVIDER = "pipefy"

CREATE_CARD = """
mutation ($input: CreateCardInput!) {
  createCard(input: $input) { card { id title url } }
}
"""
FIND_CARDS = """
query ($pipeId: ID!, $title: String) {
  cards(pipe_id: $pipeId, first: 10, search: {title: $title}) { edges { node { id title url } } }
}
"""


class PipefyNotConfigured(Rejected):
    """PIPEFY_TOKEN or PIPEFY_PIPE_ID is not set."""


class PipefyUnauthorized(Rejected):
    """Pipefy refused the token (HTTP 401)."""


class PipefyGraphQLError(IntegrationError):
    """A GraphQL error that is neither transient nor a known refusal."""

    def __init__(self, message: str, *, code: str = "", **kwargs):
        super().__init__(message, provider=PROVIDER, **kwargs)
        self.code = code


class PipefyPermissionDenied(PipefyGraphQLError, Rejected):
    """The token may not do this (PERMISSION_DENIED)."""


class PipefyResourceNotFound(PipefyGraphQLError, Rejected):
    """The pipe, phase or field does not exist (RESOURCE_NOT_FOUND)."""


class PipefyInvalidInput(PipefyGraphQLError, Rejected):
    """Pipefy refused the input (INVALID_INPUT), e.g. a wrong field id."""


class PipefyServerError(PipefyGraphQLError, Unavailable):
    """Pipefy failed internally (INTERNAL_SERVER_ERROR, TIMEOUT) though HTTP said 200."""


class PipefyRateLimited(PipefyGraphQLError, RateLimited):
    """Pipefy asks to slow down (TOO_MANY_REQUESTS / RATE_LIMITED)."""


GRAPHQL_ERRORS: dict[str, type[PipefyGraphQLError]] = {
    "PERMISSION_DENIED": PipefyPermissionDenied,
    "UNAUTHORIZED": PipefyPermissionDenied,
    "RESOURCE_NOT_FOUND": PipefyResourceNotFound,
    "NOT_FOUND": PipefyResourceNotFound,
    "INVALID_INPUT": PipefyInvalidInput,
    "BAD_USER_INPUT": PipefyInvalidInput,
    "INTERNAL_SERVER_ERROR": PipefyServerError,
    "TIMEOUT": PipefyServerError,
    "TOO_MANY_REQUESTS": PipefyRateLimited,
    "RATE_LIMITED": PipefyRateLimited,
}


@dataclass(frozen=True)
class PipefyCard:
    id: str
    title: str = ""
    url: str = ""


class PipefyClient:
    def __init__(self, *, url: str, token: str, pipe_id: str, phase_id: str = "", read_timeout: float = 35.0):
        if not token or not pipe_id:
            raise PipefyNotConfigured(
                "Set PIPEFY_TOKEN and PIPEFY_PIPE_ID to push companies to Pipefy.", provider=PROVIDER
            )
        self.url = url
        self.token = token
        self.pipe_id = str(pipe_id)
        self.phase_id = str(phase_id or "")
        self.read_timeout = read_timeout

    @classmethod
    def from_settings(cls) -> PipefyClient:
        return cls(
            url=settings.PIPEFY_URL,
            token=settings.PIPEFY_TOKEN,
            pipe_id=settings.PIPEFY_PIPE_ID,
            phase_id=settings.PIPEFY_PHASE_ID,
            read_timeout=settings.PIPEFY_READ_TIMEOUT,
        )

    # --- transport -----------------------------------------------------------------------
    def execute(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """Run one GraphQL operation and return its `data`, or raise a named error."""
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        with http.build_client(headers=headers, read_timeout=self.read_timeout) as client:
            response = http.request(
                client, "POST", self.url, provider=PROVIDER, json={"query": query, "variables": dict(variables)}
            )
        if response.status_code == 401:
            raise PipefyUnauthorized("Pipefy refused the token (HTTP 401); check PIPEFY_TOKEN.", provider=PROVIDER)
        http.raise_for_overload(response, provider=PROVIDER)
        body = http.json_body(response, provider=PROVIDER)
        if response.status_code != 200 or not isinstance(body, dict):
            raise Rejected(f"pipefy: HTTP {response.status_code}", provider=PROVIDER)
        if body.get("errors"):
            raise _graphql_error(body["errors"])
        if not isinstance(body.get("data"), dict):
            raise Unavailable("pipefy: answer without data", provider=PROVIDER)
        return body["data"]

    # --- operations ----------------------------------------------------------------------
    def card_create(self, *, title: str, fields: Mapping[str, Any] | None = None) -> PipefyCard:
        card_input: dict[str, Any] = {
            "pipe_id": self.pipe_id,
            "title": title,
            "fields_attributes": [
                {"field_id": field_id, "field_value": field_value(value)}
                for field_id, value in (fields or {}).items()
                if value not in (None, "")
            ],
        }
        if self.phase_id:
            card_input["phase_id"] = self.phase_id
        data = self.execute(CREATE_CARD, {"input": card_input})
        card = ((data.get("createCard") or {}).get("card")) or {}
        if not card.get("id"):
            raise Unavailable("pipefy: createCard answered without a card id", provider=PROVIDER)
        return PipefyCard(id=str(card["id"]), title=card.get("title") or title, url=card.get("url") or "")

    def card_find(self, *, title_contains: str) -> PipefyCard | None:
        """The first card in the pipe whose title contains `title_contains` (Pipefy's search is fuzzy)."""
        data = self.execute(FIND_CARDS, {"pipeId": self.pipe_id, "title": title_contains})
        edges = ((data.get("cards") or {}).get("edges")) or []
        for edge in edges:
            node = (edge or {}).get("node") or {}
            if node.get("id") and title_contains.lower() in str(node.get("title", "")).lower():
                return PipefyCard(id=str(node["id"]), title=node.get("title", ""), url=node.get("url") or "")
        return None

    def card_ensure(self, *, key: str, title: str, fields: Mapping[str, Any] | None = None) -> tuple[PipefyCard, bool]:
        """The card whose title contains `key`, created if the pipe has none. Returns (card, created).

        Searching first makes a retry after an ambiguous failure (timeout, 5xx, a worker killed
        mid-request) find the card the earlier attempt may have created instead of adding a second.
        """
        if existing := self.card_find(title_contains=key):
            return existing, False
        return self.card_create(title=title, fields=fields), True


def _graphql_error(errors: Any) -> PipefyGraphQLError:
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    code = str((first.get("extensions") or {}).get("code") or first.get("code") or "").upper()
    message = f"pipefy: {first.get('message') or 'GraphQL error'}" + (f" ({code})" if code else "")
    return GRAPHQL_ERRORS.get(code, PipefyGraphQLError)(message, code=code)


def field_value(value: Any) -> str:
    """Pipefy field values travel as strings."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)
