"""Test-only URLconf: the real URLs plus views that fail in each way the API can fail."""

from django.db import OperationalError
from django.urls import include, path
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from core.exceptions import Conflict


class AlwaysThrottled(BaseThrottle):
    def allow_request(self, request, view):
        return False

    def wait(self):
        return 42


class ConflictView(APIView):
    def post(self, request):
        raise Conflict("Already exists.", field="cnpj", extra={"existing_url": "/api/things/1/"})


class ThrottledView(APIView):
    throttle_classes = [AlwaysThrottled]

    def get(self, request):
        return Response({})


class CrashView(APIView):
    def get(self, request):
        raise RuntimeError("boom: secret internals")


class DatabaseDownView(APIView):
    def get(self, request):
        raise OperationalError("connection refused")


urlpatterns = [
    path("api/test/conflict/", ConflictView.as_view()),
    path("api/test/throttled/", ThrottledView.as_view()),
    path("api/test/crash/", CrashView.as_view()),
    path("api/test/db-down/", DatabaseDownView.as_view()),
    path("", include("config.urls")),
]
