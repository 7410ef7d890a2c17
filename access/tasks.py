"""Housekeeping: expired JWT outstanding and blacklisted tokens, and old sign-in records, removed daily."""

from celery import shared_task
from django.core.management import call_command
from django.db import OperationalError

# Daily housekeeping: a database outage is retried a few times with backoff, else tomorrow's run
# does the work. (Plain Celery options: the app's task plumbing lives in `tasks`, which depends on
# `access`, not the other way round.)
HOUSEKEEPING = {"bind": True, "autoretry_for": (OperationalError,), "retry_backoff": 30, "max_retries": 5}


@shared_task(name="access.flush_expired_tokens", **HOUSEKEEPING)
def flush_expired_tokens_task(self) -> dict:
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    before = OutstandingToken.objects.count()
    call_command("flushexpiredtokens")
    return {"removed": before - OutstandingToken.objects.count()}


@shared_task(name="access.prune_signin_records", **HOUSEKEEPING)
def prune_signin_records_task(self) -> dict:
    """Sign-in records older than SIGNIN_RECORD_DAYS go."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from access.models import SignInRecord

    cutoff = timezone.now() - timedelta(days=settings.SIGNIN_RECORD_DAYS)
    removed, _ = SignInRecord.objects.filter(at__lt=cutoff).delete()
    return {"removed": removed}
