"""Conditional requests: strong ETags on detail answers, `If-None-Match` (304) and `If-Match`
(412 when the version the client holds is not the current one, so a lost update is refused).

The ETag is a digest of the answer's bytes: it changes exactly when the representation does,
whatever wrote the change, and needs nothing but the answer (no version store that could be
evicted or down). Writes check `If-Match` against the stored state under the write's own lock
(the row lock for companies, the book's write lock), so of two writes sent with the same ETag
only the first lands.
"""

from __future__ import annotations

import hashlib

from django.http import HttpResponse
from rest_framework import exceptions, status


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = (
        "The resource changed since the version in If-Match; read it again (GET) and retry with its ETag."
    )
    default_code = "precondition_failed"


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def not_modified(request, etag: str) -> bool:
    """`If-None-Match` names this ETag (weak comparison, as RFC 9110 says for it) or `*`."""
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if not header:
        return False
    tags = _tags(header)
    return "*" in tags or etag in (tag.removeprefix("W/") for tag in tags)


def check_if_match(request, current_etag: str) -> None:
    """Raise PreconditionFailed unless `If-Match` is absent, `*`, or names `current_etag` (strong
    comparison: a weak tag never matches). A header sent empty names no version: it fails, so a
    client whose ETag variable is unset does not lose the guard without noticing."""
    if "HTTP_IF_MATCH" not in request.META:
        return
    header = request.META["HTTP_IF_MATCH"]
    tags = _tags(header)
    if "*" in tags or current_etag in tags:
        return
    raise PreconditionFailed()


def has_if_match(request) -> bool:
    return "HTTP_IF_MATCH" in request.META


def json_with_etag(request, body: bytes, status_code: int = 200, **headers) -> HttpResponse:
    """The JSON answer with its ETag, or 304 (no body) when the client already holds it."""
    etag = etag_of(body)
    if status_code == 200 and not_modified(request, etag):
        response = HttpResponse(status=304)
        del response["Content-Type"]  # no body, so no type
    else:
        response = HttpResponse(body, status=status_code, content_type="application/json")
    response["ETag"] = etag
    for name, value in headers.items():
        response[name] = value
    return response


# --- the schema -------------------------------------------------------------------------------
def _schema():
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

    etag = OpenApiParameter(
        "ETag", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[200],
        description="The version of this answer (a strong validator): send it back in If-None-Match or If-Match.",
    )
    read = [
        OpenApiParameter(
            "If-None-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
            description="An ETag you hold: 304 with no body when it is still the current one.",
        ),
        etag,
    ]
    write = [
        OpenApiParameter(
            "If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
            description="The ETag your change is based on: 412 if the resource changed since (nothing is "
            "written). Without it the write is unconditional.",
        ),
        etag,
    ]
    not_modified_response = OpenApiResponse(description="Not modified: the ETag in If-None-Match is current.")
    stale_response = OpenApiResponse(description="Precondition failed: the version in If-Match is not the current one.")
    return read, write, not_modified_response, stale_response


READ_PARAMETERS, WRITE_PARAMETERS, NOT_MODIFIED, STALE = _schema()
