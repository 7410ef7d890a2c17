"""The task status answer."""

from celery import states
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tasks.base import PROGRESS
from tasks.selectors import task_detail, task_error_message, task_progress, task_result_value

STATUSES = [states.PENDING, states.STARTED, states.RETRY, states.SUCCESS, states.FAILURE]


class TaskProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField(help_text="Items (rows) done so far.")
    total = serializers.IntegerField(allow_null=True, help_text="Items in all, when known.")


class TaskStatusSerializer(serializers.Serializer):
    id = serializers.CharField(source="task_id")
    name = serializers.CharField(source="task_name", allow_null=True)
    status = serializers.ChoiceField(choices=[*STATUSES, states.REVOKED])
    result = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    detail = serializers.SerializerMethodField(
        help_text="Set when the task was found stranded (its message lost): queued again, or given up, and why."
    )
    progress = serializers.SerializerMethodField(
        help_text="How far a running task that reports it has got (an import: rows read of the rows in the file); "
        "null otherwise."
    )
    created_at = serializers.DateTimeField(source="date_created")
    started_at = serializers.DateTimeField(source="date_started", allow_null=True)
    finished_at = serializers.SerializerMethodField()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if instance.status == PROGRESS:
            data["status"] = states.STARTED  # running, and saying how far it is
        return data

    @extend_schema_field(TaskProgressSerializer(allow_null=True))
    def get_progress(self, task_result):
        return task_progress(task_result)

    @extend_schema_field(OpenApiTypes.ANY)
    def get_result(self, task_result):
        return task_result_value(task_result)

    def get_error(self, task_result) -> str:
        return task_error_message(task_result)

    def get_detail(self, task_result) -> str:
        return task_detail(task_result)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_finished_at(self, task_result):
        if task_result.status not in states.READY_STATES or task_result.date_done is None:
            return None
        return serializers.DateTimeField().to_representation(task_result.date_done)


class TaskQueuedSerializer(serializers.Serializer):
    """The answer of an endpoint that queued a task (202, with `Location` = `status_url`)."""

    task_id = serializers.CharField()
    status = serializers.ChoiceField(choices=STATUSES)
    status_url = serializers.URLField(help_text="GET it to follow the task.")
