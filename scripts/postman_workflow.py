"""The Postman collection of `make dist`: the API as a workflow that runs as it is.

`python scripts/postman_workflow.py` reads dist/openapi.yaml and writes dist/postman_collection.json
(Postman collection format v2.1). Every request is one of the schema's operations (building fails
otherwise) and takes its summary from there; this module adds what a schema cannot say: the order
(create, read, change, list, archive, restore, queue work, follow the task), values carried from one
answer to the next request in collection variables, valid data (a CNPJ and ISBNs with real check
digits, new on every run, so the collection can be run again against the same database), and a
`pm.test` on every request. Run it with newman:

    npx --yes newman@6 run dist/postman_collection.json --env-var baseUrl=http://127.0.0.1:5000 \
        --env-var apiKey=$API_KEY [--env-var username=alice --env-var password=...]

The output is stable: ids are derived from names, so the file changes only with the schema or
this module.
"""

from __future__ import annotations

import json
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "dist" / "openapi.yaml"
OUTPUT = ROOT / "dist" / "postman_collection.json"
POSTMAN_SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
METHODS = ("get", "post", "put", "patch", "delete")
TASK_STATUSES = ["PENDING", "STARTED", "RETRY", "SUCCESS", "FAILURE"]
STATUSES_JS = json.dumps(TASK_STATUSES)  # replaces @STATUSES@ in the scripts
BOUNDARY = "postman-workflow-boundary"

# Prepended to every test script: the answer's JSON body, or {} when it has none (a 204).
JSON_HELPER = "const json = () => { try { return pm.response.json() || {}; } catch (error) { return {}; } };"

DESCRIPTION = """\
The API as a workflow: run the folders in order (Postman's Runner, or newman) and each request
uses what the previous ones answered. Every request has tests.

**Set two variables** (collection variables, or `--env-var` with newman):

- `baseUrl`: the API's address, `http://127.0.0.1:5000` by default (`make run`);
- `apiKey`: a full-access API key, sent as `X-API-Key` on every request that needs one. `make run`
  prints one; otherwise `manage.py create_api_key NAME`.

Optional: `username` and `password` of a user (created in the admin) run the **JWT** folder: sign
in, who am I with the bearer token, refresh, verify, log out. Without them its requests are
skipped.

```
npx --yes newman@6 run dist/postman_collection.json \\
    --env-var baseUrl=http://127.0.0.1:5000 --env-var apiKey=$API_KEY \\
    [--env-var username=alice --env-var password=...]
```

Each run adds one new company (a random CNPJ with valid check digits, `"enrich": false`, so no
outside service is needed to add it) and two new books (random ISBN-13s): nothing is deleted
(companies never are; the book is archived and restored), and a second run against the same
database passes too. Changes send `If-Match` with the ETag of the version read before them, as a
client guarding against lost updates does. Background work (the registry refresh, the book import) is followed by its
task status, which may still be `PENDING` when no worker runs. The registry lookup asks the outside
CNPJ providers: 200, 404 (none knows the random CNPJ) or 503 (offline, rate limited) all pass.
The Pipefy push passes with 202, or 409 `pipefy_not_configured` when Pipefy is not set up.

The book import sends its file as a hand-written `multipart/form-data` body (Postman can attach
files only from disk), so it runs anywhere. Built by `make dist` from `dist/openapi.yaml` and
`scripts/postman_workflow.py`: change the workflow there, not here.
"""


def js(text: str) -> list[str]:
    """A script as Postman stores it: one string per line."""
    return text.strip("\n").splitlines()


@dataclass
class Step:
    """One request of the workflow: an operation of the schema and what to send and check."""

    name: str
    method: str
    path: str  # the schema's path template, e.g. /api/companies/{cnpj}/
    tests: str
    path_values: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)  # enabled query parameters
    examples: dict[str, str] = field(default_factory=dict)  # values shown on the disabled ones
    headers: dict[str, str] = field(default_factory=dict)  # header parameters of the schema
    body: object = None  # JSON (dict), or a raw multipart body (str)
    prerequest: str = ""
    auth: str = "inherit"  # inherit (the API key), none, bearer
    note: str = ""


@dataclass
class Folder:
    name: str
    description: str
    steps: list[Step]
    prerequest: str = ""


# --- scripts shared by several steps --------------------------------------------------------------
NEW_CNPJ = """
// A CNPJ nobody has: 12 random digits and the two check digits (the Receita Federal's modulo 11).
// The first digit is never 0 (no all-zero root), and the prefixes the fake upstreams of
// integrations/fake treat as misbehaviours (404, 429, 500, 200, 408, 502) are drawn again.
const checkDigit = (digits) => {
    const weights = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2].slice(13 - digits.length);
    const rest = digits.reduce((sum, digit, index) => sum + digit * weights[index], 0) % 11;
    return rest < 2 ? 0 : 11 - rest;
};
let digits;
do {
    digits = Array.from({ length: 12 }, () => Math.floor(Math.random() * 10));
} while (digits[0] === 0 || ['404', '429', '500', '200', '408', '502'].includes(digits.slice(0, 3).join('')));
digits.push(checkDigit(digits));
digits.push(checkDigit(digits));
pm.collectionVariables.set('cnpj', digits.join(''));
"""


def new_isbn(variable: str) -> str:
    return f"""
// A new ISBN-13: 978, nine random digits and the check digit (weights 1 and 3, modulo 10).
const digits = [9, 7, 8, ...Array.from({{ length: 9 }}, () => Math.floor(Math.random() * 10))];
const sum = digits.reduce((total, digit, index) => total + digit * (index % 2 ? 3 : 1), 0);
digits.push((10 - (sum % 10)) % 10);
pm.collectionVariables.set('{variable}', digits.join(''));
"""


def task_status_tests(variable: str, task_name: str, success_check: str) -> str:
    return f"""
const task = json();
pm.test('200 with the task', () => {{
    pm.response.to.have.status(200);
    pm.expect(task.id).to.equal(pm.variables.get('{variable}'));
    pm.expect(task.name).to.equal('{task_name}');
}});
pm.test('a known status (PENDING while no worker has run it)', () => {{
    pm.expect(task.status).to.be.oneOf({json.dumps(TASK_STATUSES)});
}});
if (task.status === 'SUCCESS') {{
    pm.test('its result', () => {{
{success_check}
    }});
}}
"""


def keep_etag(variable: str) -> str:
    """Checks the answer's ETag and keeps it for the next conditional request."""
    return f"""
pm.test('an ETag to send back in If-Match or If-None-Match', () => {{
    pm.expect(pm.response.headers.get('ETag')).to.match(/^"[^"]+"$/);
}});
pm.collectionVariables.set('{variable}', pm.response.headers.get('ETag') || '');
"""


SKIP_WITHOUT_USER = """
// This folder signs a person in: it runs only when `username` and `password` are set.
if (!pm.variables.get('username') || !pm.variables.get('password')) {
    pm.execution.skipRequest();
}
"""

COMPANY_JSON = {
    "cnpj": "{{cnpj}}",
    "legal_name": "Oficina Postman Ltda",
    "trade_name": "Oficina Postman",
    "registration_status": "ATIVA",
    "city": "São Paulo",
    "state": "SP",
    "enrich": False,
}
COMPANY_PUT = {
    "cnpj": "{{cnpj}}",
    "legal_name": "Oficina Postman Comércio de Software Ltda",
    "trade_name": "Oficina Postman",
    "registration_status": "ATIVA",
    "main_activity_code": "6201501",
    "main_activity_description": "Desenvolvimento de programas de computador sob encomenda",
    "partners": [{"name": "Ada Exemplo", "role": "Sócio-Administrador", "since": "2020-01-15"}],
    "street": "Avenida Paulista",
    "street_number": "1000",
    "district": "Bela Vista",
    "city": "São Paulo",
    "state": "SP",
    "zip_code": "01310-100",
    "email": "contato@example.com",
}
BOOK_JSON = {
    "title": "The Postman Workflow",
    "authors": ["Ada Exemplo"],
    "isbn": "{{isbn}}",
    "publisher": "Oficina Postman",
    "published_date": "2024-05",
    "language": "en",
    "page_count": 212,
    "tags": ["postman", "workflow"],
}
BOOK_PUT = {
    "title": "The Postman Workflow",
    "subtitle": "Second edition",
    "authors": ["Ada Exemplo", "Grace Exemplo"],
    "isbn": "{{isbn}}",
    "publisher": "Oficina Postman",
    "published_date": "2025-02-14",
    "language": "en",
    "page_count": 240,
    "tags": ["postman", "workflow"],
    "description": "Every request of the API, in order.",
}
IMPORT_ROW = {
    "title": "Imported by the Postman workflow",
    "authors": ["Grace Exemplo"],
    "isbn": "{{importIsbn}}",
    "published_date": "2025",
    "language": "pt",
    "tags": ["postman", "import"],
}
IMPORT_BODY = (
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="file"; filename="books.jsonl"\r\n'
    "Content-Type: application/x-ndjson\r\n"
    "\r\n"
    f"{json.dumps(IMPORT_ROW, ensure_ascii=False)}\n"
    f"\r\n--{BOUNDARY}--\r\n"
)

ERROR_SHAPE = """
pm.test('the error shape (type, code, message, field, errors)', () => {
    pm.expect(error).to.include.keys('type', 'code', 'message', 'field', 'errors');
});
"""

# --- the workflow -----------------------------------------------------------------------------------
FOLDERS = [
    Folder(
        "Start here",
        "Checks `baseUrl` and `apiKey`: the run stops here when the key is missing or refused.",
        [
            Step(
                "Who am I (API key)", "get", "/api/auth/me/",
                note="Stops the run if the API key is not accepted: nothing else could pass.",
                tests="""
pm.test('the API key is accepted (set apiKey to a full-access key: `make run` prints one)', () => {
    pm.expect(pm.variables.get('apiKey'), 'the apiKey variable').to.not.be.empty;
    pm.response.to.have.status(200);
});
if (pm.response.code !== 200) {
    postman.setNextRequest(null);
}
const caller = json();
pm.test('the caller is a full-access API key', () => {
    pm.expect(caller.kind).to.equal('api_key');
    pm.expect(caller.read_only, 'read_only').to.equal(false);
});
""",
            ),
        ],
    ),
    Folder(
        "JWT",
        "A person's sign-in: runs only when the `username` and `password` variables are set (its "
        "requests are skipped otherwise). Tokens go to `accessToken` and `refreshToken`.",
        prerequest=SKIP_WITHOUT_USER,
        steps=[
            Step(
                "Sign in", "post", "/api/auth/token/", auth="none",
                body={"username": "{{username}}", "password": "{{password}}"},
                prerequest="""
// The body is built here so a password with quotes or backslashes stays valid JSON.
pm.request.body.update(JSON.stringify({
    username: pm.variables.get('username'),
    password: pm.variables.get('password'),
}));
""",
                tests="""
const pair = json();
pm.test('200 with an access and a refresh token', () => {
    pm.response.to.have.status(200);
    pm.expect(pair.access).to.be.a('string').and.not.empty;
    pm.expect(pair.refresh).to.be.a('string').and.not.empty;
});
pm.collectionVariables.set('accessToken', pair.access || '');
pm.collectionVariables.set('refreshToken', pair.refresh || '');
""",
            ),
            Step(
                "Who am I (bearer token)", "get", "/api/auth/me/", auth="bearer",
                tests="""
const caller = json();
pm.test('200: the signed-in user', () => {
    pm.response.to.have.status(200);
    pm.expect(caller.kind).to.equal('user');
    pm.expect(caller.name).to.equal(pm.variables.get('username'));
});
""",
            ),
            Step(
                "Refresh the tokens", "post", "/api/auth/token/refresh/", auth="none",
                body={"refresh": "{{refreshToken}}"},
                tests="""
const pair = json();
pm.test('200 with a new access token and a new refresh token (the old one is used up)', () => {
    pm.response.to.have.status(200);
    pm.expect(pair.access).to.be.a('string').and.not.empty;
    pm.expect(pair.refresh).to.be.a('string').and.not.equal(pm.variables.get('refreshToken'));
});
if (pair.access) {
    pm.collectionVariables.set('accessToken', pair.access);
    pm.collectionVariables.set('refreshToken', pair.refresh);
}
""",
            ),
            Step(
                "Verify the access token", "post", "/api/auth/token/verify/", auth="none",
                body={"token": "{{accessToken}}"},
                tests="""
pm.test('204: the token is valid', () => {
    pm.response.to.have.status(204);
});
""",
            ),
            Step(
                "Log out", "post", "/api/auth/logout/", auth="none",
                body={"refresh": "{{refreshToken}}"},
                tests="""
pm.test('204: the refresh token is blacklisted', () => {
    pm.response.to.have.status(204);
});
""",
            ),
            Step(
                "Refresh after logging out is refused", "post", "/api/auth/token/refresh/", auth="none",
                body={"refresh": "{{refreshToken}}"},
                note="The refresh token blacklisted by the log-out no longer works.",
                tests="""
const error = json();
pm.test('401 token_not_valid', () => {
    pm.response.to.have.status(401);
    pm.expect(error.code).to.equal('token_not_valid');
});
""" + ERROR_SHAPE,
            ),
        ],
    ),
    Folder(
        "Companies",
        "Add a company with a new valid CNPJ (kept in `cnpj`), read it (and again with its ETag: 304), "
        "change it with If-Match (and once with a stale ETag: 412), its history, find it in the list, "
        "queue a registry refresh and follow the task, push it to Pipefy. Companies are never deleted.",
        [
            Step(
                "Add a company", "post", "/api/companies/", body=COMPANY_JSON, prerequest=NEW_CNPJ,
                note='A new random CNPJ on every run; `"enrich": false` queues no registry lookup.',
                tests="""
const company = json();
pm.test('201 with the company', () => {
    pm.response.to.have.status(201);
    pm.expect(company.cnpj).to.equal(pm.variables.get('cnpj'));
    pm.expect(company.legal_name).to.equal('Oficina Postman Ltda');
    pm.expect(company.enrichment_status).to.equal('pending');
    pm.expect(company.enrichment, 'no enrichment queued').to.equal(null);
});
pm.test('Location is the company', () => {
    pm.response.to.have.header('Location');
    const path = '/api/companies/' + pm.variables.get('cnpj') + '/';
    pm.expect(pm.response.headers.get('Location').endsWith(path), 'Location ends with ' + path).to.equal(true);
});
""",
            ),
            Step(
                "Add it again: 409", "post", "/api/companies/", body=COMPANY_JSON,
                note="The same CNPJ again: 409 with `existing_url`.",
                tests="""
const error = json();
pm.test('409 pointing at the stored company', () => {
    pm.response.to.have.status(409);
    pm.expect(error.field).to.equal('cnpj');
    pm.expect(error.existing_url).to.match(new RegExp('/api/companies/' + pm.variables.get('cnpj') + '/$'));
});
""" + ERROR_SHAPE,
            ),
            Step(
                "Read the company", "get", "/api/companies/{cnpj}/", path_values={"cnpj": "{{cnpj}}"},
                tests="""
const company = json();
pm.test('200 with the company', () => {
    pm.response.to.have.status(200);
    pm.expect(company.cnpj).to.equal(pm.variables.get('cnpj'));
    pm.expect(company.cnpj_formatted).to.match(/^\\d{2}\\.\\d{3}\\.\\d{3}\\/\\d{4}-\\d{2}$/);
    pm.expect(company.is_head_office).to.be.a('boolean');
});
""" + keep_etag("companyEtag"),
            ),
            Step(
                "Read it again: 304 (If-None-Match)", "get", "/api/companies/{cnpj}/", path_values={"cnpj": "{{cnpj}}"},
                headers={"If-None-Match": "{{companyEtag}}"},
                note="The ETag held is still the current one: 304, no body.",
                tests="""
pm.test('304 Not Modified, no body', () => {
    pm.response.to.have.status(304);
    pm.expect(pm.response.text()).to.equal('');
    pm.expect(pm.response.headers.get('ETag')).to.equal(pm.variables.get('companyEtag'));
});
""",
            ),
            Step(
                "Change some fields (PATCH)", "patch", "/api/companies/{cnpj}/", path_values={"cnpj": "{{cnpj}}"},
                headers={"If-Match": "{{companyEtag}}"},
                note="If-Match: the change is based on the version read (412 if someone changed it since).",
                prerequest="pm.collectionVariables.set('companyStaleEtag', pm.variables.get('companyEtag'));",
                body={
                    "trade_name": "Oficina Postman Centro", "zip_code": "01310-100", "main_activity_code": "62.01-5-01",
                },
                tests="""
const company = json();
pm.test('200 with the changes, normalised', () => {
    pm.response.to.have.status(200);
    pm.expect(company.trade_name).to.equal('Oficina Postman Centro');
    pm.expect(company.zip_code).to.equal('01310100');
    pm.expect(company.main_activity_code).to.equal('6201501');
    pm.expect(company.legal_name, 'left alone').to.equal('Oficina Postman Ltda');
});
pm.test('a new ETag', () => {
    pm.expect(pm.response.headers.get('ETag')).to.not.equal(pm.variables.get('companyStaleEtag'));
});
""" + keep_etag("companyEtag"),
            ),
            Step(
                "Change it with a stale ETag: 412", "patch", "/api/companies/{cnpj}/", path_values={"cnpj": "{{cnpj}}"},
                headers={"If-Match": "{{companyStaleEtag}}"}, body={"trade_name": "A lost update"},
                note="If-Match names the version before the PATCH: refused, nothing written.",
                tests="""
const error = json();
pm.test('412 precondition_failed', () => {
    pm.response.to.have.status(412);
    pm.expect(error.code).to.equal('precondition_failed');
});
""" + ERROR_SHAPE,
            ),
            Step(
                "Replace the editable fields (PUT)", "put", "/api/companies/{cnpj}/", path_values={"cnpj": "{{cnpj}}"},
                headers={"If-Match": "{{companyEtag}}"}, body=COMPANY_PUT,
                note="PUT replaces: an editable field left out goes back to its default. If-Match: the PATCH's ETag.",
                tests="""
const company = json();
pm.test('200 with the new values', () => {
    pm.response.to.have.status(200);
    pm.expect(company.cnpj).to.equal(pm.variables.get('cnpj'));
    pm.expect(company.legal_name).to.equal('Oficina Postman Comércio de Software Ltda');
    pm.expect(company.partners).to.have.lengthOf(1);
    pm.expect(company.email).to.equal('contato@example.com');
});
""",
            ),
            Step(
                "Its history", "get", "/api/companies/{cnpj}/history/", path_values={"cnpj": "{{cnpj}}"},
                examples={"page_size": "10"},
                tests="""
const page = json();
pm.test('200 with its versions, newest first', () => {
    pm.response.to.have.status(200);
    pm.expect(page.results).to.be.an('array').with.lengthOf(3);
    pm.expect(page.results[0].history_type).to.equal('updated');
    pm.expect(page.results[2].history_type).to.equal('created');
    pm.expect(page.results[0].actor).to.match(/^api_key:|^user:/);
});
pm.test('the PUT changed the legal name', () => {
    const change = page.results[0].changes.find((item) => item.field === 'legal_name');
    pm.expect(change, 'a legal_name change').to.be.an('object');
    pm.expect(change.new).to.equal('Oficina Postman Comércio de Software Ltda');
});
""",
            ),
            Step(
                "Find it in the list", "get", "/api/companies/",
                query={"search": "{{cnpj}}", "state": "SP"},
                examples={
                    "status": "ATIVA", "city": "São Paulo", "cnae": "6201501", "enrichment_status": "pending",
                    "updated_after": "2026-01-01T00:00:00Z", "ordering": "-updated_at", "page_size": "20",
                },
                note="Enable more filters as you like; `cursor` comes from a `next` or `previous` link.",
                tests="""
const page = json();
pm.test('200 with the company and no other', () => {
    pm.response.to.have.status(200);
    pm.expect(page.results).to.be.an('array').with.lengthOf(1);
    pm.expect(page.results[0].cnpj).to.equal(pm.variables.get('cnpj'));
    pm.expect(page.next).to.equal(null);
});
""",
            ),
            Step(
                "Refresh from the registry", "post", "/api/companies/{cnpj}/refresh/", path_values={"cnpj": "{{cnpj}}"},
                note="Queues the registry lookup (503 only when the task broker is down).",
                tests="""
const queued = json();
pm.test('202 with the task id and its status URL', () => {
    pm.response.to.have.status(202);
    pm.expect(queued.task_id).to.be.a('string').and.not.empty;
    pm.expect(queued.status).to.be.oneOf(@STATUSES@);
    pm.expect(queued.status_url).to.match(new RegExp('/api/tasks/' + queued.task_id + '/$'));
    pm.expect(pm.response.headers.get('Location')).to.equal(queued.status_url);
});
pm.collectionVariables.set('companyTaskId', queued.task_id || '');
""".replace("@STATUSES@", STATUSES_JS),
            ),
            Step(
                "Refresh task status", "get", "/api/tasks/{task_id}/", path_values={"task_id": "{{companyTaskId}}"},
                tests=task_status_tests(
                    "companyTaskId", "companies.enrich",
                    "        pm.expect(task.result.cnpj).to.equal(pm.variables.get('cnpj'));\n"
                    "        pm.expect(task.result.enrichment_status).to.be.oneOf"
                    "(['pending', 'ok', 'not_found', 'failed']);",
                ),
            ),
            Step(
                "Push to Pipefy", "post", "/api/companies/{cnpj}/pipefy/", path_values={"cnpj": "{{cnpj}}"},
                note="202 queued; 200 when it has a card already; 409 when Pipefy is not configured here.",
                tests="""
const answer = json();
pm.test('202 queued, 200 with its card, or 409 pipefy_not_configured', () => {
    pm.expect(pm.response.code).to.be.oneOf([200, 202, 409]);
    if (pm.response.code === 202) {
        pm.expect(answer.task_id).to.be.a('string').and.not.empty;
    } else if (pm.response.code === 200) {
        pm.expect(answer.pipefy_card_id).to.be.a('string').and.not.empty;
    } else {
        pm.expect(answer.code).to.equal('pipefy_not_configured');
    }
});
""",
            ),
        ],
    ),
    Folder(
        "Registry",
        "The enrichment backlog's figures, and a registry lookup of the company's CNPJ (stores nothing). "
        "The lookup asks the outside providers: 404 or 503 when they do not know the CNPJ or cannot "
        "be reached.",
        [
            Step(
                "The enrichment backlog", "get", "/api/enrichment/",
                tests="""
const figures = json();
pm.test('200 with the counts, the pace and the providers', () => {
    pm.response.to.have.status(200);
    ['pending', 'in_progress', 'ok', 'not_found', 'failed', 'queued'].forEach((name) => {
        pm.expect(figures[name], name).to.be.a('number');
    });
    pm.expect(figures.providers).to.be.an('object');
    pm.expect(figures.pipefy).to.be.an('object');
});
""",
            ),
            Step(
                "Look the CNPJ up in the registry", "get", "/api/registry/{cnpj}/", path_values={"cnpj": "{{cnpj}}"},
                note="200 the record; 404 no provider knows it (a random CNPJ); 503 + Retry-After when a "
                "provider could not be asked (offline, rate limited).",
                tests="""
const answer = json();
pm.test('200 the record, 404 unknown, or 503 providers unavailable', () => {
    pm.expect(pm.response.code).to.be.oneOf([200, 404, 503]);
    if (pm.response.code === 200) {
        pm.expect(answer.cnpj).to.equal(pm.variables.get('cnpj'));
        pm.expect(answer.fetched_at).to.be.a('string');
    } else {
        pm.expect(answer.type).to.be.oneOf(['client_error', 'server_error']);
    }
    if (pm.response.code === 503) {
        pm.response.to.have.header('Retry-After');
    }
});
""",
            ),
        ],
    ),
    Folder(
        "Books",
        "Add a book with a new ISBN-13 (kept in `isbn`, its id in `bookId`), read it, change it, find it, "
        "archive and restore it, its history; then import a JSON-lines file with another new book and "
        "follow the import task.",
        [
            Step(
                "Add a book", "post", "/api/books/", body=BOOK_JSON, prerequest=new_isbn("isbn"),
                tests="""
const book = json();
pm.test('201 with the book', () => {
    pm.response.to.have.status(201);
    pm.expect(book.id).to.match(/^[0-9a-f]{24}$/);
    pm.expect(book.isbn).to.equal(pm.variables.get('isbn'));
    pm.expect(book.isbn10).to.have.lengthOf(10);
    pm.expect(book.published_date).to.equal('2024-05');
    pm.expect(book.archived_at).to.equal(null);
});
pm.test('Location is the book', () => {
    pm.expect(pm.response.headers.get('Location')).to.equal(book.url);
});
pm.collectionVariables.set('bookId', book.id || '');
""",
            ),
            Step(
                "Add the same ISBN again: 409", "post", "/api/books/", body=BOOK_JSON,
                tests="""
const error = json();
pm.test('409 pointing at the stored book', () => {
    pm.response.to.have.status(409);
    pm.expect(error.code).to.equal('duplicate_isbn');
    pm.expect(error.existing_id).to.equal(pm.variables.get('bookId'));
    pm.expect(error.existing_archived).to.equal(false);
});
""" + ERROR_SHAPE,
            ),
            Step(
                "Read the book", "get", "/api/books/{id}/", path_values={"id": "{{bookId}}"},
                examples={"include_archived": "true"},
                tests="""
const book = json();
pm.test('200 with the book', () => {
    pm.response.to.have.status(200);
    pm.expect(book.id).to.equal(pm.variables.get('bookId'));
    pm.expect(book.title).to.equal('The Postman Workflow');
    pm.expect(book.tags).to.eql(['postman', 'workflow']);
});
""" + keep_etag("bookEtag"),
            ),
            Step(
                "Change some fields (PATCH)", "patch", "/api/books/{id}/", path_values={"id": "{{bookId}}"},
                headers={"If-Match": "{{bookEtag}}"},
                body={"subtitle": "Values carried between requests", "tags": ["Postman", "Workflow", "Newman"]},
                tests="""
const book = json();
pm.test('200 with the changes (tags lower-cased)', () => {
    pm.response.to.have.status(200);
    pm.expect(book.subtitle).to.equal('Values carried between requests');
    pm.expect(book.tags).to.eql(['postman', 'workflow', 'newman']);
    pm.expect(book.page_count, 'left alone').to.equal(212);
});
""" + keep_etag("bookEtag"),
            ),
            Step(
                "Replace the book (PUT)", "put", "/api/books/{id}/", path_values={"id": "{{bookId}}"},
                headers={"If-Match": "{{bookEtag}}"}, body=BOOK_PUT,
                note="PUT replaces: an optional field left out goes back to its default. If-Match: the PATCH's ETag.",
                tests="""
const book = json();
pm.test('200 with the new values', () => {
    pm.response.to.have.status(200);
    pm.expect(book.subtitle).to.equal('Second edition');
    pm.expect(book.authors).to.eql(['Ada Exemplo', 'Grace Exemplo']);
    pm.expect(book.published_date).to.equal('2025-02-14');
    pm.expect(book.page_count).to.equal(240);
});
""",
            ),
            Step(
                "Find it in the list", "get", "/api/books/", query={"isbn": "{{isbn}}"},
                examples={
                    "author": "Ada Exemplo", "tag": "postman", "language": "en", "search": "postman",
                    "published_after": "2020", "published_before": "2025-12", "ordering": "-published_date",
                    "include_archived": "true", "page_size": "20",
                },
                note="Enable more filters as you like; `cursor` comes from a `next` or `previous` link.",
                tests="""
const page = json();
pm.test('200 with the book and no other', () => {
    pm.response.to.have.status(200);
    pm.expect(page.results).to.be.an('array').with.lengthOf(1);
    pm.expect(page.results[0].id).to.equal(pm.variables.get('bookId'));
    pm.expect(page.next).to.equal(null);
});
""",
            ),
            Step(
                "Archive the book (DELETE)", "delete", "/api/books/{id}/", path_values={"id": "{{bookId}}"},
                note="Books are archived, never removed: it leaves lists and reads and can be restored.",
                tests="""
pm.test('204: archived', () => {
    pm.response.to.have.status(204);
});
""",
            ),
            Step(
                "Read the archived book", "get", "/api/books/{id}/", path_values={"id": "{{bookId}}"},
                query={"include_archived": "true"},
                tests="""
const book = json();
pm.test('200 with archived_at set', () => {
    pm.response.to.have.status(200);
    pm.expect(book.id).to.equal(pm.variables.get('bookId'));
    pm.expect(book.archived_at).to.be.a('string');
});
""",
            ),
            Step(
                "Restore the book", "post", "/api/books/{id}/restore/", path_values={"id": "{{bookId}}"},
                tests="""
const book = json();
pm.test('200: back in the catalogue', () => {
    pm.response.to.have.status(200);
    pm.expect(book.id).to.equal(pm.variables.get('bookId'));
    pm.expect(book.archived_at).to.equal(null);
});
""",
            ),
            Step(
                "Its history", "get", "/api/books/{id}/history/", path_values={"id": "{{bookId}}"},
                examples={"page_size": "10"},
                tests="""
const page = json();
pm.test('200 with every change, newest first', () => {
    pm.response.to.have.status(200);
    pm.expect(page.results.map((version) => version.history_type))
        .to.eql(['restored', 'archived', 'updated', 'updated', 'created']);
    pm.expect(page.results[0].actor).to.match(/^api_key:|^user:/);
});
""",
            ),
            Step(
                "Import a JSON-lines file", "post", "/api/books/import/", body=IMPORT_BODY,
                prerequest=new_isbn("importIsbn"),
                note="One book with a new ISBN (`importIsbn`), sent as a multipart `file` part written out in "
                "the body (Postman attaches files only from disk). To import your own file, switch the body "
                "to form-data with a `file` field of type File.",
                tests="""
const queued = json();
pm.test('202 with the import task', () => {
    pm.response.to.have.status(202);
    pm.expect(queued.task_id).to.be.a('string').and.not.empty;
    pm.expect(queued.status).to.be.oneOf(@STATUSES@);
});
pm.collectionVariables.set('importTaskId', queued.task_id || '');
""".replace("@STATUSES@", STATUSES_JS),
            ),
            Step(
                "Import task status", "get", "/api/tasks/{task_id}/", path_values={"task_id": "{{importTaskId}}"},
                tests=task_status_tests(
                    "importTaskId", "books.import_books",
                    "        pm.expect(task.result.rows).to.equal(1);\n"
                    "        pm.expect(task.result.created).to.equal(1);\n"
                    "        pm.expect(task.result.invalid).to.equal(0);",
                ),
            ),
        ],
    ),
]

VARIABLES = [
    ("baseUrl", "http://127.0.0.1:5000", "The API's address (`make run` serves http://127.0.0.1:5000)."),
    ("apiKey", "", "A full-access API key, sent as X-API-Key (`make run` prints one)."),
    ("username", "", "Optional: a user's name; with `password`, the JWT folder runs."),
    ("password", "", "Optional: that user's password."),
    ("accessToken", "", "Set by the JWT folder: the bearer token."),
    ("refreshToken", "", "Set by the JWT folder."),
    ("cnpj", "", "Set by 'Add a company': a new CNPJ on every run."),
    ("companyEtag", "", "Set by 'Read the company' and the PATCH: the version held (ETag)."),
    ("companyStaleEtag", "", "Set by the company PATCH: the version before it."),
    ("companyTaskId", "", "Set by 'Refresh from the registry'."),
    ("isbn", "", "Set by 'Add a book': a new ISBN-13 on every run."),
    ("bookId", "", "Set by 'Add a book'."),
    ("bookEtag", "", "Set by 'Read the book' and the PATCH: the version held (ETag)."),
    ("importIsbn", "", "Set by 'Import a JSON-lines file': the imported book's ISBN."),
    ("importTaskId", "", "Set by 'Import a JSON-lines file'."),
]


# --- building -----------------------------------------------------------------------------------------
def stable_id(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "postman-workflow/" + "/".join(parts)))


def _operation(schema: dict, step: Step) -> dict:
    operation = schema["paths"].get(step.path, {}).get(step.method)
    if operation is None:
        raise ValueError(f"{step.name}: {step.method.upper()} {step.path} is not an operation of the schema")
    return operation


def _parameters(schema: dict, operation: dict, where: str) -> list[dict]:
    found = []
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = schema["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[-1]]
        if parameter["in"] == where:
            found.append(parameter)
    return found


def _url(schema: dict, operation: dict, step: Step) -> dict:
    segments = [f":{s[1:-1]}" if s.startswith("{") and s.endswith("}") else s for s in step.path.split("/")[1:]]
    path_parameters = {p["name"]: p for p in _parameters(schema, operation, "path")}
    if set(path_parameters) != set(step.path_values):
        raise ValueError(f"{step.name}: path values {sorted(step.path_values)} != {sorted(path_parameters)}")
    variables = [
        {"key": name, "value": value, "description": path_parameters[name].get("description", "")}
        for name, value in step.path_values.items()
    ]
    query_parameters = {p["name"]: p for p in _parameters(schema, operation, "query")}
    if unknown := (set(step.query) | set(step.examples)) - set(query_parameters):
        raise ValueError(f"{step.name}: query parameters {sorted(unknown)} are not in the schema")
    query = []
    for name in sorted(query_parameters, key=lambda n: (n not in step.query, n)):
        parameter = query_parameters[name]
        entry = {"key": name, "value": step.query.get(name, step.examples.get(name, ""))}
        if name not in step.query:
            entry["disabled"] = True
        if parameter.get("description"):
            entry["description"] = parameter["description"]
        query.append(entry)
    raw = "{{baseUrl}}/" + "/".join(segments)
    if step.query:
        raw += "?" + "&".join(f"{name}={value}" for name, value in step.query.items())
    return {"raw": raw, "host": ["{{baseUrl}}"], "path": segments, "query": query, "variable": variables}


def _auth(step: Step) -> dict | None:
    if step.auth == "none":
        return {"type": "noauth"}
    if step.auth == "bearer":
        return {"type": "bearer", "bearer": [{"key": "token", "value": "{{accessToken}}", "type": "string"}]}
    return None


def _request(schema: dict, folder: Folder, step: Step) -> dict:
    operation = _operation(schema, step)
    description = operation.get("summary", "")
    if operation.get("description"):
        description += "\n\n" + operation["description"]
    if step.note:
        description += "\n\n" + step.note
    request: dict = {"method": step.method.upper(), "header": [], "url": _url(schema, operation, step)}
    header_parameters = {p["name"].lower() for p in _parameters(schema, operation, "header")}
    for name, value in step.headers.items():
        if name.lower() not in header_parameters:
            raise ValueError(f"{step.name}: header {name} is not a parameter of the schema")
        request["header"].append({"key": name, "value": value})
    auth = _auth(step)
    if auth:
        request["auth"] = auth
    if isinstance(step.body, str):
        content = operation.get("requestBody", {}).get("content", {})
        if "multipart/form-data" not in content:
            raise ValueError(f"{step.name}: the schema takes no multipart body")
        request["header"].append({"key": "Content-Type", "value": f"multipart/form-data; boundary={BOUNDARY}"})
        request["body"] = {"mode": "raw", "raw": step.body}
    elif step.body is not None:
        if "application/json" not in operation.get("requestBody", {}).get("content", {}):
            raise ValueError(f"{step.name}: the schema takes no JSON body")
        request["header"].append({"key": "Content-Type", "value": "application/json"})
        request["body"] = {
            "mode": "raw",
            "raw": json.dumps(step.body, indent=2, ensure_ascii=False),
            "options": {"raw": {"language": "json"}},
        }
    request["description"] = description
    events = []
    if step.prerequest:
        events.append({"listen": "prerequest", "script": {"type": "text/javascript", "exec": js(step.prerequest)}})
    events.append(
        {"listen": "test", "script": {"type": "text/javascript", "exec": [JSON_HELPER, *js(step.tests)]}}
    )
    return {
        "id": stable_id(folder.name, step.name),
        "name": step.name,
        "event": events,
        "request": request,
        "response": [],
    }


def build_collection(schema: dict) -> dict:
    folders = []
    for folder in FOLDERS:
        item = {
            "id": stable_id(folder.name),
            "name": folder.name,
            "description": folder.description,
            "item": [_request(schema, folder, step) for step in folder.steps],
        }
        if folder.prerequest:
            item["event"] = [
                {"listen": "prerequest", "script": {"type": "text/javascript", "exec": js(folder.prerequest)}}
            ]
        folders.append(item)
    info = schema["info"]
    return {
        "info": {
            "_postman_id": stable_id("collection"),
            "name": info["title"],
            "description": info.get("description", "") + "\n\n" + DESCRIPTION,
            "version": info.get("version", ""),
            "schema": POSTMAN_SCHEMA,
        },
        "auth": {
            "type": "apikey",
            "apikey": [
                {"key": "key", "value": "X-API-Key", "type": "string"},
                {"key": "value", "value": "{{apiKey}}", "type": "string"},
                {"key": "in", "value": "header", "type": "string"},
            ],
        },
        "variable": [
            {"key": key, "value": value, "type": "string", "description": description}
            for key, value, description in VARIABLES
        ],
        "item": folders,
    }


def render(schema_path: Path = SCHEMA) -> str:
    schema = yaml.safe_load(schema_path.read_text())
    return json.dumps(build_collection(schema), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    output = Path(argv[1]) if len(argv) > 1 else OUTPUT
    output.write_text(render())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
