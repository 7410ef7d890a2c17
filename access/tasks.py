"""Housekeeping of the JWT tables: expired outstanding and blacklisted tokens are removed daily."""

from celery import shared_task
from django.core.management import call_command

from tasks.base import BaseTask


@shared_task(base=BaseTask, bind=True, name="access.flush_expired_tokens")
def flush_expired_tokens_task(self) -> dict:
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    before = OutstandingToken.objects.count()
    call_command("flushexpiredtokens")
    return {"removed": before - OutstandingToken.objects.count()}
