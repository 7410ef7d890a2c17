"""`make run`: start the embedded MongoDB-speaking server (unless MONGODB_URI is set), migrate,
bootstrap the local superuser/API key/demo data, then serve with autoreload."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.services import MongoServer  # noqa: E402


def manage(*args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], check=True, cwd=ROOT)


def main() -> int:
    port = os.environ.get("MS_PORT", "5000")
    mongo = None
    if os.environ.get("ENVIRONMENT", "LOCAL").upper() != "LOCAL":
        print("make run serves LOCAL settings only; use gunicorn for other environments.")
        return 2
    if not os.environ.get("MONGODB_URI"):
        mongo = MongoServer.start(ROOT / ".run" / "mongo")
        os.environ["MONGODB_URI"] = mongo.url
        print(f"Embedded MongoDB-speaking server (secantusdb) on {mongo.url}")
    try:
        (ROOT / ".run").mkdir(exist_ok=True)
        manage("migrate", "--noinput", "-v", "0")
        manage("migrate", "--database", "mongo", "--noinput", "-v", "0")
        manage("bootstrap_local", "--port", port)
        return subprocess.call([sys.executable, str(ROOT / "manage.py"), "runserver", f"127.0.0.1:{port}"], cwd=ROOT)
    except KeyboardInterrupt:
        return 0
    finally:
        if mongo:
            mongo.stop(remove=False)


if __name__ == "__main__":
    sys.exit(main())
