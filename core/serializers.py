"""What every input serializer shares: a body key that is not a writable field is refused."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

# The stored value of a field on a resource not stored yet: equal to nothing a client sends.
NOT_STORED = object()


def not_writable_errors(data: Mapping[str, Any], *, writable, readable: Mapping[str, Any]) -> dict:
    """{key: [error]} for keys of `data` outside `writable`: `unknown` when the resource has no
    such field, `read_only` when it has one clients do not set, unless the value repeats the
    stored one in `readable` (so a client may PUT back what it read)."""
    errors = {}
    for name, value in data.items():
        if name in writable:
            continue
        if name not in readable:
            errors[name] = [serializers.ErrorDetail("Unknown field.", code="unknown")]
        elif readable[name] != value:
            errors[name] = [serializers.ErrorDetail("This field is read-only.", code="read_only")]
    return errors
