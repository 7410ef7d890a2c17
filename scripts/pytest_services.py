"""pytest plugin: start throwaway PostgreSQL, Redis and secantusdb before Django is set up.

Loaded with `-p scripts.pytest_services` (pytest.ini). A server is started only when its URL
(`DATABASE_URL`, `REDIS_URL`, `MONGODB_URI`) is not already set, so the suite can also run
against servers someone else manages. Servers are stopped when pytest exits.
"""

from __future__ import annotations

import os

import pytest

from scripts.services import MongoServer, PostgresServer, RedisServer

STARTED: dict[str, object] = {}


def _start(name, server_class, env_name):
    if os.environ.get(env_name):
        return
    server = server_class.start()
    STARTED[name] = server
    os.environ[env_name] = server.url


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # Runs before pytest-django imports the settings, which read these URLs.
    os.environ["ENVIRONMENT"] = "TEST"
    is_worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not is_worker and not any(flag in args for flag in ("--help", "-h", "--version")):
        _start("postgres", PostgresServer, "DATABASE_URL")
        _start("redis", RedisServer, "REDIS_URL")
        _start("mongo", MongoServer, "MONGODB_URI")
    return (yield)


def pytest_unconfigure(config):
    while STARTED:
        _, server = STARTED.popitem()
        server.stop()


def started_server(name: str):
    """The server object this plugin started (for fault tests), or None when it was external."""
    return STARTED.get(name)
