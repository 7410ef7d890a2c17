from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = _("Operations")

    def ready(self):
        import os
        from pathlib import Path

        from ops import checks  # noqa: F401  (registers the production system checks)

        # Metrics files of every process (web, worker, commands) go there: it must exist.
        if directory := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            Path(directory).mkdir(parents=True, exist_ok=True)
