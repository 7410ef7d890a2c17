"""The ISBN value: accept ISBN-10 or ISBN-13 with hyphens or spaces, store ISBN-13 digits."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import isbn as stdnum_isbn
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
)
from stdnum.exceptions import ValidationError as StdnumValidationError

_REASONS = {
    InvalidChecksum: ("invalid_check_digit", _("The ISBN check digit is wrong.")),
    InvalidLength: ("invalid_length", _("An ISBN has 10 or 13 digits.")),
    InvalidFormat: ("invalid_format", _("An ISBN holds only digits (and a final X on ISBN-10).")),
    InvalidComponent: ("invalid_prefix", _("An ISBN-13 starts with 978 or 979.")),
}


def isbn13(value: str) -> str:
    """Return the 13 digits of a valid ISBN-10 or ISBN-13, or raise a ValidationError saying why."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(_("An ISBN is required."), code="required")
    try:
        compact = stdnum_isbn.validate(value)
    except StdnumValidationError as error:
        code, message = _REASONS.get(type(error), ("invalid", _("Not a valid ISBN.")))
        raise ValidationError(message, code=code) from None
    return stdnum_isbn.to_isbn13(compact)


def isbn10(value: str) -> str | None:
    """The ISBN-10 form of a stored ISBN-13, when it has one (only 978- numbers do)."""
    try:
        return stdnum_isbn.to_isbn10(value)
    except StdnumValidationError:
        return None


def isbn_display(value: str) -> str:
    """Hyphenated by registration group and publisher, as printed on books."""
    return stdnum_isbn.format(value)


def validate_isbn13(value: str) -> None:
    """Model validator: the stored value is the compact ISBN-13 form."""
    if isbn13(value) != value:
        raise ValidationError(_("Store the ISBN as 13 digits without separators."), code="not_normalized")
