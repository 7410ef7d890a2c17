import pytest

from integrations.cnpj.chain import PROVIDERS
from integrations.guard import guard_reset


@pytest.fixture(autouse=True)
def fresh_guards():
    """Rate limits, cooldowns and breakers live in the shared Redis: start every test clean."""
    guard_reset(*PROVIDERS, "pipefy")
    yield
    guard_reset(*PROVIDERS, "pipefy")


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
