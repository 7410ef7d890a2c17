"""Registry lookup API."""

from django.urls import path

from integrations.views import RegistryLookupView

urlpatterns = [
    path("registry/<str:cnpj>/", RegistryLookupView.as_view(), name="registry-lookup"),
]
