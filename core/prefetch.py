"""Fast path: a throttled request reads the cache entries its view needs in the throttle's own
Redis round trip.

DRF's order stays: authentication authenticates, permissions decide, then a throttle counts the
request's hit in Redis (access.throttles). A view that knows which cache entries its answer is
made of (a cached company, say) names them in a public method,

    def cache_reads(self, request) -> Sequence[str]

and the throttle that counts the hit reads them in the same command (`count_and_read`: INCR,
EXPIRE on the window's first hit, MGET), then hands them over with `deliver`. The view takes
them with `entries(request, keys)`, which reads the cache itself when nothing was delivered (no
throttle applies, its rate is off, the cache is not Redis, Redis is down), so the answer is the
same either way; only the number of round trips differs (core/tests/test_prefetch.py).

Nothing here knows about authentication, companies or throttle rates.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.cache import cache

ATTRIBUTE = "prefetched_cache_entries"

# INCR the window's counter (KEYS[1]); the window's first hit sets its expiry in the same atomic
# step, so a counter never outlives its window even if the caller dies in between. Any further
# keys are read in the same command. Returns {count, value of KEYS[2], ...}.
COUNT_AND_READ_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local values = {}
if #KEYS > 1 then values = redis.call('MGET', unpack(KEYS, 2)) end
table.insert(values, 1, count)
return values
"""


def wanted(request, view) -> tuple[str, ...]:
    """The cache keys `view` will read to answer `request` (none if it does not say)."""
    cache_reads = getattr(view, "cache_reads", None)
    return tuple(cache_reads(request)) if cache_reads is not None else ()


def count_and_read(counter_key: str, duration: int, keys: Sequence[str] = ()) -> tuple[int, dict]:
    """Count one hit on `counter_key` (a window of `duration` seconds) and read `keys`, in one
    Redis command: (the window's count, the entries found). Needs the cache to be Redis
    (core.caching.cache_is_redis); raises
    what redis-py raises when it is down."""
    from django_redis import get_redis_connection

    made = [cache.make_key(key) for key in keys]
    count, *values = get_redis_connection("default").eval(
        COUNT_AND_READ_SCRIPT, 1 + len(made), cache.make_key(counter_key), *made, duration
    )
    decode = cache.client.decode
    return int(count), {key: decode(value) for key, value in zip(keys, values, strict=True) if value is not None}


def deliver(request, keys: Sequence[str], found: dict) -> None:
    """Hand the entries read for `keys` to the view that will answer `request`."""
    setattr(request, ATTRIBUTE, (tuple(keys), found))


def entries(request, keys: Sequence[str]) -> dict:
    """The cache entries under `keys`: those delivered with the throttle's count, or read now."""
    delivered = getattr(request, ATTRIBUTE, None)
    if delivered is not None and delivered[0] == tuple(keys):
        return delivered[1]
    if len(keys) == 1:
        value = cache.get(keys[0])
        return {} if value is None else {keys[0]: value}
    return cache.get_many(keys)
