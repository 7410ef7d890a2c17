"""The task status answer."""

from celery import states
from rest_framework import serializers

from tasks.selectors import task_error_message, task_result_value

STATUSES = [states.PENDING, states.STARTED, states.RETRY, states.SUCCESS, states.FAILURE]


class TaskStatusSerializer(serializers.Serializer):
    id = serializers.CharField(source="task_id")
    name = serializers.CharField(source="task_name", allow_null=True)
    status = serializers.ChoiceField(choices=[*STATUSES, states.REVOKED])
    result = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="date_created")
    started_at = serializers.DateTimeField(source="date_started", allow_null=True)
    finished_at = serializers.SerializerMethodField()

    def get_result(self, task_result) -> dict | list | str | int | None:
        return task_result_value(task_result)

    def get_error(self, task_result) -> str:
        return task_error_message(task_result)

    def get_finished_at(self, task_result) -> str | None:
        if task_result.status not in states.READY_STATES or task_result.date_done is None:
            return None
        return serializers.DateTimeField().to_representation(task_result.date_done)
