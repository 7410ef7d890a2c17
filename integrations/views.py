"""`GET /api/registry/{cnpj}/`: what the Receita Federal registry says about a CNPJ (stores nothing)."""

import math

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound as NotFoundError
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from companies import cnpj as cnpj_value
from config.exceptions import ServiceUnavailable
from integrations.errors import IntegrationError, NotFound
from integrations.selectors import registry_record_get
from integrations.serializers import RegistryRecordSerializer


class RegistryLookupView(APIView):
    @extend_schema(
        summary="Look a CNPJ up in the Receita Federal registry",
        description="Asks the configured providers in order (cached). Nothing is stored.",
        responses={
            200: RegistryRecordSerializer,
            400: OpenApiResponse(description="Not a valid CNPJ."),
            404: OpenApiResponse(description="No provider knows this CNPJ."),
            503: OpenApiResponse(description="Every provider is down or rate limited; see Retry-After."),
        },
        tags=["registry"],
    )
    def get(self, request, cnpj: str):
        try:
            number = cnpj_value.normalize(cnpj)
        except cnpj_value.InvalidCNPJ as exc:
            raise ValidationError({"cnpj": [exc.message]}, code=exc.code) from exc
        try:
            record, fetched_at = registry_record_get(cnpj=number)
        except NotFound as exc:
            raise NotFoundError(f"No registry provider knows CNPJ {cnpj_value.format_cnpj(number)}.") from exc
        except IntegrationError as exc:
            raise ServiceUnavailable(
                "The registry providers are unavailable or rate limited; try again later.",
                retry_after=math.ceil(exc.retry_after or 30),
                service="registry",
            ) from exc
        return Response({**record.as_dict(include_raw=False), "fetched_at": fetched_at})
