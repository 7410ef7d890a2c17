"""The staff door: the admin's sign-in page under the sign-in policy (access.signin), with an
optional second factor (TOTP, django-otp) that is required once a user has set it up, and for
superusers when ADMIN_REQUIRE_2FA is on."""

from __future__ import annotations

from base64 import b32encode

import django_otp
import segno
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from access import signin
from core.clients import client_address

RECOVERY_CODES = 10


def _clean_token(value: str | None) -> str:
    return "".join((value or "").split())


class StaffLoginForm(AdminAuthenticationForm):
    """Django's admin sign-in form plus the second factor: a code from the authenticator app or a
    recovery code, asked of users who have set two-factor sign-in up. A wrong password and a
    missing or wrong code get the same answer, so the form never confirms a password."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": gettext_lazy(
            "Please enter the correct %(username)s and password for a staff account, and the code from "
            "your authenticator app if you use two-factor sign-in. Note that both fields may be "
            "case-sensitive."
        ),
    }
    otp_token = forms.CharField(
        label=gettext_lazy("Verification code"),
        required=False,
        max_length=32,
        help_text=gettext_lazy(
            "From your authenticator app, or one of your recovery codes. Leave empty if you have not "
            "set up two-factor sign-in."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 12}),
    )

    def clean(self):
        cleaned = super().clean()  # the password (a wrong one is counted by the sign-in policy)
        user = self.get_user()
        try:
            device = signin.second_factor(user, cleaned.get("otp_token"))
        except signin.SecondFactorWait as wait:
            raise ValidationError(
                _("Too many wrong codes in a row: wait %(seconds)d seconds, then try again."),
                code="otp_wait",
                params={"seconds": wait.seconds},
            ) from None
        except signin.SecondFactorRefused:
            signin.failure(username=user.get_username(), address=client_address(self.request))
            signin.record(self.request, username=user.get_username(), outcome="failure", user=user)
            raise self.get_invalid_login_error() from None
        if device is not None:
            user.otp_device = device  # access.signin marks the session verified once signed in
        return cleaned


def staff_login(request, **kwargs):
    """The admin's login view, refusing every attempt while the username or the address is
    locked out (429, with how long)."""
    if request.method == "POST":
        username = request.POST.get("username")
        locked = signin.lockout(username=username, address=client_address(request))
        if locked:
            signin.record(request, username=username, outcome="locked")
            context = {**admin.site.each_context(request), "minutes": locked.minutes}
            response = render(request, "admin/signin_locked.html", context, status=429)
            response["Retry-After"] = str(locked.seconds)
            return response
    return admin.site.login(request, **kwargs)


def second_factor_required(user) -> bool:
    return bool(settings.ADMIN_REQUIRE_2FA and user.is_superuser)


def second_factor_satisfied(user) -> bool:
    """Whether a signed-in staff user's session may be used as the admin's: a user with a
    confirmed device has used it in this session; one who must have a device has set it up."""
    if django_otp.user_has_device(user, confirmed=True):
        return user.is_verified()
    return not second_factor_required(user)


class TokenForm(forms.Form):
    token = forms.CharField(label=gettext_lazy("Code from the app"), max_length=10)


def two_factor(request):
    """Set up two-factor sign-in (TOTP) for the signed-in staff user; shows the recovery codes once."""
    user = request.user
    enrolled = django_otp.user_has_device(user, confirmed=True)
    context = {
        **admin.site.each_context(request),
        "title": _("Two-factor sign-in"),
        "enrolled": enrolled,
        "required": second_factor_required(user),
    }
    if enrolled:
        return render(request, "admin/two_factor.html", context)
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice.objects.create(
        user=user, name=_("Authenticator app"), confirmed=False
    )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _why = device.verify_is_allowed()
        if not allowed:
            form.add_error("token", _("Too many wrong codes in a row: wait a few seconds, then try again."))
        elif device.verify_token(_clean_token(form.cleaned_data["token"])):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            static, _created = StaticDevice.objects.get_or_create(user=user, name=_("Recovery codes"))
            static.token_set.all().delete()
            codes = [StaticToken.random_token() for _index in range(RECOVERY_CODES)]
            StaticToken.objects.bulk_create(StaticToken(device=static, token=code) for code in codes)
            django_otp.login(request, device)
            return render(request, "admin/two_factor.html", {**context, "recovery_codes": codes})
        else:
            form.add_error(
                "token", _("That code is not the one the app shows now. Check the phone's clock and try again.")
            )
    key = b32encode(device.bin_key).decode()
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=4, omitsize=False)
    return render(request, "admin/two_factor.html", {**context, "form": form, "key": key, "qr_svg": qr_svg})


class StaffSecondFactorMiddleware:
    """In the admin: a user who has set up two-factor sign-in must have used it in this session
    (otherwise signed out), and a user who must use it (ADMIN_REQUIRE_2FA, superusers) is sent to
    set it up before anything else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff and request.path.startswith("/admin/"):
            exempt = {reverse("admin:login"), reverse("admin:logout"), reverse("admin-two-factor")}
            if request.path not in exempt:
                has_device = django_otp.user_has_device(user, confirmed=True)
                if has_device and not user.is_verified():
                    logout(request)
                    return HttpResponseRedirect(f"{reverse('admin:login')}?next={request.path}")
                if not has_device and second_factor_required(user):
                    return HttpResponseRedirect(reverse("admin-two-factor"))
        return self.get_response(request)
