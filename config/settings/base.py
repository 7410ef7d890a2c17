"""Settings shared by every environment. Values come from the environment (see .env.example)."""

from datetime import timedelta

from django_guid.integrations import CeleryIntegration

from config.settings.environment import BASE_DIR, ENVIRONMENT, env
from core.outages import connection_class_for

# Development default: refused in PRODUCTION by ops.checks.
DEV_SECRET_KEY = "django-insecure-local-development-key-change-me-0123456789"

SECRET_KEY_RAW = env.str("SECRET_KEY", default="")
SECRET_KEY = SECRET_KEY_RAW or DEV_SECRET_KEY
JWT_SIGNING_KEY_RAW = env.str("JWT_SIGNING_KEY", default="")
JWT_SIGNING_KEY = JWT_SIGNING_KEY_RAW or SECRET_KEY
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
RUN_DIR = BASE_DIR / ".run"
# Proxies whose X-Forwarded-For entries are believed: empty (none, the header is ignored), a
# number of proxies in front of the app, or their networks (core.clients).
TRUSTED_PROXIES = env.str("TRUSTED_PROXIES", default="")

INSTALLED_APPS = [
    "config.admin.BackOfficeAdminConfig",  # django.contrib.admin with the tidy index
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "django_guid",
    "corsheaders",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_results",
    "django_celery_beat",
    "django_prometheus",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "pgtrigger",
    "simple_history",
    "ops",
    "access",
    "tasks",
    "integrations",
    "companies",
    "books",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",  # request latency and counts
    "core.clients.ClientAddressMiddleware",  # everything after sees the client's address
    "core.middleware.RequestIdGuard",  # before django-guid: a client's odd id is not taken
    "django_guid.middleware.guid_middleware",
    "core.logging.AccessLogMiddleware",
    "core.middleware.ApiErrorsAsJson",
    "core.deadlines.QueryDeadlineMiddleware",  # a hung PostgreSQL costs seconds (metrics included)
    "ops.middleware.HealthCheckMiddleware",  # before the host is checked: probes ask by address
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "core.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # the language switch, Accept-Language, else pt-BR
    "core.localization.LocaleByAreaMiddleware",  # the API in English and UTC, the back office in Sao Paulo time
    "core.middleware.CommonMiddleware",  # 308 to the slashed path, method and body kept
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the second factor
    "access.sessions.SessionExpiryMiddleware",  # idle, too old, or signed out everywhere
    "access.admin_views.StaffSecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "access.middleware.ActorMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Databases -----------------------------------------------------------------------------
# DATABASE_URL wins; otherwise the seed deployment's POSTGRESQL_* names; otherwise SQLite.
CONN_MAX_AGE = env.int("CONN_MAX_AGE", default=600)
# A reused connection is checked (one `SELECT 1` round trip) before the first query of each
# request. PRODUCTION turns it off by default (see production.py).
CONN_HEALTH_CHECKS = env.bool("CONN_HEALTH_CHECKS", default=True)
# Queries are bound on the server (Django's documented `server_side_binding` option), and psycopg
# prepares a statement once it has run `prepare_threshold` times on a connection: hot reads skip
# PostgreSQL's parsing and planning. Turn off behind PgBouncer in transaction mode, which cannot
# keep prepared statements (queries are then bound on the client, Django's default).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
# A web request's query still running after this many seconds has its connection cut and the
# request answers 503 (core.deadlines): a hung server costs seconds, not a worker timeout. 0: off.
DATABASE_QUERY_TIMEOUT = env.float("DATABASE_QUERY_TIMEOUT", default=5.0)
# ... and whatever else a request waits for on its connection (a COMMIT) is cut after this long;
# below gunicorn's worker timeout (GUNICORN_TIMEOUT, 30 s by default).
DATABASE_REQUEST_TIMEOUT = env.float("DATABASE_REQUEST_TIMEOUT", default=20.0)
# PostgreSQL's own statement_timeout for every connection (web, workers, commands), in seconds;
# 0 (default): the server's setting.
DATABASE_STATEMENT_TIMEOUT = env.float("DATABASE_STATEMENT_TIMEOUT", default=0.0)


def _default_database():
    if env.str("DATABASE_URL", default=""):
        database = env.db_url("DATABASE_URL")
    elif env.str("POSTGRESQL_HOST", default=""):
        database = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": env.str("POSTGRESQL_DATABASE", default="postgres"),
            "USER": env.str("POSTGRESQL_USER", default="postgres"),
            "PASSWORD": env.str("POSTGRESQL_PASSWORD", default=""),
            "HOST": env.str("POSTGRESQL_HOST"),
            "PORT": env.str("POSTGRESQL_PORT", default="5432"),
        }
    else:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env.str("SQLITE_PATH", default=str(RUN_DIR / "db.sqlite3")),
            # Parallel writers wait for each other instead of failing with "database is locked":
            # write-ahead logging, transactions that take the write lock when they begin, and a
            # wait of up to 20 s for it.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    if database["ENGINE"] == "django.db.backends.postgresql":
        # Persistent connections with health checks: a new connection per request is ~4x slower.
        database["CONN_MAX_AGE"] = CONN_MAX_AGE
        database["CONN_HEALTH_CHECKS"] = CONN_HEALTH_CHECKS
        database.setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
        # psycopg prepares a statement after it ran this many times on a connection.
        database["OPTIONS"].setdefault("server_side_binding", DATABASE_PREPARED_STATEMENTS)
        database["OPTIONS"].setdefault("prepare_threshold", 5 if DATABASE_PREPARED_STATEMENTS else None)
        if DATABASE_STATEMENT_TIMEOUT:
            database["OPTIONS"].setdefault("options", f"-c statement_timeout={int(DATABASE_STATEMENT_TIMEOUT * 1000)}")
    return database


MONGODB_URI = env.str("MONGODB_URI", default="mongodb://127.0.0.1:27027/")
# A books API request's MongoDB operations (retries included) end within this long, then 503
# (books.views; imports and workers are not limited: their bulk writes take what they take).
MONGODB_OPERATION_TIMEOUT_MS = env.int("MONGODB_OPERATION_TIMEOUT_MS", default=5000)


def _database_in_uri(uri: str) -> str:
    """The database a MongoDB URI names (`mongodb://host/mydb?opts` -> "mydb"), or ""."""
    from urllib.parse import unquote

    _scheme, _, rest = uri.partition("://")
    _hosts, slash, path = rest.partition("/")
    return unquote(path.partition("?")[0]) if slash else ""


# MongoDB's convention: the URI's database is the one used; MONGODB_NAME only when it names none.
MONGODB_NAME = _database_in_uri(MONGODB_URI) or env.str("MONGODB_NAME", default="catalogue")

_MONGODB_TIMEOUT_MS = env.int("MONGODB_TIMEOUT_MS", default=3000)
DATABASES = {
    "default": _default_database(),
    "mongo": {
        "ENGINE": "django_mongodb_backend",
        "HOST": MONGODB_URI,
        "NAME": MONGODB_NAME,
        "OPTIONS": {
            "serverSelectionTimeoutMS": _MONGODB_TIMEOUT_MS,
            "connectTimeoutMS": _MONGODB_TIMEOUT_MS,

        },
    },
}
DATABASE_ROUTERS = ["books.routers.BooksRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, broker ------------------------------------------------------------------


def _redis_url():
    if env.str("REDIS_URL", default=""):
        return env.str("REDIS_URL")
    if env.str("REDIS_HOST", default=""):
        password = env.str("REDIS_PASSWORD", default="")
        auth = f":{password}@" if password else ""
        return (
            f"redis://{auth}{env.str('REDIS_HOST')}:{env.str('REDIS_PORT', default='6379')}"
            f"/{env.str('REDIS_DB', default='0')}"
        )
    return ""


REDIS_URL = _redis_url()
# After a Redis command times out, that Redis is treated as down for this many seconds: commands
# fail at once instead of each waiting for its timeout (core.outages); then it is tried again.
REDIS_DOWN_SECONDS = env.float("REDIS_DOWN_SECONDS", default=5.0)
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=1.0)

if REDIS_URL:
    CACHES = {
        "default": {
            # django-redis, with hit and miss counts for /metrics (django-prometheus).
            "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="app"),
            "TIMEOUT": env.int("CACHE_TTL", default=300),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": REDIS_SOCKET_TIMEOUT,
                "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT,
                "CONNECTION_POOL_KWARGS": (
                    {"connection_class": _guarded} if (_guarded := connection_class_for(REDIS_URL)) else {}
                ),
                # A cache outage degrades to database reads instead of failing requests.
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "cache"

# --- Celery -------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL or "memory://"
# django-celery-results' table, through a backend that waits for the database to come back
# rather than lose an outcome (tasks.backend); about ten minutes of retries, then the worker gives up
# and the message, never acknowledged, is delivered again.
CELERY_RESULT_BACKEND = "tasks.backend:DatabaseBackend"
CELERY_RESULT_BACKEND_ALWAYS_RETRY = True
CELERY_RESULT_BACKEND_MAX_RETRIES = 120
CELERY_RESULT_BACKEND_MAX_SLEEP_BETWEEN_RETRIES_MS = 5000
CELERY_RESULT_EXTENDED = True
CELERY_TASK_TRACK_STARTED = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_STORE_EAGER_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=180)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A message whose worker died is handed out again after the visibility timeout (Redis broker).
# It is also the longest a message may wait for its countdown in a worker's hands: no countdown
# is longer than half of it (tasks.base), so no waiting message is handed out twice.
_BROKER_SOCKET_TIMEOUT = env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=3.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT * 2),
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
    # A hung broker costs a web request seconds, not forever (longer than the worker's 1 s BRPOP).
    "socket_connect_timeout": _BROKER_SOCKET_TIMEOUT,
    "socket_timeout": _BROKER_SOCKET_TIMEOUT,
}
CELERY_BROKER_CONNECTION_TIMEOUT = _BROKER_SOCKET_TIMEOUT
# Publishing is not retried inside the request: a broker that does not answer costs one socket
# timeout, then 503 (and the broker is treated as down for REDIS_DOWN_SECONDS, tasks.services).
CELERY_TASK_PUBLISH_RETRY = False
TASK_MAX_COUNTDOWN_SECONDS = CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] / 2
# A task still running when the broker connection drops is cancelled, so its message (not yet
# acknowledged) is delivered again rather than lost.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

# --- Auth ---------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.int("PASSWORD_MIN_LENGTH", default=12)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The staff door (access.signin, access.sessions, access.admin_views): failed sign-ins at the admin
# and at POST /api/auth/token/ counted per username and per client address; at the limit, that
# username or address is refused for SIGNIN_LOCKOUT_MINUTES.
SIGNIN_MAX_FAILURES_PER_USERNAME = env.int("SIGNIN_MAX_FAILURES_PER_USERNAME", default=5)
SIGNIN_MAX_FAILURES_PER_ADDRESS = env.int("SIGNIN_MAX_FAILURES_PER_ADDRESS", default=20)
SIGNIN_LOCKOUT_MINUTES = env.float("SIGNIN_LOCKOUT_MINUTES", default=15)
# Sign-in records (both doors, every outcome) are kept this many days (a daily clean-up).
SIGNIN_RECORD_DAYS = env.int("SIGNIN_RECORD_DAYS", default=90)
# Admin sessions end after this long without a request, and this long after signing in.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=8 * 60)
SESSION_MAX_HOURS = env.float("SESSION_MAX_HOURS", default=12)
SESSION_COOKIE_AGE = int(SESSION_MAX_HOURS * 3600)
# Superusers must use two-factor sign-in (TOTP) in the admin; any staff user may turn it on.
ADMIN_REQUIRE_2FA = env.bool("ADMIN_REQUIRE_2FA", default=False)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Companies & Books back office")
# The admin index's dashboard (config.dashboard, decision 0043): its figures are cached this many
# seconds; exact company counts get this many milliseconds, after which PostgreSQL's estimates are shown
# (book counts too, after which the last figures counted in time are shown).
DASHBOARD_CACHE_SECONDS = env.int("DASHBOARD_CACHE_SECONDS", default=60)
DASHBOARD_EXACT_COUNT_MS = env.int("DASHBOARD_EXACT_COUNT_MS", default=200)
API_KEY = env.str("API_KEY", default="")  # the seed deployment's single full-access key
API_KEY_CUSTOM_HEADER = "HTTP_X_API_KEY"
# How long each web process keeps an API key's record (access.key_records): a key revoked in one
# process stops working in the others within this many seconds. 0 reads the database every time.
API_KEY_CACHE_SECONDS = env.int("API_KEY_CACHE_SECONDS", default=10)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    # Username, password and, for users with two-factor sign-in, the code (access.signin).
    "TOKEN_OBTAIN_SERIALIZER": "access.serializers.TokenObtainWithCodeSerializer",
}

# --- REST framework and docs --------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # JWT first: its WWW-Authenticate header turns "no credentials" into 401, not 403.
        "access.authentication.JWTAuthentication",
        "access.authentication.APIKeyAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["access.permissions.HasAPIAccess"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "access.throttles.APIKeyThrottle",
        "access.throttles.UserThrottle",
        "access.throttles.AnonThrottle",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # The client's address is REMOTE_ADDR, already resolved through TRUSTED_PROXIES
    # (core.clients); DRF must not read X-Forwarded-For on its own.
    "NUM_PROXIES": 0,
}

# Throttling (per API key, per user, per anonymous address; the token endpoint per address and
# per username). Format: "<count>/<second|minute|hour|day>".
API_THROTTLE_RATES = {
    "api_key": env.str("THROTTLE_RATE_API_KEY", default="3000/minute"),
    "user": env.str("THROTTLE_RATE_USER", default="600/minute"),
    "anon": env.str("THROTTLE_RATE_ANON", default="60/minute"),
    "login_address": env.str("THROTTLE_RATE_LOGIN_ADDRESS", default="20/minute"),
    "login_username": env.str("THROTTLE_RATE_LOGIN_USERNAME", default="10/minute"),
}
# CORS: browser origins allowed to call /api/ (exact origins, comma-separated).
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_HEADERS = (
    "accept", "authorization", "content-type", "x-api-key", "x-request-id", "x-csrftoken",
    "if-match", "if-none-match",
)
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After", "Location", "ETag"]

API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=ENVIRONMENT != "PRODUCTION")
SPECTACULAR_SETTINGS = {
    "TITLE": "Companies and Books API",
    "DESCRIPTION": (
        "Brazilian companies keyed by CNPJ (PostgreSQL, never deleted), enriched from the "
        "Receita Federal registry and pushed to Pipefy; a book catalogue stored in MongoDB. "
        "Authenticate with an `X-API-Key` header (services) or `Authorization: Bearer <JWT>` "
        "(people)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # In English whatever language is active (the admin's default is Portuguese).
    "DEFAULT_GENERATOR_CLASS": "config.schema.EnglishSchemaGenerator",
    "SCHEMA_PATH_PREFIX": "/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "displayOperationId": False},
    "SERVE_AUTHENTICATION": ["rest_framework.authentication.SessionAuthentication"],
    "SERVE_PERMISSIONS": (
        ["rest_framework.permissions.AllowAny"]
        if API_DOCS_PUBLIC
        else ["rest_framework.permissions.IsAdminUser"]
    ),
    # Stable OpenAPI names for the choice sets (the registry record has its own status list).
    "ENUM_NAME_OVERRIDES": {
        "CompanyRegistrationStatusEnum": "companies.models.RegistrationStatus",
        "CompanyEnrichmentStatusEnum": "companies.models.EnrichmentStatus",
        "StateEnum": "companies.models.UF_CHOICES",
        "ProviderStateEnum": "integrations.guard.STATES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.add_error_responses",
        "config.schema.add_examples",
    ],
}

# --- Internationalisation, static files ---------------------------------------------------
# The back office speaks Brazilian Portuguese unless the browser asks for English (Accept-Language)
# or the user picks it with the language switch; the API answers in English whatever the client asks
# (core.localization). Outside requests (tasks, commands, schema generation) the project's own code
# chooses English where what it writes is read by the API or by operators.
LANGUAGE_CODE = "pt-br"
LANGUAGES = [("pt-br", "Português (Brasil)"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates as dd/mm/aaaa in Portuguese (Django's pt_BR formats write the month's name).
FORMAT_MODULE_PATH = ["config.formats"]
# Stored and served by the API in UTC; the back office shows times in this zone (core.localization).
TIME_ZONE = "UTC"
BACK_OFFICE_TIME_ZONE = "America/Sao_Paulo"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]  # the project's own (the admin dashboard's style sheet)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MAX_REQUEST_BODY_BYTES = env.int("MAX_REQUEST_BODY_BYTES", default=1_048_576)
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=20_971_520)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES

# --- Logging ------------------------------------------------------------------------------
# JSON lines in PRODUCTION (LOG_FORMAT=json|plain to choose), each with the request id
# (X-Request-ID, accepted or generated, and returned) and, inside tasks, the task id.
# Secrets (API keys, tokens, passwords) are redacted from every record.
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if ENVIRONMENT == "PRODUCTION" else "plain")
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": False,
    "RETURN_HEADER": True,
    "EXPOSE_HEADER": True,
    # Carries the request id into the tasks a request enqueues, and has Celery workers log with
    # LOGGING. Its task start/end handlers are called from core.logging, which adds the task id.
    "INTEGRATIONS": [CeleryIntegration(use_django_logging=True)],
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # request_id and, inside Celery tasks, task_id; then secrets out of everything.
        "ids": {"()": "core.logging.RequestTaskIds"},
        "refusals": {"()": "core.logging.QuietRefusals"},
        "outages": {"()": "core.logging.OutagesWithoutTraceback"},
        "redact": {"()": "core.logging.RedactSecrets"},
    },
    "formatters": {
        "plain": {
            "()": "logging.Formatter",
            "fmt": "%(asctime)s %(levelname)s [%(request_id)s] [task %(task_id)s] %(name)s %(message)s",
            "defaults": {"request_id": "-", "task_id": "-"},
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(task_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["refusals", "ids", "outages", "redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # One access line per request comes from core.logging.AccessLogMiddleware.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        "django_guid": {"level": "WARNING"},
        # One INFO line per outbound request is noise (the providers' outcomes are logged).
        "httpx": {"level": "WARNING"},
    },
}

# --- Health and metrics -----------------------------------------------------------------------
# /metrics (Prometheus) answers these networks (the client address after TRUSTED_PROXIES) or a
# request with `Authorization: Bearer <METRICS_TOKEN>`; anyone else gets 403.
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.1/32", "::1/128"])
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Error reports to Sentry when set (Django and Celery; no personal data, secrets scrubbed).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
# /health/ready waits this long for its checks (they run side by side); one still running is
# reported down, so the answer comes within about this time whatever hangs.
HEALTH_CHECK_TIMEOUT = env.float("HEALTH_CHECK_TIMEOUT", default=1.5)

# --- Integrations: registry lookup (CNPJ providers), Pipefy, background tasks -------------
# Outbound HTTP: every call has explicit connect and read timeouts (seconds).
INTEGRATIONS_CONNECT_TIMEOUT = env.float("INTEGRATIONS_CONNECT_TIMEOUT", default=3.0)
INTEGRATIONS_READ_TIMEOUT = env.float("INTEGRATIONS_READ_TIMEOUT", default=10.0)
INTEGRATIONS_USER_AGENT = env.str("INTEGRATIONS_USER_AGENT", default="companies-books-api/1.0")
# Registry providers, tried in this order; the compact CNPJ is appended to each base URL.
CNPJ_PROVIDERS = env.list("CNPJ_PROVIDERS", default=["brasilapi", "receitaws", "cnpja"])
BRASILAPI_URL = env.str("BRASILAPI_URL", default="https://brasilapi.com.br/api/cnpj/v1/")
RECEITAWS_URL = env.str("RECEITAWS_URL", default="https://receitaws.com.br/v1/cnpj/")
RECEITAWS_TOKEN = env.str("RECEITAWS_TOKEN", default="")
CNPJA_URL = env.str("CNPJA_URL", default="https://open.cnpja.com/office/")
# Each provider's capacity, shared by every worker through Redis ("N/second|minute|hour", or
# "N per 30 seconds"; empty: no limit). Defaults are the free tiers: ReceitaWS publishes 3 a
# minute and CNPJa's open API 5; BrasilAPI publishes none (60 is a polite share); Pipefy allows
# 500 requests per 30 seconds per token.
PROVIDER_RATES = {
    "brasilapi": env.str("BRASILAPI_RATE", default="60/minute"),
    "receitaws": env.str("RECEITAWS_RATE", default="3/minute"),
    "cnpja": env.str("CNPJA_RATE", default="5/minute"),
    "pipefy": env.str("PIPEFY_RATE", default="500 per 30 seconds"),
}
# Circuit breaker: after this many consecutive failures a provider is skipped for a while.
CNPJ_BREAKER_FAIL_MAX = env.int("CNPJ_BREAKER_FAIL_MAX", default=5)
CNPJ_BREAKER_RESET_SECONDS = env.int("CNPJ_BREAKER_RESET_SECONDS", default=60)
REGISTRY_CACHE_TTL = env.int("REGISTRY_CACHE_TTL", default=24 * 3600)
# GET /api/registry/{cnpj}/ asks the providers for at most this long in all, then answers 503;
# keep it below gunicorn's worker timeout (GUNICORN_TIMEOUT, 30 s), which a system check verifies.
REGISTRY_DEADLINE_SECONDS = env.float("REGISTRY_DEADLINE_SECONDS", default=20.0)
REGISTRY_MAX_AGE_DAYS = env.int("REGISTRY_MAX_AGE_DAYS", default=30)
REGISTRY_REFRESH_BATCH = env.int("REGISTRY_REFRESH_BATCH", default=100)
# Pipefy (GraphQL). PIPEFY_FIELD_MAP: JSON object, company attribute -> Pipefy field id.
PIPEFY_URL = env.str("PIPEFY_URL", default="https://api.pipefy.com/graphql")
PIPEFY_TOKEN = env.str("PIPEFY_TOKEN", default="")
PIPEFY_PIPE_ID = env.str("PIPEFY_PIPE_ID", default="")
PIPEFY_PHASE_ID = env.str("PIPEFY_PHASE_ID", default="")
PIPEFY_FIELD_MAP = env.json("PIPEFY_FIELD_MAP", default={})
PIPEFY_AUTO_PUSH = env.bool("PIPEFY_AUTO_PUSH", default=False)
PIPEFY_READ_TIMEOUT = env.float("PIPEFY_READ_TIMEOUT", default=35.0)  # Pipefy allows 33 s per request
# Task retries: exponential backoff with jitter, capped. TASK_MAX_RETRIES is the budget for real
# failures (an upstream timing out or failing, a backing service down); waiting for a provider's
# capacity spends none of it.
TASK_MAX_RETRIES = env.int("TASK_MAX_RETRIES", default=8)
TASK_RETRY_BACKOFF_SECONDS = env.float("TASK_RETRY_BACKOFF_SECONDS", default=5.0)
TASK_RETRY_BACKOFF_MAX_SECONDS = env.float("TASK_RETRY_BACKOFF_MAX_SECONDS", default=600.0)
# The enrichment and Pipefy backlogs (companies.backlog): how many drain tasks run at once, how
# long one runs before handing over to the next, and how often beat checks the backlogs and
# reconciles stranded task rows.
BACKLOG_DRAINERS = env.int("BACKLOG_DRAINERS", default=2)
# A drain ends well within the visibility timeout, so its message is never handed out twice.
BACKLOG_DRAIN_SECONDS = min(env.int("BACKLOG_DRAIN_SECONDS", default=50), int(TASK_MAX_COUNTDOWN_SECONDS))
BACKLOG_TICK_SECONDS = env.int("BACKLOG_TICK_SECONDS", default=30)
# A task row PENDING or STARTED this long with no message left for it is stranded: the
# reconciler queues it again (at most TASK_REQUEUE_MAX times) or marks it failed with the reason.
TASK_STRANDED_SECONDS = env.int(
    "TASK_STRANDED_SECONDS", default=CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] + CELERY_TASK_TIME_LIMIT
)
TASK_REQUEUE_MAX = env.int("TASK_REQUEUE_MAX", default=3)
# Task results are kept this long, then Celery's daily `celery.backend_cleanup` (beat) removes
# them; `/api/tasks/{id}/` then answers 404 saying so.
TASK_RESULT_EXPIRES = env.int("TASK_RESULT_EXPIRES", default=7 * 24 * 3600)
CELERY_RESULT_EXPIRES = timedelta(seconds=TASK_RESULT_EXPIRES)
CELERY_BEAT_SCHEDULE = {
    "backlog-tick": {"task": "companies.backlog_tick", "schedule": BACKLOG_TICK_SECONDS},
    "tasks-reconcile": {"task": "tasks.reconcile", "schedule": max(60, BACKLOG_TICK_SECONDS)},
    # Expired JWT outstanding and blacklisted rows, once a day.
    "flush-expired-tokens": {"task": "access.flush_expired_tokens", "schedule": 24 * 3600},
    # Sign-in records older than SIGNIN_RECORD_DAYS, once a day.
    "prune-signin-records": {"task": "access.prune_signin_records", "schedule": 24 * 3600},
}

# --- Books (MongoDB) ----------------------------------------------------------------------
# Largest file POST /api/books/import/ accepts; its text travels in the task message, so keep it
# modest. Bigger files: `manage.py import_books FILE`.
BOOKS_IMPORT_MAX_BYTES = env.int("BOOKS_IMPORT_MAX_BYTES", default=1_048_576)

# --- The admin's import and export -----------------------------------------------------------
# Largest file the admin's import accepts (its text is stored in the database until imported).
ADMIN_IMPORT_MAX_BYTES = env.int("ADMIN_IMPORT_MAX_BYTES", default=5_242_880)
# Most rows an XLSX export may hold (it is built before it is sent); CSV exports have no limit.
ADMIN_EXPORT_XLSX_MAX_ROWS = env.int("ADMIN_EXPORT_XLSX_MAX_ROWS", default=100_000)

if SENTRY_DSN:
    from core.sentry import sentry_setup

    sentry_setup(dsn=SENTRY_DSN, environment=ENVIRONMENT, traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE)
