"""ISO 639-1 language codes (two letters), from pycountry's copy of the ISO tables."""

from functools import cache

import pycountry
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


@cache
def language_codes() -> frozenset[str]:
    return frozenset(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))


def normalize_language(value: str) -> str:
    code = (value or "").strip().lower()
    if code and code not in language_codes():
        raise ValidationError(
            _("“%(value)s” is not an ISO 639-1 language code (two letters, such as en or pt).") % {"value": value},
            code="invalid_language",
        )
    return code


def validate_language(value: str) -> None:
    normalize_language(value)
