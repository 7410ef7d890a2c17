"""Auth endpoints: JWT obtain, refresh (rotating), verify, logout (blacklist); and who-am-I."""

from django.urls import path
from rest_framework_simplejwt import views as jwt_views

from access.views import LogoutView, MeView, TokenObtainView, TokenVerifyView

urlpatterns = [
    path("token/", TokenObtainView.as_view(), name="token-obtain"),
    path("token/refresh/", jwt_views.TokenRefreshView.as_view(), name="token-refresh"),
    path("token/verify/", TokenVerifyView.as_view(), name="token-verify"),
    path("logout/", LogoutView.as_view(), name="token-logout"),
    path("me/", MeView.as_view(), name="auth-me"),
]
