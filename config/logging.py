"""Logging pieces: one access line per request, and redaction of secrets from every record."""

from __future__ import annotations

import logging
import re
import time

from django.conf import settings

access_logger = logging.getLogger("api.access")

REDACTED = "[REDACTED]"
SECRET_PATTERNS = (
    # JSON Web Tokens (header.payload.signature, base64url, header starts with {" -> eyJ).
    re.compile(r"eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]{5,}"),
    # API keys as issued here: 8-character prefix, a dot, 32-character secret.
    re.compile(r"\b[A-Za-z0-9]{8}\.[A-Za-z0-9]{32}\b"),
    # "Bearer <anything>" in headers that ended up in a message.
    re.compile(r"(?i)(bearer\s+)[^\s\"',]+"),
    # key=value / "key": "value" for names that hold secrets.
    re.compile(
        r"(?i)((?:password|passwd|secret|token|access|refresh|api[_-]?key|authorization)"
        r"[\"']?\s*[:=]\s*[\"']?)([^\s\"',&}]+)"
    ),
)


def redact(text: str) -> str:
    for pattern in SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.lastindex else "") + REDACTED, text)
    configured = getattr(settings, "API_KEY", "")
    if configured:
        text = text.replace(configured, REDACTED)
    return text


_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class RedactSecrets(logging.Filter):
    """Rewrites each record's message, extra fields (e.g. SQL parameters) and traceback with
    secrets replaced: JSON output includes extra fields, so they are cleaned too."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in list(vars(record).items()):
            if name in _STANDARD_ATTRIBUTES or value is None or isinstance(value, (bool, int, float)):
                continue
            text = value if isinstance(value, str) else repr(value)
            cleaned = redact(text)
            if cleaned != text:
                setattr(record, name, cleaned)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = str(record.msg)
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class AccessLogMiddleware:
    """One line per request: method, path (no query string: it may carry secrets), status, time."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        if access_logger.isEnabledFor(logging.INFO) and not request.path.startswith("/static/"):
            elapsed_ms = (time.perf_counter() - started) * 1000
            access_logger.info(
                "%s %s %s %.1fms",
                request.method,
                request.path,
                response.status_code,
                elapsed_ms,
                extra={"status": response.status_code, "duration_ms": round(elapsed_ms, 1)},
            )
        return response
