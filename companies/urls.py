"""Routes for /api/companies/: the CNPJ in the path goes through the `cnpj` converter."""

from django.urls import register_converter
from rest_framework.routers import SimpleRouter

from companies.converters import CNPJConverter
from companies.views import CompanyViewSet

register_converter(CNPJConverter, "cnpj")

router = SimpleRouter(trailing_slash=True, use_regex_path=False)
router.register("companies", CompanyViewSet, basename="company")

urlpatterns = router.urls
