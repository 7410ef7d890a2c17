"""What the cache is: the one place that answers "is the cache Redis?"."""

from django.conf import settings


def cache_is_redis(alias: str = "default") -> bool:
    """True when the cache is django-redis (directly or through a subclass such as
    django-prometheus's), so Redis commands and `get_redis_connection` can be used."""
    from django.core.cache import caches

    try:
        from django_redis.cache import RedisCache
    except ImportError:  # pragma: no cover - django-redis is a dependency
        return False
    return alias in settings.CACHES and isinstance(caches[alias], RedisCache)
