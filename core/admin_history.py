"""The admin's history pages in plain words: when (in the display time zone), who, and each
changed field as "label: old → new", formatted for reading. Shared by every tracked model's admin;
which fields changed comes from each app's own history selector."""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format, number_format
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

EMPTY = "—"
LIST_ITEMS_SHOWN = 5
TEXT_CHARS_SHOWN = 200
# simple-history's history_type, and the kinds the books' history selector adds.
HISTORY_TYPES = {"+": "created", "~": "changed", "-": "deleted"}
KINDS = {
    "created": _("Created"),
    "changed": _("Changed"),
    "deleted": _("Deleted"),
    "archived": _("Archived"),
    "restored": _("Restored"),
}

Formatter = Callable[[Any], str]


@dataclass(frozen=True)
class ChangeLine:
    name: str
    label: str
    old: str | None  # None: the record was created with this value, there was no old one
    new: str


@dataclass(frozen=True)
class HistoryRow:
    when: datetime.datetime
    kind: str  # created, changed, ...: the CSS class of the row
    actor: str  # in words (access.actor.actor_in_words)
    changes: list[ChangeLine] = field(default_factory=list)
    url: str = ""  # the version's own page, when the admin has one

    @property
    def kind_text(self) -> str:
        return str(KINDS.get(self.kind, self.kind))


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def value_text(model_field: models.Field, value: Any, *, formatter: Formatter | None = None) -> str:
    """A stored value as staff read it. Dates and numbers follow the active language's formats,
    times the current time zone; lists show their first items; long text is cut short."""
    if is_empty(value):
        return EMPTY
    if formatter is not None:
        return formatter(value)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, models.BooleanField):
        return gettext("Yes") if value else gettext("No")
    if isinstance(model_field, models.DateTimeField):
        moment = parse_datetime(value) if isinstance(value, str) else value
        if moment is None:
            return str(value)
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return date_format(moment, "SHORT_DATETIME_FORMAT")
    if isinstance(model_field, models.DateField):
        day = parse_date(value) if isinstance(value, str) else value
        return date_format(day, "SHORT_DATE_FORMAT") if day else str(value)
    if isinstance(model_field, models.DecimalField):
        try:
            number = decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            return str(value)
        return number_format(number, decimal_pos=model_field.decimal_places, force_grouping=True)
    if isinstance(value, (list, tuple)):
        return list_text(value, item_text=_item_text)
    if isinstance(value, Mapping):
        return ngettext("%(count)d entry", "%(count)d entries", len(value)) % {"count": len(value)}
    return Truncator(str(value)).chars(TEXT_CHARS_SHOWN)


def list_text(items: Iterable[Any], *, item_text: Formatter) -> str:
    """The first items, "; " between them, and how many more there are."""
    items = list(items)
    shown = "; ".join(item_text(item) for item in items[:LIST_ITEMS_SHOWN])
    hidden = len(items) - LIST_ITEMS_SHOWN
    if hidden > 0:
        shown += " " + ngettext("and %(count)d more", "and %(count)d more", hidden) % {"count": hidden}
    return shown


def _item_text(item: Any) -> str:
    if isinstance(item, Mapping):
        return " · ".join(str(value) for value in item.values() if not is_empty(value)) or EMPTY
    return Truncator(str(item)).chars(TEXT_CHARS_SHOWN)


def changes_in_words(
    model: type[models.Model],
    changes: Iterable[tuple[str, Any, Any]],
    *,
    created: bool = False,
    formatters: Mapping[str, Formatter] | None = None,
) -> list[ChangeLine]:
    """(field name, old, new) triples as lines labelled with each field's verbose name. For a
    creation only the new values are shown."""
    formatters = formatters or {}
    lines = []
    for name, old, new in changes:
        model_field = model._meta.get_field(name)
        formatter = formatters.get(name)
        lines.append(
            ChangeLine(
                name=name,
                label=capfirst(str(model_field.verbose_name)),
                old=None if created else value_text(model_field, old, formatter=formatter),
                new=value_text(model_field, new, formatter=formatter),
            )
        )
    return lines
