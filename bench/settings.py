"""Benchmark settings: PRODUCTION settings plus the bench-only URLs (ceiling and naive peer)."""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
