"""The one reader of the environment: a `.env` file (when present) under the real variables."""

import re
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
ENVIRONMENTS = ("LOCAL", "TEST", "PRODUCTION")

FALSE_STRINGS = ("false", "off", "n", "no", "0")
_PATTERNS = {
    int: (re.compile(r"[+-]?\d+"), "a whole number"),
    float: (re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)"), "a number such as 5 or 1.5"),
}


class StrictEnv(environ.Env):
    """django-environ, strict about numbers and booleans: `1,000`, `5s`, `nan` or `maybe` stop the
    start with a message naming the variable, instead of a traceback or a silent misreading. An
    empty value means "use the default"."""

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        raw = self.ENVIRON.get(var)
        if raw is not None and cast in (int, float, bool):
            text = raw.strip()
            if not text and default is not environ.Env.NOTSET:
                return default
            if cast is bool:
                if text.lower() not in (*self.BOOLEAN_TRUE_STRINGS, *FALSE_STRINGS):
                    raise environ.ImproperlyConfigured(f"{var}={raw!r} is not true or false.")
            elif not _PATTERNS[cast][0].fullmatch(text):
                raise environ.ImproperlyConfigured(f"{var}={raw!r} is not {_PATTERNS[cast][1]}.")
        return super().get_value(var, cast=cast, default=default, parse_default=parse_default)


env = StrictEnv()
if (BASE_DIR / ".env").is_file():
    # Variables already set in the process win over the file.
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

ENVIRONMENT = env.str("ENVIRONMENT", default="LOCAL").strip().upper()
if ENVIRONMENT not in ENVIRONMENTS:
    raise environ.ImproperlyConfigured(
        f"ENVIRONMENT={ENVIRONMENT!r} is not one of {', '.join(ENVIRONMENTS)}"
    )
