"""One JSON error shape for the whole API, and the exceptions apps raise to use it.

Every 4xx/5xx under /api/ answers:
    {"type": "validation_error" | "client_error" | "server_error",
     "code": "...", "message": "...", "field": "name" | null,
     "errors": [{"field": ..., "code": ..., "message": ...}, ...]}
plus any extra keys an exception carries (for example `existing_url` on a 409).
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core import outages

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The resource already exists."
    default_code = "conflict"

    def __init__(self, detail=None, code=None, *, field=None, extra=None):
        super().__init__(detail, code)
        self.field = field
        self.extra = extra or {}


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "A backing service is unavailable; try again shortly."
    default_code = "service_unavailable"

    def __init__(self, detail=None, code=None, *, retry_after=RETRY_AFTER_SECONDS, service=None):
        super().__init__(detail, code)
        self.retry_after = retry_after
        self.extra = {"service": service} if service else {}


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than this server accepts."
    default_code = "request_too_large"


def _outage_exceptions():
    """Exceptions that mean a backing service (database, MongoDB, Redis, broker) is down."""
    outage = [OperationalError, InterfaceError]
    try:
        from pymongo.errors import ConnectionFailure, ServerSelectionTimeoutError

        outage += [ConnectionFailure, ServerSelectionTimeoutError]
    except ImportError:  # pragma: no cover
        pass
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        outage += [RedisConnectionError, RedisTimeoutError]
    except ImportError:  # pragma: no cover
        pass
    try:
        from kombu.exceptions import OperationalError as BrokerOperationalError

        outage.append(BrokerOperationalError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(outage)


OUTAGE_EXCEPTIONS = _outage_exceptions()


def cause_in(exc, types) -> BaseException | None:
    """The exception of one of `types` that is `exc` or behind it, following the cause chain
    (django-mongodb-backend, for one, re-raises pymongo's errors as a plain DatabaseError)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, types):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def outage_in(exc) -> BaseException | None:
    """The outage exception behind `exc`, if any."""
    return cause_in(exc, OUTAGE_EXCEPTIONS)


def _service_name(exc) -> str:
    module = type(exc).__module__
    if module.startswith("pymongo"):
        return "mongodb"
    if module.startswith("redis"):
        return "redis"
    if module.startswith("kombu"):
        return "broker"
    return "database"


def _flatten(detail, field=None):
    """Turn DRF's nested error detail into a flat list of {field, code, message}."""
    if isinstance(detail, dict):
        items = []
        for key, value in detail.items():
            name = None if key in ("non_field_errors", "detail") else str(key)
            path = f"{field}.{name}" if field and name else (name or field)
            items.extend(_flatten(value, path))
        return items
    if isinstance(detail, list):
        items = []
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                items.extend(_flatten(value, f"{field}.{index}" if field else str(index)))
            else:
                items.extend(_flatten(value, field))
        return items
    return [{"field": field, "code": getattr(detail, "code", None) or "invalid", "message": str(detail)}]


def error_body(*, status_code, code, message, field=None, errors=None, extra=None) -> dict:
    if status_code >= 500:
        kind = "server_error"
    elif code == "validation_error" or (status_code == 400 and errors and any(e["field"] for e in errors)):
        kind = "validation_error"
    else:
        kind = "client_error"
    body = {
        "type": kind,
        "code": code,
        "message": message,
        "field": field,
        "errors": errors or [{"field": field, "code": code, "message": message}],
    }
    body.update(extra or {})
    return body


def _body_for_api_exception(exc: exceptions.APIException) -> dict:
    detail = exc.detail
    if not isinstance(exc, exceptions.ValidationError) and isinstance(detail, dict) and "detail" in detail:
        # simplejwt's token errors: {detail, code, messages: [...]}, one error, not fields
        code = str(detail.get("code") or exc.default_code)
        detail = exceptions.ErrorDetail(str(detail["detail"]), code=code)
    errors = _flatten(detail)
    first = errors[0] if errors else {"field": None, "code": exc.default_code, "message": str(detail)}
    if isinstance(exc, exceptions.ValidationError):
        message = "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors)
        code = first["code"]
    else:
        message = first["message"]
        code = first["code"] if first["code"] != "invalid" else exc.default_code
    field = getattr(exc, "field", None) or first["field"]
    if field:  # an error about one field names it in `errors` too
        errors = [{**error, "field": error["field"] or field} for error in errors]
    return error_body(
        status_code=exc.status_code,
        code=code,
        message=message,
        field=field,
        errors=errors,
        extra=getattr(exc, "extra", None),
    )


def api_validation_error(error: DjangoValidationError) -> exceptions.ValidationError:
    """A service's ValidationError as the API's 400: each error keeps its field and its code; an
    error about one item of a list field names it as DRF names a nested serializer's error:
    `field.item.key` (params `item`, and `key` for one of its keys), or `field.index` for an
    array field's item (code `item_invalid`, params `nth` counting from 1)."""
    if not hasattr(error, "error_dict"):
        return exceptions.ValidationError([_error_detail(item) for item in error.error_list])
    detail: dict[str, list] = {}
    for name, errors in error.error_dict.items():
        for item in errors:
            params = item.params if isinstance(item.params, dict) else {}
            path = name if name != "__all__" else "non_field_errors"
            if params.get("item") is not None:
                path += f".{params['item']}" + (f".{params['key']}" if params.get("key") else "")
            elif item.code == "item_invalid" and isinstance(params.get("nth"), int):
                path += f".{params['nth'] - 1}"
            detail.setdefault(path, []).append(_error_detail(item))
    return exceptions.ValidationError(detail)


def _error_detail(error: DjangoValidationError) -> exceptions.ErrorDetail:
    return exceptions.ErrorDetail(" ".join(error.messages), code=error.code or "invalid")


SERVICE_NAMES = {"database": "database", "mongodb": "book catalogue (MongoDB)", "redis": "cache (Redis)",
                 "broker": "task queue"}


def api_exception_handler(exc, context):
    """DRF's handler, extended once: every error becomes the shape above."""
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, Http404):  # e.g. `?format=xml`, which no renderer serves
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):  # a service refusing a value: the fields at fault
        exc = api_validation_error(exc)
    elif (outage := outage_in(exc)) is not None:
        service = _service_name(outage)
        if not outages.Outage.is_refusal(outage):
            if service == "mongodb":
                outages.MONGODB.trip(outage)  # the next books requests answer 503 at once for a while
            logger.warning("backing service %s unavailable: %s", service, str(outage).splitlines()[0][:300])
        name = SERVICE_NAMES.get(service, service)
        exc = ServiceUnavailable(f"The {name} is unavailable; try again shortly.", service=service)

    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled error in API view", exc_info=exc)
        body = error_body(status_code=500, code="server_error", message="Internal server error.")
        return Response(body, status=500)

    if isinstance(exc, exceptions.APIException):
        response.data = _body_for_api_exception(exc)
    if isinstance(exc, ServiceUnavailable):
        response["Retry-After"] = str(exc.retry_after)
    return response


# --- Django-level handlers: JSON under /api/ and /health/, Django's pages elsewhere ---------

def is_api(request) -> bool:
    """API and health paths: answered in JSON, in English, with UTC times."""
    return request.path.startswith(("/api/", "/health/"))


def _json(status_code, code, message):
    return JsonResponse(error_body(status_code=status_code, code=code, message=message), status=status_code)


_STATUS_ERRORS = {
    404: ("not_found", "Not found."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    405: ("method_not_allowed", "This method is not allowed here."),
    400: ("bad_request", "Bad request."),
    500: ("server_error", "Internal server error."),
}


def json_error_for_status(status_code: int) -> JsonResponse:
    """The API's error answer for a bare status (a page Django rendered as HTML)."""
    code, message = _STATUS_ERRORS.get(status_code, ("error", "The request failed."))
    return _json(status_code, code, message)


def not_found(request, exception=None):
    if is_api(request):
        return _json(404, "not_found", "Not found.")
    from django.views import defaults

    return defaults.page_not_found(request, exception or Http404())


def server_error(request):
    if is_api(request):
        return _json(500, "server_error", "Internal server error.")
    from django.views import defaults

    return defaults.server_error(request)


def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        return _json(413, "request_too_large", "The request body is larger than this server accepts.")
    if is_api(request):
        return _json(400, "bad_request", "Bad request.")
    from django.views import defaults

    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if is_api(request):
        return _json(403, "permission_denied", "You do not have permission to perform this action.")
    from django.views import defaults

    return defaults.permission_denied(request, exception or PermissionDenied())
