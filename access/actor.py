"""Who is acting right now (user, API key, task, command), for history records and logs."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

from django.utils.translation import gettext

_actor: ContextVar[str | None] = ContextVar("actor", default=None)


def current_actor() -> str | None:
    return _actor.get()


def set_actor(label: str | None) -> Token:
    return _actor.set(label)


def reset_actor(token: Token) -> None:
    _actor.reset(token)


@contextmanager
def acting_as(label: str) -> Iterator[None]:
    """Attribute every change made inside the block to `label` (e.g. "command:import_companies")."""
    token = _actor.set(label)
    try:
        yield
    finally:
        _actor.reset(token)


def user_label(user) -> str:
    return f"user:{user.get_username()}"


def actor_in_words(label: str, *, user=None) -> str:
    """The actor of a history row as staff read it: a person's name, "API key <name>",
    "task <name>", "command <name>", "registry provider <name>". `user`, when known, gives the
    person's full name."""
    kind, _, name = (label or "").partition(":")
    if kind == "user":
        full_name = user.get_full_name().strip() if user is not None else ""
        return f"{full_name} ({name})" if full_name else name
    words = {
        "api_key": gettext("API key %(name)s"),
        "task": gettext("task %(name)s"),
        "command": gettext("command %(name)s"),
        "provider": gettext("registry provider %(name)s"),
    }
    if kind in words and name:
        return words[kind] % {"name": name}
    if not label or label == "system":
        return gettext("the system")
    return label
