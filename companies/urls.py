"""Routes for /api/companies/ (the CNPJ in the path goes through the `cnpj` converter),
/api/registry/{cnpj}/ and /api/enrichment/."""

from django.urls import path, register_converter
from rest_framework.routers import SimpleRouter

from companies.converters import CNPJConverter
from companies.views import CompanyViewSet, EnrichmentStatusView, RegistryLookupView

register_converter(CNPJConverter, "cnpj")

router = SimpleRouter(trailing_slash=True, use_regex_path=False)
router.register("companies", CompanyViewSet, basename="company")

urlpatterns = [
    *router.urls,
    path("registry/<str:cnpj>/", RegistryLookupView.as_view(), name="registry-lookup"),
    path("enrichment/", EnrichmentStatusView.as_view(), name="enrichment-status"),
]
