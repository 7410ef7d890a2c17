"""The token endpoint's request: username, password, and the second factor's code for users who
set up two-factor sign-in (the same policy as the admin, access.signin)."""

from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer

from access import signin
from core.clients import client_address


class TokenObtainWithCodeSerializer(TokenObtainPairSerializer):
    otp_token = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        write_only=True,
        help_text="For users who set up two-factor sign-in in the admin: the current code from the "
        "authenticator app, or a recovery code.",
    )

    def validate(self, attrs):
        data = super().validate(attrs)  # wrong credentials: 401, counted by the sign-in policy
        request = self.context.get("request")
        try:
            signin.second_factor(self.user, attrs.get("otp_token"))
        except signin.SecondFactorWait as wait:
            raise exceptions.Throttled(
                wait=wait.seconds, detail=_("Too many wrong codes in a row: wait, then try again.")
            ) from None
        except signin.SecondFactorRefused:
            username = self.user.get_username()
            signin.failure(username=username, address=client_address(request) if request else None)
            signin.record(request, username=username, outcome="failure", user=self.user)
            # The same answer as a wrong password: the endpoint never confirms one.
            raise exceptions.AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            ) from None
        return data
