"""Who may do what: any valid credential reads; writes need a full-access key or model rights."""

from rest_framework import exceptions, permissions

from access.authentication import ServicePrincipal


class HasAPIAccess(permissions.BasePermission):
    message = "You do not have permission to perform this action."

    def has_permission(self, request, view):
        user = request.user
        if user is None or not user.is_authenticated:
            return False  # 401, before any throttle counts (DRF's order)
        if request.method in permissions.SAFE_METHODS:
            return True
        if isinstance(user, ServicePrincipal):
            if user.read_only:
                raise exceptions.PermissionDenied("This API key is read-only.", "read_only_key")
            return True
        if _has_queryset(view):
            # People write only with the model permission, granted through admin groups.
            return permissions.DjangoModelPermissions().has_permission(request, view)
        return True


def _has_queryset(view) -> bool:
    return getattr(view, "queryset", None) is not None or (
        hasattr(view, "get_queryset") and getattr(view, "model_permissions_apply", True)
    )
