"""Who am I: the caller as the API sees it (useful to check a key or token)."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from access.authentication import ServicePrincipal


class MeView(APIView):
    @extend_schema(
        summary="The authenticated caller",
        responses=inline_serializer(
            "Caller",
            {
                "kind": serializers.ChoiceField(choices=["api_key", "user"]),
                "name": serializers.CharField(),
                "read_only": serializers.BooleanField(),
                "is_staff": serializers.BooleanField(),
            },
        ),
    )
    def get(self, request):
        user = request.user
        if isinstance(user, ServicePrincipal):
            return Response({"kind": "api_key", "name": user.name, "read_only": user.read_only, "is_staff": False})
        return Response(
            {"kind": "user", "name": user.get_username(), "read_only": False, "is_staff": user.is_staff}
        )
