"""WSGI entry point (gunicorn config.wsgi).

In PRODUCTION the system checks run before serving, so a server with development secrets,
DEBUG on or no ALLOWED_HOSTS refuses to start (gunicorn does not run checks by itself).

Once loaded, everything allocated at start-up is moved to the garbage collector's permanent
generation (`gc.freeze()`), so collections during requests no longer walk Django's, DRF's and
the URLconf's objects: that walk was about a tenth of a cached API answer's CPU time.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()


def _refuse_unsafe_production() -> None:
    from django.conf import settings
    from django.core import checks
    from django.core.management.base import SystemCheckError

    if settings.ENVIRONMENT != "PRODUCTION":
        return
    errors = [message for message in checks.run_checks() if message.is_serious()]
    if errors:
        raise SystemCheckError("Refusing to start:\n" + "\n".join(f"{e.id}: {e.msg} {e.hint or ''}" for e in errors))


def _freeze_start_up_objects() -> None:
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports the URLconf and every view module now)
    gc.collect()
    gc.freeze()


_refuse_unsafe_production()
_freeze_start_up_objects()
