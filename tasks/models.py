"""Files uploaded in the admin for a background import: kept in the database until imported."""

import uuid

from django.conf import settings
from django.db import models


class ImportJob(models.Model):
    """One uploaded file and the task that imports it. The text is kept in the database (not on a
    disk the workers may not share) until the import has finished, then emptied, and the report
    kept; while it runs, its progress is the task's (the task status API)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    target = models.CharField(max_length=100, help_text="The model imported into, as app_label.model_name.")
    filename = models.CharField(max_length=255)
    size = models.PositiveIntegerField(help_text="Bytes uploaded.")
    content = models.TextField(blank=True, help_text="The file's text; emptied once imported.")
    rows_total = models.PositiveIntegerField(default=0, help_text="Data rows in the file (lines, header left out).")
    task_id = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.CharField(max_length=150, help_text="Who the history rows name.")
    language = models.CharField(max_length=20, blank=True, help_text="The uploader's language, for the report.")
    report = models.JSONField(null=True, blank=True, help_text="What the import did, row by row; set at its end.")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self):
        return f"{self.target}: {self.filename} ({self.created_at:%Y-%m-%d %H:%M})"
