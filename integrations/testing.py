"""Pytest fixtures for code that talks to the outside services (import them into a test module
or a conftest): the fake upstreams on loopback, settings pointing at them, clean shared state."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from integrations.cnpj.chain import PROVIDERS
from integrations.guard import guard_reset


def forget_shared_state() -> None:
    """Rate limits, cooldowns, breakers and cached lookups live in the shared Redis."""
    guard_reset(*PROVIDERS, "pipefy")
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("registry:record:*")
        cache.delete_pattern("integrations:*")


@pytest.fixture
def clean_integrations():
    forget_shared_state()
    yield
    forget_shared_state()


@pytest.fixture
def fake():
    """The fake upstreams on a free loopback port, in this process."""
    from integrations.fake import FakeServer

    server = FakeServer(slow_seconds=0.5, retry_after=3).start()
    yield server
    server.stop()


@pytest.fixture
def fake_settings(fake, settings, clean_integrations):
    """Point every provider and Pipefy at the fake, without rate limits."""
    for name, value in fake.settings().items():
        setattr(settings, name, value)
    settings.PROVIDER_RATES = {}
    settings.PIPEFY_TOKEN = "fake-token"
    settings.PIPEFY_PIPE_ID = "1"
    settings.PIPEFY_PHASE_ID = ""
    settings.PIPEFY_AUTO_PUSH = False
    return settings
