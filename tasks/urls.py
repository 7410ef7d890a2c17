"""Task status API."""

urlpatterns = []
