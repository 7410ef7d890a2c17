"""Root URLconf: admin, API, docs, health, metrics."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from access.admin_views import staff_login, two_factor
from core import exceptions
from ops import metrics as ops_metrics
from ops import views as ops_views

# The API first: URL resolution tries the patterns in order, and API calls are most requests.
urlpatterns = [
    path("api/", include("config.api")),
    path("admin/login/", staff_login, name="admin-login"),  # the sign-in policy first (access.signin)
    path("admin/2fa/", admin.site.admin_view(two_factor), name="admin-two-factor"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the back office's language switch
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/doc/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("health/live", ops_views.live, name="health-live"),
    path("health/ready", ops_views.ready, name="health-ready"),
    path("metrics", ops_metrics.metrics, name="metrics"),
]

handler404 = exceptions.not_found
handler500 = exceptions.server_error
handler400 = exceptions.bad_request
handler403 = exceptions.permission_denied

if settings.DEBUG:
    urlpatterns.append(path("api-auth/", include("rest_framework.urls")))
