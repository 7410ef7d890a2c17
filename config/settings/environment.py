"""The one reader of the environment: a `.env` file (when present) under the real variables."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
ENVIRONMENTS = ("LOCAL", "TEST", "PRODUCTION")

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    # Variables already set in the process win over the file.
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

ENVIRONMENT = env.str("ENVIRONMENT", default="LOCAL").strip().upper()
if ENVIRONMENT not in ENVIRONMENTS:
    raise environ.ImproperlyConfigured(
        f"ENVIRONMENT={ENVIRONMENT!r} is not one of {', '.join(ENVIRONMENTS)}"
    )
