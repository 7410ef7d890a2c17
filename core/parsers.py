"""The JSON parser every view uses: DRF's rules (UTF-8, no NaN or Infinity), plus:

- numbers with a fraction are read as `Decimal`, so `1234.56` reaches a decimal field exactly as
  sent (as a float it would be 1234.5599999999999);
- nesting too deep for the decoder is a 400;
- text that cannot be stored is a 400 naming where it is: a NUL character, or a lone UTF-16
  surrogate (`"\\ud800"` is valid JSON, but not text any database or encoder accepts).
"""

from __future__ import annotations

import codecs
import json
from decimal import Decimal

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError

NUL = "\x00"


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _problem(text: str) -> tuple[str, str] | None:
    if NUL in text:
        return "Null characters are not allowed.", "null_characters_not_allowed"
    if any("\ud800" <= character <= "\udfff" for character in text):
        return "Surrogate characters are not allowed.", "surrogate_characters_not_allowed"
    return None


def _first_bad_text(data, path: str = "") -> tuple[str, str, str] | None:
    """(where, message, code) of the first string, or key, that cannot be stored; None if none."""
    if isinstance(data, str):
        problem = _problem(data)
        return (path or "non_field_errors", *problem) if problem else None
    if isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else key
            if problem := _problem(key):
                return (path or "non_field_errors", *problem)
            if found := _first_bad_text(value, where):
                return found
    elif isinstance(data, list):
        for index, value in enumerate(data):
            if found := _first_bad_text(value, f"{path}.{index}" if path else str(index)):
                return found
    return None


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.load(
                codecs.getreader(encoding)(stream), parse_float=Decimal, parse_constant=_refuse_constant
            )
        except RecursionError:
            # A small body of nested brackets exhausts Python's recursion limit in the decoder.
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if found := _first_bad_text(data):
            where, message, code = found
            raise ValidationError({where: [message]}, code=code)
        return data
