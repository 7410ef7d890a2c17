"""TEST: the suite. Real PostgreSQL, Redis and secantusdb started by scripts/pytest_services.py."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT = env.str("STATIC_ROOT", default="") or None  # served from the apps by whitenoise
WHITENOISE_USE_FINDERS = True
# A Redis that failed is skipped for a second (5 in other environments): outage tests recover fast.
REDIS_DOWN_SECONDS = env.float("REDIS_DOWN_SECONDS", default=1.0)
