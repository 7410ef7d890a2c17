from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"

    def ready(self):
        import os
        from pathlib import Path

        from ops import checks  # noqa: F401  (registers the production system checks)

        # Metrics files of every process (web, worker, commands) go there: it must exist.
        if directory := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            Path(directory).mkdir(parents=True, exist_ok=True)
