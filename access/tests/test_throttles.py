import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from access.services import api_key_create

pytestmark = pytest.mark.django_db
ME = "/api/auth/me/"
VERIFY = "/api/auth/token/verify/"


def rates(**overrides):
    return override_settings(API_THROTTLE_RATES={**settings.API_THROTTLE_RATES, **overrides})


def keyed(raw_key, address="10.0.0.1"):
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_X_API_KEY=raw_key)
    return client


def assert_throttled(response):
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "throttled" and body["type"] == "client_error"
    assert int(response["Retry-After"]) > 0


@rates(api_key="3/hour")
def test_each_api_key_has_its_own_limit():
    _, first = api_key_create(name="first")
    _, second = api_key_create(name="second")
    for _ in range(3):
        assert keyed(first).get(ME).status_code == 200
    assert_throttled(keyed(first, address="10.9.9.9").get(ME))  # per key, not per address
    assert keyed(second).get(ME).status_code == 200


@rates(api_key="3/hour")
def test_guessing_at_a_keys_prefix_does_not_use_up_its_allowance():
    _, raw_key = api_key_create(name="victim")
    prefix = raw_key.partition(".")[0]
    for _ in range(5):
        assert keyed(f"{prefix}.not-the-secret").get(ME).status_code == 401
    for _ in range(3):
        assert keyed(raw_key).get(ME).status_code == 200
    assert_throttled(keyed(raw_key).get(ME))


def _redis_commands(call) -> dict:
    from django_redis import get_redis_connection

    connection = get_redis_connection("default")
    connection.config_resetstat()
    call()
    stats = connection.info("commandstats")
    return {name.removeprefix("cmdstat_"): value["calls"] for name, value in stats.items()}


def test_an_api_key_request_costs_one_redis_command_its_throttle_count(api):
    assert api.get(ME).status_code == 200  # the key's record is kept by this process now
    commands = _redis_commands(lambda: api.get(ME))
    assert {name: calls for name, calls in commands.items() if name in ("get", "mget", "eval", "incr")} == {
        "eval": 1,
        "incr": 1,
    }


@rates(api_key="1/hour")
def test_a_write_refused_to_a_read_only_key_spends_no_allowance(read_only_api):
    for _ in range(3):
        assert read_only_api.post("/api/companies/", {"cnpj": "11222333000181"}).status_code == 403
    assert read_only_api.get(ME).status_code == 200
    assert_throttled(read_only_api.get(ME))


@rates(user="2/hour")
def test_each_user_has_its_own_limit(jwt_client):
    alice = jwt_client("alice")
    assert alice.get(ME).status_code == 200
    assert alice.get(ME).status_code == 200
    assert_throttled(alice.get(ME))
    assert jwt_client("bob").get(ME).status_code == 200


@rates(anon="2/hour")
def test_anonymous_calls_to_open_endpoints_are_limited_per_address():
    client = APIClient(REMOTE_ADDR="10.1.1.1")
    assert client.post(VERIFY, {"token": "x"}).status_code == 401
    assert client.post(VERIFY, {"token": "x"}).status_code == 401
    assert_throttled(client.post(VERIFY, {"token": "x"}))
    assert APIClient(REMOTE_ADDR="10.1.1.2").post(VERIFY, {"token": "x"}).status_code == 401


@rates(anon="1/hour")
def test_calls_without_credentials_are_refused_before_any_throttle_counts():
    """DRF's order: a closed endpoint answers 401 to a caller without credentials, every time."""
    client = APIClient(REMOTE_ADDR="10.1.1.3")
    assert [client.get(ME).status_code for _ in range(3)] == [401] * 3


@rates(login_username="3/hour", login_address="100/hour")
def test_token_endpoint_limits_guesses_per_username_from_any_address(make_user):
    make_user(username="carol", password="right-Passw0rd!")
    for index in range(3):
        response = APIClient(REMOTE_ADDR=f"10.2.0.{index}").post(
            "/api/auth/token/", {"username": "carol", "password": f"guess-{index}"}
        )
        assert response.status_code == 401
    blocked = APIClient(REMOTE_ADDR="10.2.0.99").post(
        "/api/auth/token/", {"username": "Carol", "password": "right-Passw0rd!"}
    )
    assert_throttled(blocked)


@rates(login_address="2/hour", login_username="100/hour")
def test_token_endpoint_limits_guesses_per_address(make_user):
    client = APIClient(REMOTE_ADDR="10.3.0.1")
    for name in ("dave", "erin"):
        assert client.post("/api/auth/token/", {"username": name, "password": "x"}).status_code == 401
    assert_throttled(client.post("/api/auth/token/", {"username": "frank", "password": "x"}))


@rates(api_key="1/hour")
def test_throttling_is_shared_through_redis_not_process_memory():
    from django.core.cache import cache

    _, raw_key = api_key_create(name="shared")
    assert keyed(raw_key).get(ME).status_code == 200
    assert any(key.startswith("throttle_api_key_") for key in cache.keys("throttle_*"))


def test_fixed_window_counts_in_one_key_per_window_and_expires_it():
    from django_redis import get_redis_connection

    from access.throttles import count_hit

    assert [count_hit("throttle_probe:1", 60) for _ in range(3)] == [1, 2, 3]
    ttl = get_redis_connection("default").ttl(cache_key("throttle_probe:1"))
    assert 0 < ttl <= 60


def test_counting_survives_a_redis_that_lost_its_scripts():
    """A restarted or flushed Redis no longer has the counting script: it is loaded again."""
    from django_redis import get_redis_connection

    from access.throttles import count_hit

    assert count_hit("throttle_probe:2", 60) == 1
    get_redis_connection("default").script_flush()
    assert count_hit("throttle_probe:2", 60) == 2


@override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}})
def test_fixed_window_works_on_the_local_memory_cache_of_make_run():
    from access.throttles import count_hit

    assert [count_hit("throttle_probe:2", 60) for _ in range(3)] == [1, 2, 3]


@rates(api_key="1/hour")
def test_retry_after_is_the_rest_of_the_window():
    _, raw_key = api_key_create(name="waiting")
    assert keyed(raw_key).get(ME).status_code == 200
    response = keyed(raw_key).get(ME)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3601


def cache_key(key):
    from django.core.cache import cache

    return cache.make_key(key)
