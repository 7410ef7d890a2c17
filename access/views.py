"""Who am I: the caller as the API sees it (useful to check a key or token); token verify and
logout answering as their schema says."""

from django.contrib.auth import get_user_model
from django.utils.translation import ngettext
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from access import signin
from access.authentication import ServicePrincipal
from access.throttles import LoginAddressThrottle, LoginUsernameThrottle
from core.clients import client_address

NO_CONTENT = OpenApiResponse(description="No content.")


class TokenObtainView(jwt_views.TokenObtainPairView):
    """Under the sign-in policy (access.signin): refused with 429 while the username or the client
    address is locked out, the right password included; every attempt recorded."""

    throttle_classes = [LoginAddressThrottle, LoginUsernameThrottle]

    @extend_schema(
        responses={
            200: inline_serializer(
                "TokenObtainPair",
                {"access": serializers.CharField(read_only=True), "refresh": serializers.CharField(read_only=True)},
            )
        },
        summary="Obtain a JWT pair (access and refresh)",
        description=(
            "Sign in with a username and password (and, for users who set up two-factor sign-in, the code "
            "from their authenticator app in `otp_token`). After too many failed sign-ins for the username "
            "or from the client address (SIGNIN_MAX_FAILURES_*), every attempt, the right password "
            "included, is refused with 429 and Retry-After until the lockout ends."
        ),
    )
    def post(self, request, *args, **kwargs):
        username = request.data.get("username") if hasattr(request.data, "get") else None
        username = username if isinstance(username, str) else None
        locked = signin.lockout(username=username, address=client_address(request))
        if locked:
            signin.record(request, username=username, outcome="locked")
            raise exceptions.Throttled(
                wait=locked.seconds,
                detail=ngettext(
                    "Too many failed sign-ins for this user or address; try again in %(minutes)d minute.",
                    "Too many failed sign-ins for this user or address; try again in %(minutes)d minutes.",
                    locked.minutes,
                )
                % {"minutes": locked.minutes},
            )
        response = super().post(request, *args, **kwargs)
        if response.status_code == 200:
            username = signin.username_of(username)
            signin.success(username=username)
            user = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username}).first()
            signin.record(request, username=username, outcome="success", user=user)
        return response


class TokenVerifyView(jwt_views.TokenVerifyView):
    """204 for a valid token; 401 `token_not_valid` for an invalid, expired or blacklisted one
    (the same answer refreshing a blacklisted token gets)."""

    @extend_schema(summary="Check a token", responses={204: NO_CONTENT})
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as error:
            raise InvalidToken(error.args[0]) from error
        except serializers.ValidationError as error:
            if "token" in error.detail:  # the body is wrong: a 400 naming the field
                raise
            raise InvalidToken("Token is blacklisted") from error
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutView(jwt_views.TokenBlacklistView):
    """204 once the refresh token is blacklisted."""

    @extend_schema(summary="Log out: blacklist the refresh token", responses={204: NO_CONTENT})
    def post(self, request, *args, **kwargs):
        super().post(request, *args, **kwargs)
        return Response(status=status.HTTP_204_NO_CONTENT)


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
