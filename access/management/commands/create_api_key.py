"""manage.py create_api_key NAME [--read-only] [--expires-in-days N]: prints the key once."""

from django.core.management.base import BaseCommand, CommandError, no_translations

from access.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a service and print it (it cannot be shown again)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Who the key is for, e.g. billing-service")
        parser.add_argument("--read-only", action="store_true", help="GET/HEAD/OPTIONS only")
        parser.add_argument("--expires-in-days", type=int, default=None, metavar="N")

    @no_translations  # operators read the commands' output in English, like the API's messages
    def handle(self, *args, name, read_only, expires_in_days, **options):
        if not name.strip():
            raise CommandError("Give the key a name: who or what will use it (e.g. billing-service).")
        if expires_in_days is not None and expires_in_days <= 0:
            raise CommandError("--expires-in-days must be a positive number of days")
        api_key, raw_key = api_key_create(
            name=name, read_only=read_only, expires_in_days=expires_in_days
        )
        details = ["read-only" if read_only else "full access"]
        if api_key.expiry_date:
            details.append(f"expires {api_key.expiry_date:%Y-%m-%d %H:%M} UTC")
        self.stderr.write(f"Created API key '{name}' ({', '.join(details)}). Store it now:")
        self.stdout.write(raw_key)
