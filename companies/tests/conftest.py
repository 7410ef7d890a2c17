import pytest

from companies import cache as company_cache
from integrations.testing import clean_integrations, fake, fake_settings  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_company_cache():
    """Each test starts with no cached company answers (the Redis server is shared by the run)."""
    company_cache.clear()
    yield
