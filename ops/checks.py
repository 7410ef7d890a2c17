"""System checks that keep PRODUCTION from starting with development settings or secrets."""

from django.conf import settings
from django.core.checks import Error, Tags, register

MIN_SECRET_LENGTH = 50
GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"


def _secret_problem(value: str) -> str | None:
    if not value:
        return "is missing"
    if value == settings.DEV_SECRET_KEY or value.startswith("django-insecure") or "change-me" in value:
        return "is a development default"
    if len(value) < MIN_SECRET_LENGTH or len(set(value)) < 5:
        return f"is too short or too simple (at least {MIN_SECRET_LENGTH} varied characters)"
    return None


@register(Tags.security)
def production_settings_check(app_configs=None, **kwargs):
    if settings.ENVIRONMENT != "PRODUCTION":
        return []
    errors = []
    secrets = {"SECRET_KEY": settings.SECRET_KEY_RAW, "JWT_SIGNING_KEY": settings.JWT_SIGNING_KEY_RAW}
    for index, (name, value) in enumerate(secrets.items(), start=1):
        problem = _secret_problem(value)
        if problem:
            errors.append(
                Error(f"{name} {problem}.", hint=f"Set {name} to the output of {GENERATE}", id=f"ops.E00{index}")
            )
    if settings.DEBUG:
        errors.append(Error("DEBUG is on in PRODUCTION.", hint="Set DEBUG=false (or unset it).", id="ops.E003"))
    if not settings.ALLOWED_HOSTS:
        errors.append(
            Error(
                "ALLOWED_HOSTS is empty.",
                hint="Set ALLOWED_HOSTS to the comma-separated host names this API is served on.",
                id="ops.E004",
            )
        )
    errors += _backing_services_problems()
    if settings.METRICS_TOKEN and len(settings.METRICS_TOKEN) < 32:
        errors.append(
            Error("METRICS_TOKEN is shorter than 32 characters.", hint=f"Set it to the output of {GENERATE}",
                  id="ops.E013")
        )
    if settings.API_KEY and len(settings.API_KEY) < 32:
        errors.append(
            Error(
                "API_KEY is shorter than 32 characters.",
                hint=f"Set API_KEY to the output of {GENERATE}",
                id="ops.E005",
            )
        )
    return errors


def _backing_services_problems() -> list[Error]:
    """PRODUCTION runs on PostgreSQL, Redis and a Redis broker, never on the embedded defaults
    (SQLite has no never-delete trigger; a local-memory cache and in-process tasks are per process)."""
    problems = []
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        problems.append(
            Error(
                "No PostgreSQL database is configured: PRODUCTION would run on SQLite.",
                hint="Set DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/NAME (or POSTGRESQL_HOST and friends).",
                id="ops.E006",
            )
        )
    if not settings.REDIS_URL:
        problems.append(
            Error(
                "No Redis is configured: PRODUCTION would use a per-process cache and shared limits per process.",
                hint="Set REDIS_URL=redis://HOST:6379/0 (or REDIS_HOST and friends).",
                id="ops.E007",
            )
        )
    if settings.CELERY_BROKER_URL.startswith("memory://") or settings.CELERY_TASK_ALWAYS_EAGER:
        problems.append(
            Error(
                "No task broker is configured: PRODUCTION would run background work inside web requests.",
                hint="Set CELERY_BROKER_URL=redis://HOST:6379/1 (or REDIS_URL, which it defaults to), "
                "and leave CELERY_TASK_ALWAYS_EAGER unset.",
                id="ops.E008",
            )
        )
    return problems


@register()
def trusted_proxies_check(app_configs=None, **kwargs):
    """A TRUSTED_PROXIES value that cannot be read would silently trust no proxy (or the wrong one)."""
    from django.core.checks import Warning as CheckWarning

    from core.clients import proxy_policy

    try:
        policy = proxy_policy(settings.TRUSTED_PROXIES)
    except ValueError as exc:
        return [Error(str(exc), hint="Set TRUSTED_PROXIES to a number, to networks, or leave it empty.", id="ops.E009")]
    if any(network.prefixlen == 0 for network in policy.networks):
        return [
            CheckWarning(
                "TRUSTED_PROXIES trusts every address: any client can name its own address in X-Forwarded-For.",
                hint="List only your proxies' networks (e.g. 10.0.0.0/8), or give their number.",
                id="ops.W001",
            )
        ]
    return []


@register()
def timeouts_check(app_configs=None, **kwargs):
    """What a web request may wait for must end before gunicorn kills the worker (GUNICORN_TIMEOUT;
    0 means gunicorn never does), or the client gets a dropped connection instead of a 503; and
    the waits must be sensible numbers."""
    import os

    errors = []
    limits = {
        "REGISTRY_DEADLINE_SECONDS": settings.REGISTRY_DEADLINE_SECONDS,
        "DATABASE_REQUEST_TIMEOUT": settings.DATABASE_REQUEST_TIMEOUT,
        "DATABASE_QUERY_TIMEOUT": settings.DATABASE_QUERY_TIMEOUT,
        "MONGODB_OPERATION_TIMEOUT_MS": settings.MONGODB_OPERATION_TIMEOUT_MS / 1000,
        "HEALTH_CHECK_TIMEOUT": settings.HEALTH_CHECK_TIMEOUT,
        "CELERY_BROKER_SOCKET_TIMEOUT": settings.CELERY_BROKER_TRANSPORT_OPTIONS["socket_timeout"],
    }
    for name in ("REGISTRY_DEADLINE_SECONDS", "HEALTH_CHECK_TIMEOUT", "CELERY_BROKER_SOCKET_TIMEOUT"):
        if limits[name] <= 0:
            errors.append(Error(f"{name} must be more than 0 seconds.", id="ops.E012"))
    if not 0 <= settings.REDIS_DOWN_SECONDS <= 300:
        errors.append(
            Error(
                f"REDIS_DOWN_SECONDS ({settings.REDIS_DOWN_SECONDS:g}) must be between 0 and 300 seconds.",
                hint="A few seconds (the default is 5): longer hides a recovered Redis for that long.",
                id="ops.E012",
            )
        )
    raw = os.environ.get("GUNICORN_TIMEOUT", "30").strip()
    if not raw.isascii() or not raw.isdigit():
        return [*errors, Error(f"GUNICORN_TIMEOUT={raw!r} is not a whole number of seconds.", id="ops.E010")]
    worker_timeout = int(raw)
    if worker_timeout == 0:  # gunicorn's "no timeout"
        return errors
    for name, value in limits.items():
        if value >= worker_timeout:
            errors.append(
                Error(
                    f"{name} ({value:g} s) is not below gunicorn's worker timeout ({worker_timeout} s).",
                    hint=f"Lower {name} or raise GUNICORN_TIMEOUT, keeping a few seconds between them.",
                    id="ops.E010",
                )
            )
    return errors


@register()
def metrics_networks_check(app_configs=None, **kwargs):
    from ops.metrics import allowed_networks

    try:
        allowed_networks()
    except ValueError as exc:
        return [
            Error(
                f"METRICS_ALLOWED_NETWORKS: {exc}.",
                hint="List networks such as 10.0.0.0/8,127.0.0.1 (comma-separated).",
                id="ops.E011",
            )
        ]
    return []
