"""Signed pagination cursors: a list hands out its position as signed JSON (Django's signing, with
SECRET_KEY and a salt per list), so a cursor edited by hand, or made for another list, is refused
before any of it is read."""

from __future__ import annotations

from typing import Any

from django.core import signing


class InvalidCursor(ValueError):
    """The text is not a cursor this list gave out (edited, truncated, another list's)."""


def cursor_sign(position: dict[str, Any], *, salt: str) -> str:
    return signing.dumps(position, salt=salt)


def cursor_read(text: str, *, salt: str) -> Any:
    try:
        return signing.loads(text, salt=salt)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError) as exc:
        raise InvalidCursor(str(exc)) from exc
