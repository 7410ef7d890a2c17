"""The fake's HTTP server: registry lookups in three shapes, Pipefy GraphQL, and `/_fake/` controls.

GET  /brasilapi/api/cnpj/v1/{cnpj}   GET /receitaws/v1/cnpj/{cnpj}   GET /cnpja/office/{cnpj}
POST /pipefy/graphql                 createCard(input) and cards(pipe_id, search: {title})
GET  /_fake/pipefy/cards             the cards created so far (DELETE forgets them)
GET  /_fake/requests                 the registry lookups received (DELETE forgets them)
POST /_fake/reset                    forget everything
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from stdnum.br import cnpj as stdnum_cnpj

from integrations.fake import companies

REGISTRY_ROUTES = {
    "brasilapi": re.compile(r"^/brasilapi/api/cnpj/v1/([^/]+)$"),
    "receitaws": re.compile(r"^/receitaws/v1/cnpj/([^/]+)$"),
    "cnpja": re.compile(r"^/cnpja/office/([^/]+)$"),
}
FORMATTED_CNPJ = re.compile(r"[0-9A-Z]{2}\.[0-9A-Z]{3}\.[0-9A-Z]{3}/[0-9A-Z]{4}-[0-9]{2}")


class FakeState:
    """Everything the fake remembers, behind one lock (the server answers on many threads)."""

    def __init__(self, *, slow_seconds: float, retry_after: int):
        self.slow_seconds = slow_seconds
        self.retry_after = retry_after
        self.lock = threading.Lock()
        self.cards: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.ambiguous_done: set[str] = set()
        self.next_card_id = 1000

    def reset(self) -> None:
        with self.lock:
            self.cards.clear()
            self.requests.clear()
            self.ambiguous_done.clear()

    def log_request(self, provider: str, cnpj: str, behaviour: str | None) -> None:
        with self.lock:
            self.requests.append({"provider": provider, "cnpj": cnpj, "behaviour": behaviour, "at": time.time()})


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
        if path == "/_fake/health":
            return self._send(200, {"status": "ok"})
        return self._send(404, {"message": "no such route in the fake"})

    def do_DELETE(self):
        if self.path in ("/_fake/pipefy/cards", "/_fake/requests"):
            with self.state.lock:
                (self.state.cards if "cards" in self.path else self.state.requests).clear()
            return self._send(200, {"status": "reset"})
        return self._send(404, {"message": "no such route in the fake"})

    def do_POST(self):
        if self.path == "/pipefy/graphql":
            return self._pipefy()
        if self.path == "/_fake/reset":
            self.state.reset()
            return self._send(200, {"status": "reset"})
        return self._send(404, {"message": "no such route in the fake"})

    # --- registry ------------------------------------------------------------------------
    def _registry(self, provider: str, raw_cnpj: str) -> None:
        number = stdnum_cnpj.compact(raw_cnpj).upper()
        if not stdnum_cnpj.is_valid(number):
            self.state.log_request(provider, number, "invalid")
            return self._invalid(provider, number)
        behaviour = companies.behaviour(number, provider)
        self.state.log_request(provider, number, behaviour)
        if behaviour == "slow":
            time.sleep(self.state.slow_seconds)
        if behaviour == "not_found":
            return self._not_found(provider, number)
        if behaviour == "rate_limited":
            body = {"message": "Too many requests", "code": 429, "status": "ERROR"}
            return self._send(429, body, headers={"Retry-After": str(self.state.retry_after)})
        if behaviour == "server_error":
            return self._send(500, {"name": "InternalError", "message": "Internal Server Error", "code": 500})
        if behaviour == "malformed":
            return self._send(200, raw=b'{"cnpj": "' + number.encode() + b'", "razao_social": <html>')
        return self._send(200, companies.PAYLOADS[provider](companies.company_for(number)))

    def _not_found(self, provider: str, number: str) -> None:
        if provider == "brasilapi":
            body = {"name": "NotFoundError", "message": f"CNPJ {number} não encontrado.", "type": "not_found"}
            return self._send(404, body)
        if provider == "receitaws":
            return self._send(200, {"status": "ERROR", "message": "CNPJ rejeitado pela Receita Federal"})
        return self._send(404, {"code": 404, "message": "Not Found"})

    def _invalid(self, provider: str, number: str) -> None:
        if provider == "brasilapi":
            body = {"name": "BadRequestError", "message": f"CNPJ {number} inválido.", "type": "bad_request"}
            return self._send(400, body)
        if provider == "receitaws":
            return self._send(200, {"status": "ERROR", "message": "CNPJ inválido"})
        return self._send(400, {"code": 400, "message": "taxId must be a valid CNPJ"})

    # --- Pipefy --------------------------------------------------------------------------
    def _pipefy(self) -> None:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:].strip() in ("", "invalid"):
            return self._send(401, {"error": "Unauthorized", "message": "Invalid or missing token"})
        body = self._body()
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return self._send(400, {"errors": [{"message": "Must provide a query string."}]})
        variables = body.get("variables") or {}
        if "createCard" in body["query"]:
            return self._create_card(variables.get("input") or {})
        if re.search(r"\bcards\s*\(", body["query"]):
            return self._search_cards(variables)
        return self._graphql_error("Unsupported operation in the fake", "INVALID_INPUT")

    def _graphql_error(self, message: str, code: str) -> None:
        self._send(200, {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]})

    def _create_card(self, card_input: dict[str, Any]) -> None:
        pipe_id, title = str(card_input.get("pipe_id") or ""), str(card_input.get("title") or "")
        if not pipe_id or not title:
            return self._graphql_error("pipe_id and title are required", "INVALID_INPUT")
        if pipe_id in ("0", "404"):
            return self._graphql_error(f"Pipe {pipe_id} not found", "RESOURCE_NOT_FOUND")
        if pipe_id == "403":
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
        verbose: bool = False,
    ):
        self.state = FakeState(slow_seconds=slow_seconds, retry_after=retry_after)
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
