"""manage.py bootstrap_local: first-run setup for `make run` (LOCAL only).

Creates a superuser and a full-access API key once, loads the demo dataset once, and prints the
credentials and URLs on every run. The credentials live in the git-ignored `.run/` folder.
"""

import json
import secrets
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, no_translations

from access.actor import acting_as
from access.services import api_key_create

DEMO_LOADERS = ("companies.demo", "books.demo")


class Command(BaseCommand):
    help = "Create the local superuser, API key and demo data (LOCAL only) and print them."

    def add_arguments(self, parser):
        parser.add_argument("--port", default="5000")

    @no_translations  # operators read the commands' output in English, like the API's messages
    def handle(self, *args, port, **options):
        if settings.ENVIRONMENT != "LOCAL":
            raise CommandError("bootstrap_local runs only with ENVIRONMENT=LOCAL")
        credentials_path = settings.RUN_DIR / "local-credentials.json"
        credentials = self._credentials(credentials_path)
        with acting_as("command:bootstrap_local"):
            self._load_demo_data(credentials_path.with_name("demo-loaded"))
        base = f"http://127.0.0.1:{port}"
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "Local credentials (stored in .run/local-credentials.json):",
                    f"  admin login   {credentials['username']} / {credentials['password']}",
                    f"  API key       {credentials['api_key']}",
                    "URLs:",
                    f"  API docs      {base}/api/doc/",
                    f"  admin         {base}/admin/",
                    f"  readiness     {base}/health/ready",
                    f"  try it        curl -H 'X-API-Key: {credentials['api_key']}' {base}/api/companies/",
                    "",
                ]
            )
        )

    def _credentials(self, path):
        user_model = get_user_model()
        if path.exists():
            credentials = json.loads(path.read_text())
            if user_model.objects.filter(username=credentials["username"]).exists():
                return credentials
        username, password = "admin", secrets.token_urlsafe(12)
        user = user_model.objects.filter(username=username).first()
        if user is None:
            user = user_model.objects.create_superuser(username, "admin@localhost", password)
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        _, raw_key = api_key_create(name="local-development")
        credentials = {"username": username, "password": password, "api_key": raw_key}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(credentials, indent=2))
        path.chmod(0o600)
        return credentials

    def _load_demo_data(self, marker):
        if marker.exists():
            return
        for module_name in DEMO_LOADERS:
            try:
                module = import_module(module_name)
            except ModuleNotFoundError:
                continue
            count = module.load_demo_data()
            self.stdout.write(f"Loaded {count} demo records from {module_name}.")
        marker.write_text("loaded\n")
