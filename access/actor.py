"""Who is acting right now (user, API key, task, command), for history records and logs."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

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
