"""System checks that keep PRODUCTION from starting with development settings or secrets."""

from django.conf import settings
from django.core.checks import Error, Tags, register

from config.settings.base import DEV_SECRET_KEY

MIN_SECRET_LENGTH = 50
GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"


def _secret_problem(value: str) -> str | None:
    if not value:
        return "is missing"
    if value == DEV_SECRET_KEY or value.startswith("django-insecure") or "change-me" in value:
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
    if settings.API_KEY and len(settings.API_KEY) < 32:
        errors.append(
            Error(
                "API_KEY is shorter than 32 characters.",
                hint=f"Set API_KEY to the output of {GENERATE}",
                id="ops.E005",
            )
        )
    return errors
