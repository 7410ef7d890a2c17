import pytest

from integrations.testing import clean_integrations, fake, fake_settings, forget_shared_state  # noqa: F401


@pytest.fixture(autouse=True)
def fresh_guards():
    """Start every test with no rate limit, cooldown, breaker or cached lookup left over."""
    forget_shared_state()
    yield
    forget_shared_state()
