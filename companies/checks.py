"""System checks: company settings that would only fail later, at the first Pipefy push."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def pipefy_field_map_check(app_configs=None, **kwargs):
    from companies.models import Company

    field_map = settings.PIPEFY_FIELD_MAP
    if not isinstance(field_map, dict):
        return [
            Error(
                "PIPEFY_FIELD_MAP must be a JSON object: company attribute -> Pipefy field id.", id="companies.E001"
            )
        ]
    return [
        Error(f"PIPEFY_FIELD_MAP names {attribute!r}, which a company does not have.", id="companies.E002")
        for attribute in field_map
        if not hasattr(Company, attribute)
    ]
