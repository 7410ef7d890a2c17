"""Task status API."""

from django.urls import path

from tasks.views import TaskStatusView

urlpatterns = [
    path("tasks/<str:task_id>/", TaskStatusView.as_view(), name="task-status"),
]
