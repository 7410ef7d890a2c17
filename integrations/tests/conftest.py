import pytest

from integrations.cnpj.chain import PROVIDERS
from integrations.guard import guard_reset


@pytest.fixture(autouse=True)
def fresh_guards():
    """Rate limits, cooldowns and breakers live in the shared Redis: start every test clean."""
    guard_reset(*PROVIDERS, "pipefy")
    yield
    guard_reset(*PROVIDERS, "pipefy")
