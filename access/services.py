"""Writes for API keys."""

from datetime import timedelta

from django.utils import timezone

from access.models import ServiceAPIKey


def api_key_create(*, name: str, read_only: bool = False, expires_in_days: int | None = None):
    """Create a key; returns (ServiceAPIKey, raw_key). The raw key is never stored."""
    expiry_date = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    return ServiceAPIKey.objects.create_key(name=name, read_only=read_only, expiry_date=expiry_date)
