"""System checks: integration settings that would only fail later, at the first lookup or push."""

from django.conf import settings
from django.core.checks import Error, Warning, register
from limits import parse


@register()
def integration_settings_check(app_configs=None, **kwargs):
    from integrations.cnpj.chain import PROVIDERS

    problems = []
    unknown = [name for name in settings.CNPJ_PROVIDERS if name.strip().lower() not in PROVIDERS]
    if unknown or not settings.CNPJ_PROVIDERS:
        problems.append(
            Error(
                f"CNPJ_PROVIDERS lists unknown providers: {', '.join(unknown) or '(none listed)'}.",
                hint=f"Use some of: {', '.join(PROVIDERS)}.",
                id="integrations.E001",
            )
        )
    for provider, rate in settings.PROVIDER_RATES.items():
        if not rate:
            continue
        try:
            parse(rate)
        except ValueError:
            problems.append(
                Error(
                    f"{provider.upper()}_RATE = {rate!r} is not a rate.",
                    hint='Write it like "3/minute" or "500 per 30 seconds" (empty: no limit).',
                    id="integrations.E002",
                )
            )
    if settings.PIPEFY_AUTO_PUSH and not (settings.PIPEFY_TOKEN and settings.PIPEFY_PIPE_ID):
        problems.append(
            Warning(
                "PIPEFY_AUTO_PUSH is on but PIPEFY_TOKEN or PIPEFY_PIPE_ID is empty: pushes will fail.",
                id="integrations.W001",
            )
        )
    return problems
