"""The publication date value: a full date, a year and month, or a year only.

Stored as two fields: `published_date` (a real date, the first day of the period, so sorting
and range filters work on the database) and `published_date_precision` (day, month or year),
which gives back the text the publisher printed: "1999-06-15", "1999-06" or "1999".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Precision(models.TextChoices):
    DAY = "day", _("Day")
    MONTH = "month", _("Month")
    YEAR = "year", _("Year")


_PATTERN = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{1,2})(?:-(?P<day>\d{1,2}))?)?$")
MIN_YEAR = 1000


@dataclass(frozen=True, order=True)
class PartialDate:
    start: date
    precision: str

    @classmethod
    def parse(cls, text) -> PartialDate:
        if isinstance(text, PartialDate):
            return text
        if isinstance(text, date):
            return cls(text, Precision.DAY)
        match = _PATTERN.match(str(text).strip())
        if not match:
            raise ValidationError(
                _("Use YYYY-MM-DD, YYYY-MM or YYYY."), code="invalid_date", params={"value": text}
            )
        year, month, day = (int(match[name]) if match[name] else None for name in ("year", "month", "day"))
        if year < MIN_YEAR:
            raise ValidationError(_("The year must be %(year)d or later.") % {"year": MIN_YEAR}, code="invalid_date")
        try:
            start = date(year, month or 1, day or 1)
        except ValueError:
            raise ValidationError(_("This date does not exist."), code="invalid_date") from None
        precision = Precision.DAY if day else Precision.MONTH if month else Precision.YEAR
        return cls(start, precision)

    @property
    def end(self) -> date:
        """The first day after the period (exclusive upper bound)."""
        if self.precision == Precision.DAY:
            return date.fromordinal(self.start.toordinal() + 1)
        if self.precision == Precision.MONTH:
            year, month = divmod(self.start.month, 12)
            return date(self.start.year + year, month + 1, 1)
        return date(self.start.year + 1, 1, 1)

    def __str__(self) -> str:
        if self.precision == Precision.YEAR:
            return f"{self.start.year:04d}"
        if self.precision == Precision.MONTH:
            return f"{self.start.year:04d}-{self.start.month:02d}"
        return self.start.isoformat()
