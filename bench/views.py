"""Reference views measured beside ours in the same run (mounted only by bench/urls.py)."""

from django.http import JsonResponse
from rest_framework import serializers, viewsets

from companies.models import Company

# About the size of one company record, so the ceiling serialises a comparable body.
CEILING_BODY = {
    "cnpj": "11222333000181",
    "cnpj_formatted": "11.222.333/0001-81",
    "legal_name": "Empresa Referência Ltda",
    "trade_name": "Referência",
    "registration_status": "ATIVA",
    "opened_on": "2001-05-02",
    "share_capital": "100000.00",
    "main_activity": {"code": "6201501", "description": "Desenvolvimento de programas de computador"},
    "address": {"street": "Rua A", "number": "1", "district": "Centro", "city": "São Paulo", "state": "SP"},
    "enrichment_status": "ok",
}


def ceiling(request):
    """The ceiling: plain Django, no database, no DRF, through the same middleware."""
    return JsonResponse(CEILING_BODY)


class NaiveCompanySerializer(serializers.ModelSerializer):
    class Meta:
        model = Company
        exclude = ("registry_payload",)


class NaiveCompanyViewSet(viewsets.ReadOnlyModelViewSet):
    """The naive peer: a stock DRF ModelViewSet retrieve of the same row (no cache)."""

    queryset = Company.objects.all()
    serializer_class = NaiveCompanySerializer
    lookup_field = "cnpj"
