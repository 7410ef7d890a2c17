import pytest
from django.core.cache import cache

from integrations.cnpj.chain import PROVIDERS
from integrations.guard import guard_reset


def _forget_shared_state():
    guard_reset(*PROVIDERS, "pipefy")
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("registry:record:*")


@pytest.fixture(autouse=True)
def fresh_guards():
    """Rate limits, cooldowns, breakers and cached lookups live in the shared Redis: start clean."""
    _forget_shared_state()
    yield
    _forget_shared_state()


@pytest.fixture
def fake():
    """The fake upstreams on a free loopback port, in this process."""
    from integrations.fake import FakeServer

    server = FakeServer(slow_seconds=0.5, retry_after=3).start()
    yield server
    server.stop()


@pytest.fixture
def fake_settings(fake, settings):
    """Point every provider and Pipefy at the fake."""
    for name, value in fake.settings().items():
        setattr(settings, name, value)
    settings.CNPJ_RATE_LIMITS = {}
    settings.PIPEFY_TOKEN = "fake-token"
    settings.PIPEFY_PIPE_ID = "1"
    settings.PIPEFY_PHASE_ID = ""
    return settings
