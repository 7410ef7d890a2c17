"""API keys in the admin (created here, the key shown once; revoked, expired, read-only); the staff
door: the sign-in form with its second factor, the sign-in record, lockouts, signing users out."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from access import signin
from access.admin_views import StaffLoginForm
from access.models import ServiceAPIKey, SignInRecord
from access.sessions import sign_out_everywhere

# The library's own concrete model is unused: keys are ServiceAPIKey (with the read-only flag).
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


@admin.register(ServiceAPIKey)
class ServiceAPIKeyAdmin(APIKeyModelAdmin):
    list_display = [*APIKeyModelAdmin.list_display, "read_only"]
    list_filter = [*APIKeyModelAdmin.list_filter, "read_only"]


# --- the staff door ---------------------------------------------------------------------------
admin.site.login_form = StaffLoginForm


@admin.register(SignInRecord)
class SignInRecordAdmin(admin.ModelAdmin):
    """Every sign-in at both doors, read-only. Superusers lift lockouts from here."""

    list_display = ["at", "door", "username", "address", "outcome", "user_agent"]
    list_filter = ["outcome", "door", ("at", admin.DateFieldListFilter)]
    search_fields = ["username", "address"]
    date_hierarchy = "at"
    actions = ["lift_lockouts"]
    list_per_page = 100

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            actions.pop("lift_lockouts", None)
        return actions

    @admin.action(description=_("Lift the sign-in lockout of these usernames and addresses"))
    def lift_lockouts(self, request, queryset):
        rows = list(queryset.values_list("username", "address"))
        signin.lift(usernames={name for name, _ in rows}, addresses={address for _, address in rows if address})
        self.message_user(request, _("Lockouts lifted: they may sign in again now."), messages.SUCCESS)


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Django's user admin plus: sign a user out everywhere, lift their sign-in lockout."""

    actions = ["sign_out_everywhere", "lift_lockout"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            actions.pop("sign_out_everywhere", None)
            actions.pop("lift_lockout", None)
        return actions

    @admin.action(description=_("Sign out everywhere (end sessions, revoke refresh tokens)"))
    def sign_out_everywhere(self, request, queryset):
        tokens = sum(sign_out_everywhere(user) for user in queryset)
        self.message_user(
            request,
            _("%(users)d user(s) signed out everywhere; %(tokens)d refresh token(s) revoked.")
            % {"users": queryset.count(), "tokens": tokens},
            messages.SUCCESS,
        )

    @admin.action(description=_("Lift the sign-in lockout"))
    def lift_lockout(self, request, queryset):
        signin.lift(usernames=[user.get_username() for user in queryset])
        self.message_user(request, _("Lockouts lifted."), messages.SUCCESS)
