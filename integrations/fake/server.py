"""The fake's HTTP server: registry lookups in three shapes, Pipefy GraphQL, and `/_fake/` controls.

GET  /brasilapi/api/cnpj/v1/{cnpj}   GET /receitaws/v1/cnpj/{cnpj}   GET /cnpja/office/{cnpj}
POST /pipefy/graphql                 createCard(input) and cards(pipe_id, search: {title})
GET  /_fake/pipefy/cards             the cards created so far (DELETE forgets them)
GET  /_fake/requests                 the registry lookups received, with the status and outcome of
                                     each answer (DELETE forgets them)
GET  /_fake/stats                    outcomes per provider and duplicate finds (DELETE zeroes them)
GET  /_fake/rates                    the limits in force; POST {"brasilapi": [1200, 60], "cnpja": null}
                                     changes or removes them (at most N requests in any window seconds)
POST /_fake/script                   {"cnpj", "provider", "behaviour", "times"}: the next `times`
                                     lookups of that CNPJ there behave so, whatever its trigger digits
POST /_fake/reset                    forget everything but the limits

A provider over its limit answers 429 with Retry-After in its own error shape before anything
else, scripts included; a refused request is neither counted in the window nor uses up a script.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from stdnum.br import cnpj as stdnum_cnpj

from integrations.fake import companies
from integrations.fake.state import FORMATTED_CNPJ, FakeState

REGISTRY_ROUTES = {
    "brasilapi": re.compile(r"^/brasilapi/api/cnpj/v1/([^/]+)$"),
    "receitaws": re.compile(r"^/receitaws/v1/cnpj/([^/]+)$"),
    "cnpja": re.compile(r"^/cnpja/office/([^/]+)$"),
}
TOO_MANY_REQUESTS = {
    "brasilapi": {"name": "TooManyRequestsError", "message": "Too many requests", "type": "too_many_requests"},
    "receitaws": {"status": "ERROR", "message": "Too many requests"},
    "cnpja": {"code": 429, "message": "rate limit exceeded"},
    "pipefy": {"errors": [{"message": "Too many requests", "extensions": {"code": "TOO_MANY_REQUESTS"}}]},
}


class Handler(BaseHTTPRequestHandler):
    server: FakeHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        if self.server.verbose:
            super().log_message(format, *args)

    # --- plumbing ------------------------------------------------------------------------
    @property
    def state(self) -> FakeState:
        return self.server.state

    def _send(self, status: int, body: Any = None, *, raw: bytes | None = None, headers=None) -> None:
        payload = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"null")
        except ValueError:
            return None

    # --- routing -------------------------------------------------------------------------
    def do_GET(self):
        path = self.path.split("?", 1)[0]
        for provider, pattern in REGISTRY_ROUTES.items():
            if match := pattern.match(path):
                return self._registry(provider, match.group(1))
        if path == "/_fake/pipefy/cards":
            with self.state.lock:
                return self._send(200, {"cards": list(self.state.cards)})
        if path == "/_fake/requests":
            with self.state.lock:
                return self._send(200, {"requests": list(self.state.requests)})
        if path == "/_fake/stats":
            return self._send(200, self.state.stats())
        if path == "/_fake/rates":
            return self._send(200, {"rates": self.state.current_rates()})
        if path == "/_fake/health":
            return self._send(200, {"status": "ok"})
        return self._send(404, {"message": "no such route in the fake"})

    def do_DELETE(self):
        if self.path in ("/_fake/pipefy/cards", "/_fake/requests"):
            with self.state.lock:
                (self.state.cards if "cards" in self.path else self.state.requests).clear()
            return self._send(200, {"status": "reset"})
        if self.path == "/_fake/stats":
            self.state.forget_outcomes()
            return self._send(200, {"status": "reset"})
        return self._send(404, {"message": "no such route in the fake"})

    def do_POST(self):
        if self.path == "/pipefy/graphql":
            return self._pipefy()
        if self.path == "/_fake/reset":
            self.state.reset()
            return self._send(200, {"status": "reset"})
        if self.path == "/_fake/rates":
            return self._control(lambda body: {"rates": self.state.set_rates(body)})
        if self.path == "/_fake/script":
            return self._control(self._script)
        return self._send(404, {"message": "no such route in the fake"})

    def _control(self, apply) -> None:
        body = self._body()
        if not isinstance(body, dict):
            return self._send(400, {"message": "expected a JSON object"})
        try:
            return self._send(200, apply(body))
        except (TypeError, ValueError) as exc:
            return self._send(400, {"message": str(exc)})

    def _script(self, body: dict[str, Any]) -> dict[str, Any]:
        fields = ("cnpj", "provider", "behaviour")
        self.state.script(*(body.get(name, "") for name in fields), times=body.get("times", 1))
        return {"status": "scripted"}

    # --- registry ------------------------------------------------------------------------
    def _registry(self, provider: str, raw_cnpj: str) -> None:
        number = stdnum_cnpj.compact(raw_cnpj).upper()
        if (retry_after := self.state.admit(provider)) is not None:
            entry = self.state.log_request(provider, number, "over_limit")
            return self._rate_limited(provider, retry_after, entry)
        # A script beats the trigger digits and even an invalid number: the test asked for it.
        scripted = self.state.take_script(number, provider)
        if scripted:
            behaviour = None if scripted == "ok" else scripted
        elif not stdnum_cnpj.is_valid(number):
            behaviour = "invalid"
        else:
            behaviour = companies.behaviour(number, provider)
        entry = self.state.log_request(provider, number, scripted or behaviour, scripted=bool(scripted))
        if behaviour == "slow":
            time.sleep(self.state.slow_seconds)
        if behaviour == "invalid":
            return self._invalid(provider, number, entry)
        if behaviour == "not_found":
            return self._not_found(provider, number, entry)
        if behaviour == "rate_limited":
            return self._rate_limited(provider, self.state.retry_after, entry)
        if behaviour == "server_error":
            body = {"name": "InternalError", "message": "Internal Server Error", "code": 500}
            return self._answer(entry, "error", 500, body)
        if behaviour == "malformed":
            raw = b'{"cnpj": "' + number.encode() + b'", "razao_social": <html>'
            return self._answer(entry, "error", 200, raw=raw)
        return self._answer(entry, "found", 200, companies.PAYLOADS[provider](companies.company_for(number)))

    def _answer(self, entry: dict, outcome: str, status: int, body: Any = None, **kwargs) -> None:
        # Counted before the answer is written: a client that gave up on a slow answer still got one.
        self.state.answered(entry, status, outcome)
        self._send(status, body, **kwargs)

    def _rate_limited(self, provider: str, retry_after: int, entry: dict | None = None) -> None:
        if entry is not None:
            self.state.answered(entry, 429, "rate_limited")
        self._send(429, TOO_MANY_REQUESTS[provider], headers={"Retry-After": str(retry_after)})

    def _not_found(self, provider: str, number: str, entry: dict) -> None:
        if provider == "brasilapi":
            body = {"name": "NotFoundError", "message": f"CNPJ {number} não encontrado.", "type": "not_found"}
            return self._answer(entry, "not_found", 404, body)
        if provider == "receitaws":
            body = {"status": "ERROR", "message": "CNPJ rejeitado pela Receita Federal"}
            return self._answer(entry, "not_found", 200, body)
        return self._answer(entry, "not_found", 404, {"code": 404, "message": "Not Found"})

    def _invalid(self, provider: str, number: str, entry: dict) -> None:
        if provider == "brasilapi":
            body = {"name": "BadRequestError", "message": f"CNPJ {number} inválido.", "type": "bad_request"}
            return self._answer(entry, "error", 400, body)
        if provider == "receitaws":
            return self._answer(entry, "error", 200, {"status": "ERROR", "message": "CNPJ inválido"})
        return self._answer(entry, "error", 400, {"code": 400, "message": "taxId must be a valid CNPJ"})

    # --- Pipefy --------------------------------------------------------------------------
    def _pipefy(self) -> None:
        # Read first, so a refused request leaves the kept-alive connection clean for the next one.
        body = self._body()
        query = body.get("query") if isinstance(body, dict) else None
        creating = isinstance(query, str) and "createCard" in query
        # Only createCard counts in the stats (found = a card created); searches are bookkeeping.
        count = self._card_counter(creating)
        if (retry_after := self.state.admit("pipefy")) is not None:
            count("rate_limited")
            return self._rate_limited("pipefy", retry_after)
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:].strip() in ("", "invalid"):
            count("error")
            return self._send(401, {"error": "Unauthorized", "message": "Invalid or missing token"})
        if not isinstance(query, str):
            return self._send(400, {"errors": [{"message": "Must provide a query string."}]})
        variables = body.get("variables") or {}
        if creating:
            return self._create_card(variables.get("input") or {}, count)
        if re.search(r"\bcards\s*\(", query):
            return self._search_cards(variables)
        return self._graphql_error("Unsupported operation in the fake", "INVALID_INPUT")

    def _card_counter(self, creating: bool):
        def count(outcome: str) -> None:
            if creating:
                self.state.count("pipefy", outcome)

        return count

    def _graphql_error(self, message: str, code: str) -> None:
        self._send(200, {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]})

    def _create_card(self, card_input: dict[str, Any], count) -> None:
        pipe_id, title = str(card_input.get("pipe_id") or ""), str(card_input.get("title") or "")
        if not pipe_id or not title:
            count("error")
            return self._graphql_error("pipe_id and title are required", "INVALID_INPUT")
        if pipe_id in ("0", "404"):
            count("not_found")
            return self._graphql_error(f"Pipe {pipe_id} not found", "RESOURCE_NOT_FOUND")
        if pipe_id == "403":
            count("error")
            return self._graphql_error("Permission denied", "PERMISSION_DENIED")
        fields = card_input.get("fields_attributes") or []
        with self.state.lock:
            card_id = str(self.state.next_card_id)
            self.state.next_card_id += 1
            card = {
                "id": card_id,
                "title": title,
                "url": f"https://app.pipefy.com/open-cards/{card_id}",
                "pipe_id": pipe_id,
                "phase_id": card_input.get("phase_id"),
                "fields": {str(f.get("field_id")): f.get("field_value") for f in fields if isinstance(f, dict)},
                "created_at": time.time(),
            }
            self.state.cards.append(card)
            ambiguous = self._ambiguous_first_time(title)
        # Found even when the answer is a 502: the card exists, and the stats are the truth.
        count("found")
        if ambiguous:
            # The card exists, but the caller cannot know it: exactly the case Pipefy warns about.
            return self._send(502, raw=b"<html><body>502 Bad Gateway</body></html>")
        node = {key: card[key] for key in ("id", "title", "url")}
        return self._send(200, {"data": {"createCard": {"card": node}}})

    def _ambiguous_first_time(self, title: str) -> bool:
        match = FORMATTED_CNPJ.search(title)
        if not match:
            return False
        number = stdnum_cnpj.compact(match.group(0))
        if companies.behaviour(number, "pipefy") != "pipefy_ambiguous" or number in self.state.ambiguous_done:
            return False
        self.state.ambiguous_done.add(number)
        return True

    def _search_cards(self, variables: dict[str, Any]) -> None:
        pipe_id = str(variables.get("pipeId") or variables.get("pipe_id") or "")
        search = variables.get("search") if isinstance(variables.get("search"), dict) else {}
        title = str(variables.get("title") or search.get("title") or "").lower()
        with self.state.lock:
            nodes = [
                {key: card[key] for key in ("id", "title", "url")}
                for card in self.state.cards
                if card["pipe_id"] == pipe_id and title in card["title"].lower()
            ]
        edges = [{"node": node} for node in nodes]
        self._send(200, {"data": {"cards": {"edges": edges, "pageInfo": {"hasNextPage": False}}}})


class FakeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog of 5 drops connections in a burst, and the client's SYN retry a second
    # later looks like a slow provider (and lets a request slip into a later rate window).
    request_queue_size = 128

    def __init__(self, address, *, state: FakeState, verbose: bool = False):
        super().__init__(address, Handler)
        self.state = state
        self.verbose = verbose


class FakeServer:
    """Start the fake on a loopback port in a background thread (tests), or serve forever (CLI)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        slow_seconds: float = 3.0,
        retry_after: int = 2,
        rates: Mapping[str, tuple[int, float] | None] | None = None,
        verbose: bool = False,
    ):
        """`rates`: {"brasilapi": (1200, 60), ...}, at most that many requests in any window of
        that many seconds; a provider left out is unlimited."""
        self.state = FakeState(slow_seconds=slow_seconds, retry_after=retry_after, rates=rates)
        self.httpd = FakeHTTPServer((host, port), state=self.state, verbose=verbose)
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def settings(self) -> dict[str, str]:
        """The environment that points this project at the fake."""
        return {
            "BRASILAPI_URL": f"{self.url}/brasilapi/api/cnpj/v1/",
            "RECEITAWS_URL": f"{self.url}/receitaws/v1/cnpj/",
            "CNPJA_URL": f"{self.url}/cnpja/office/",
            "PIPEFY_URL": f"{self.url}/pipefy/graphql",
        }

    def start(self) -> FakeServer:
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-upstreams", daemon=True
        )
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def serve_forever(self) -> None:
        try:
            self.httpd.serve_forever()
        finally:
            self.httpd.server_close()
