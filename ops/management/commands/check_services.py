"""manage.py check_services: the readiness checks on a terminal; non-zero exit on failure."""

from django.core.management.base import BaseCommand, no_translations

from ops.health import run_checks


class Command(BaseCommand):
    help = "Check the database, MongoDB, cache and broker; exit 1 if any is unavailable."

    def add_arguments(self, parser):
        parser.add_argument(
            "--timeout", type=float, default=10.0, help="seconds to wait for the checks (default 10)"
        )

    @no_translations  # operators read the commands' output in English, like the API's messages
    def handle(self, *args, **options):
        results = run_checks(timeout=options["timeout"])
        for result in results:
            mark = self.style.SUCCESS("ok  ") if result.ok else self.style.ERROR("FAIL")
            self.stdout.write(f"{mark} {result.label:<22} {result.ms:>8.1f} ms  {result.detail}")
        failed = [result.label for result in results if not result.ok]
        if failed:
            self.stderr.write(self.style.ERROR("Unavailable: " + ", ".join(failed)))
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS("All services ready."))
