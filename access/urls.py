"""Token endpoints for people: obtain, refresh (rotating), verify, logout (blacklist)."""

from django.urls import path
from rest_framework_simplejwt import views as jwt_views

urlpatterns = [
    path("token/", jwt_views.TokenObtainPairView.as_view(), name="token-obtain"),
    path("token/refresh/", jwt_views.TokenRefreshView.as_view(), name="token-refresh"),
    path("token/verify/", jwt_views.TokenVerifyView.as_view(), name="token-verify"),
    path("logout/", jwt_views.TokenBlacklistView.as_view(), name="token-logout"),
]
