"""Bench URLconf: the project's URLs plus the two reference views."""

from django.urls import include, path

from bench.views import NaiveCompanyViewSet, ceiling

urlpatterns = [
    path("bench/ceiling/", ceiling),
    path("bench/naive/companies/<str:cnpj>/", NaiveCompanyViewSet.as_view({"get": "retrieve"})),
    path("", include("config.urls")),
]
