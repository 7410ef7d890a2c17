"""The one API router: every resource under /api/."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from books.views import BookViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False

# Apps register their viewsets here, one line each.
router.register("books", BookViewSet, basename="book")

urlpatterns = [
    path("", include("companies.urls")),  # first: the busiest routes are resolved soonest
    path("auth/", include("access.urls")),
    path("", include("tasks.urls")),
    *router.urls,
]
