"""The CNPJ value: normalise raw or formatted input, validate it, format it for display.

A CNPJ is 14 characters: an 8-character company root, a 4-character branch (`0001` is the head
office) and 2 numeric check digits. From July 2026 the first 12 positions may also be letters
(IN RFB 2.229/2024). `python-stdnum` implements both forms; this module adds the one thing callers
need on top of it: an error that says *what* is wrong (format, length or check digits).
"""

from __future__ import annotations

import operator
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.br import cnpj as stdnum_cnpj
from stdnum.exceptions import ValidationError as StdnumValidationError

LENGTH = 14
ROOT_LENGTH = 8
HEAD_OFFICE_BRANCH = "0001"

# What is stored: 12 base characters (digits or upper-case letters) and 2 numeric check digits.
COMPACT_PATTERN = r"^[0-9A-Z]{12}[0-9]{2}$"
_COMPACT_RE = re.compile(r"[0-9A-Z]{12}[0-9]{2}")
_CHARACTERS_RE = re.compile(r"[0-9A-Z]*")
_ALL_ZERO_BASE = "0" * 12
_SEPARATORS = str.maketrans("", "", " ./-")
_WEIGHTS_1 = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
_WEIGHTS_2 = (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)

FORMAT = "format"
LENGTH_ERROR = "length"
CHECK_DIGITS = "check_digits"
CHECK_DIGITS_MESSAGE = _("The CNPJ check digits do not match; check for a typing error.")


class InvalidCNPJ(ValueError):
    """Why a string is not a CNPJ. `reason` is one of "format", "length", "check_digits"."""

    codes = {FORMAT: "invalid_format", LENGTH_ERROR: "invalid_length", CHECK_DIGITS: "invalid_check_digits"}

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message

    @property
    def code(self) -> str:
        return self.codes[self.reason]


def compact(value: str) -> str:
    """Strip separators (`.`, `/`, `-`, spaces) and upper-case; no validation."""
    return stdnum_cnpj.compact(value)


def _check_digits(base: str) -> str:
    # stdnum's calc_check_digits without its re-compaction of the input: the bulk import calls
    # this once per row. The tests check both agree.
    values = [ord(character) - 48 for character in base]
    first = (11 - sum(map(operator.mul, _WEIGHTS_1, values))) % 11 % 10
    values.append(first)
    second = (11 - sum(map(operator.mul, _WEIGHTS_2, values))) % 11 % 10
    return f"{first}{second}"


def normalize(value) -> str:
    """Return the 14-character compact upper-case CNPJ, or raise InvalidCNPJ saying why not."""
    if isinstance(value, str):
        # Fast path for the usual raw or formatted ASCII input; anything else takes the long way.
        number = value.translate(_SEPARATORS).upper()
        if _COMPACT_RE.fullmatch(number) and not number.startswith(_ALL_ZERO_BASE):
            if _check_digits(number[:12]) != number[12:]:
                raise InvalidCNPJ(CHECK_DIGITS, CHECK_DIGITS_MESSAGE)
            return number
    return _normalize_slowly(value)


def _normalize_slowly(value) -> str:
    if not isinstance(value, str):
        raise InvalidCNPJ(FORMAT, _("A CNPJ must be a string."))
    try:
        number = compact(value)
    except StdnumValidationError as exc:
        raise InvalidCNPJ(FORMAT, _("A CNPJ may contain only letters, digits and . / - separators.")) from exc
    if not number:
        raise InvalidCNPJ(FORMAT, _("A CNPJ is required."))
    if not _CHARACTERS_RE.fullmatch(number):
        raise InvalidCNPJ(FORMAT, _("A CNPJ may contain only letters, digits and . / - separators."))
    if len(number) != LENGTH:
        raise InvalidCNPJ(
            LENGTH_ERROR,
            _("A CNPJ has %(length)d characters; this one has %(given)d.") % {"length": LENGTH, "given": len(number)},
        )
    if not number[12:].isdigit():
        raise InvalidCNPJ(FORMAT, _("The last two characters of a CNPJ (the check digits) must be digits."))
    if number.startswith(_ALL_ZERO_BASE):
        raise InvalidCNPJ(FORMAT, _("A CNPJ cannot have an all-zero base."))
    if stdnum_cnpj.calc_check_digits(number) != number[12:]:
        raise InvalidCNPJ(CHECK_DIGITS, CHECK_DIGITS_MESSAGE)
    return number


def is_valid(value) -> bool:
    try:
        normalize(value)
    except InvalidCNPJ:
        return False
    return True


def format_cnpj(value: str) -> str:
    """`12345678000195` -> `12.345.678/0001-95` (also for the alphanumeric form)."""
    return stdnum_cnpj.format(value)


def root(value: str) -> str:
    return value[:ROOT_LENGTH]


def is_head_office(value: str) -> bool:
    return value[ROOT_LENGTH:12] == HEAD_OFFICE_BRANCH


def check_digits(base: str) -> str:
    """The two check digits for a 12-character base (digits or letters)."""
    return stdnum_cnpj.calc_check_digits(base)


def validate_cnpj(value) -> None:
    """Django validator for the stored (compact) form."""
    if not isinstance(value, str) or not _COMPACT_RE.fullmatch(value):
        raise ValidationError(
            _("Store a CNPJ in its 14-character compact upper-case form."), code="invalid_format"
        )
    try:
        normalize(value)
    except InvalidCNPJ as exc:
        raise ValidationError(exc.message, code=exc.code) from exc
