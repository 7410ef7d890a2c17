"""The periodic registry refresh, as a django-celery-beat schedule editable in the admin."""

from django.db import migrations

TASK_NAME = "companies.refresh_stale"
SCHEDULE_NAME = "Refresh stale companies from the registry"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="3", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.get_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "task": TASK_NAME,
            "crontab": crontab,
            "enabled": True,
            "description": "Every night: re-read from the registry the companies whose data is older than "
            "REGISTRY_MAX_AGE_DAYS (and those whose enrichment never finished), in bounded batches.",
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
