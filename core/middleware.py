"""Request-level guards that must answer before any view runs."""

import re

from django.conf import settings
from django.http.response import HttpResponseRedirectBase
from django.middleware import common
from django.utils.http import escape_leading_slashes
from rest_framework.response import Response

from core.exceptions import error_body, json_error_for_status


class RequestSizeLimitMiddleware:
    """413 JSON for bodies over the configured size, decided from Content-Length up front.

    Django's DATA_UPLOAD_MAX_MEMORY_SIZE only guards `request.body`; DRF's parsers read the stream
    directly, so the limit is enforced here for every request. Multipart uploads (file imports)
    have their own, larger limit.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        is_upload = request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data")
        limit = settings.MAX_UPLOAD_BYTES if is_upload else settings.MAX_REQUEST_BODY_BYTES
        if length > limit:
            from django.http import JsonResponse

            message = f"The request body is {length} bytes; the limit is {limit} bytes."
            return JsonResponse(
                error_body(status_code=413, code="request_too_large", message=message), status=413
            )
        return self.get_response(request)


class PermanentRedirectKeepingMethod(HttpResponseRedirectBase):
    status_code = 308


class CommonMiddleware(common.CommonMiddleware):
    """Django's, except that a path missing its trailing slash is redirected with 308, which
    clients follow with the same method and body: a POST to `/api/companies` stays a POST (a 301
    is followed as a GET by most clients, which turned writes into reads), and the development
    server answers it too instead of raising Django's APPEND_SLASH error."""

    response_redirect_class = PermanentRedirectKeepingMethod

    def get_full_path_with_slash(self, request):
        return escape_leading_slashes(request.get_full_path(force_append_slash=True))


class ApiErrorsAsJson:
    """Under /api/ and /health/, an error page Django itself rendered as HTML (the development
    server's technical 404 for a URL no route matches, its 500 page) becomes the API's JSON error;
    with DEBUG off Django's handlers already answer JSON there. DRF's own responses (the
    browsable API included) are left as they are."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith(("/api/", "/health/"))
            and response.get("Content-Type", "").startswith("text/html")
            and not isinstance(response, Response)
        ):
            return json_error_for_status(response.status_code)
        return response


REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


class RequestIdGuard:
    """A client's X-Request-ID is used (returned and logged on every line) only when it is at most
    128 characters of [A-Za-z0-9._-]; anything else is dropped here, before django-guid, which
    then generates one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.META.get("HTTP_X_REQUEST_ID")
        if given is not None and not REQUEST_ID.fullmatch(given):
            del request.META["HTTP_X_REQUEST_ID"]
        return self.get_response(request)
