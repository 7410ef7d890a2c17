"""`GET /api/tasks/{task_id}/`: the state of a background task."""

import re

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from access.authentication import StaffSessionAuthentication
from tasks.selectors import task_result_get
from tasks.serializers import TaskStatusSerializer

# Celery task ids are UUIDs; anything that could not be one (too long, odd characters) is unknown.
TASK_ID = re.compile(r"[\w\-.:]{1,255}")


class TaskStatusView(APIView):
    # The admin's progress pages poll this with the staff member's session (after the API's own).
    authentication_classes = (*api_settings.DEFAULT_AUTHENTICATION_CLASSES, StaffSessionAuthentication)

    @extend_schema(summary="The status of a background task", responses=TaskStatusSerializer, tags=["tasks"])
    def get(self, request, task_id: str):
        task_result = task_result_get(task_id=task_id) if TASK_ID.fullmatch(task_id) else None
        if task_result is None:
            days = settings.TASK_RESULT_EXPIRES / 86400
            raise NotFound(
                f"No task with id {task_id}. Task results are kept for {days:g} days (TASK_RESULT_EXPIRES); "
                "an older task's result has been removed."
            )
        return Response(TaskStatusSerializer(task_result).data)
