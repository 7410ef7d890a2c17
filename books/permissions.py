"""Book permissions beyond the project default (access.permissions.HasAPIAccess)."""

from rest_framework import permissions

from access.authentication import ServicePrincipal


class BookActionPermissions(permissions.BasePermission):
    """People also need `change_book` to restore a book or run an import (it updates books).

    HasAPIAccess already maps the HTTP method to the model permission (POST: add, PUT/PATCH:
    change, DELETE: delete, which here archives). API keys are governed by their read-only flag.
    """

    required = {
        "restore": ("books.change_book",),
        "import_books": ("books.add_book", "books.change_book"),
    }

    def has_permission(self, request, view):
        needed = self.required.get(getattr(view, "action", None))
        if not needed or isinstance(request.user, ServicePrincipal):
            return True
        return request.user.has_perms(needed)
