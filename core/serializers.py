"""What every input serializer shares: a body key that is not a writable field is refused, and
each value is checked for its JSON type only (the rules on values are the services')."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
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


def shape_checked(serializer: serializers.Serializer, data: Mapping[str, Any]) -> dict:
    """The writable values of `data`, each checked only for the JSON type of its field (text may
    come as a number, as DRF's CharField reads it): a missing required field, a wrong type or a
    null where none is allowed is a ValidationError naming the field. The rules on the values
    are the service's, which the view calls next; the declared fields also describe the body in
    the OpenAPI schema."""
    values, errors = {}, {}
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        if name in data:
            try:
                values[name] = _shape(field, data[name])
            except serializers.ValidationError as exc:
                errors[name] = exc.detail
        elif serializer.partial:
            continue
        elif field.required:
            errors[name] = [serializers.ErrorDetail(field.error_messages["required"], code="required")]
        elif field.default is not serializers.empty:
            values[name] = field.get_default()
    if errors:
        raise serializers.ValidationError(errors)
    return values


def _shape(field: serializers.Field, value):
    if value is None:
        if field.allow_null:
            return None
        raise serializers.ValidationError(field.error_messages["null"], code="null")
    if isinstance(field, serializers.BooleanField):
        return field.run_validation(value)
    if isinstance(field, serializers.ListField):
        if not isinstance(value, list):
            message = field.error_messages["not_a_list"].format(input_type=type(value).__name__)
            raise serializers.ValidationError(message, code="not_a_list")
        return value
    numeric = isinstance(field, (serializers.DecimalField, serializers.IntegerField))
    textual = isinstance(field, serializers.CharField)
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal) if numeric or textual else str):
        expected = "a number" if numeric else "text"
        raise serializers.ValidationError(f"Send {expected}.", code="invalid")
    if numeric:
        return value
    if textual and not field.allow_blank and not str(value).strip():
        raise serializers.ValidationError(field.error_messages["blank"], code="blank")
    return str(value)
