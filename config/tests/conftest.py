"""Fixtures shared by the config tests."""

from config.tests.test_logging import json_log, log_output  # noqa: F401 (fixtures for other modules)
from integrations.testing import clean_integrations, fake, fake_settings  # noqa: F401 (fixtures for other modules)
