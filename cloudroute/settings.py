"""Settings, read once from the environment with safe local defaults (SQLite, a filesystem broker,
the local Bedrock sandbox). Production hardening is switched on by DJANGO_PRODUCTION=1.

One module on purpose, though past 400 lines: every setting and its environment variable are read
in one place, in the order README's Configuration table lists them, so an operator greps one file."""
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("CLOUDROUTE_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

PRODUCTION = env.bool("DJANGO_PRODUCTION", default=False)
DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)

# Keys published in this repository: good enough for a DEBUG run on a laptop, never for anything else.
PUBLISHED_SECRET_KEYS = frozenset({"local-development-only-not-secret", "compose-local-only-change-me"})
if PRODUCTION:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")  # no default: fail fast
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="local-development-only-not-secret")
if not DEBUG and (len(SECRET_KEY) < 32 or SECRET_KEY in PUBLISHED_SECRET_KEYS):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a private value of at least 32 characters when DJANGO_DEBUG is off "
        "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )

# Only a DEBUG run answers any host name; otherwise the names come from DJANGO_ALLOWED_HOSTS.
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS",
    default=[] if PRODUCTION else ["*"] if DEBUG else ["localhost", "127.0.0.1", "[::1]"],
)
# The ports `make run` serves on (scripts/run-local.sh): the web server and the local Bedrock sandbox.
PORT = env.int("PORT", default=8000)
SANDBOX_PORT = env.int("SANDBOX_PORT", default=8765)
SITE_URL = env.str("CLOUDROUTE_SITE_URL", default=f"http://127.0.0.1:{PORT}")

INSTALLED_APPS = [
    "cloudroute.admin_site.CloudRouteAdminConfig",  # django.contrib.admin, opened by role
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files (CSP: no CDN)
    "axes",  # failed-login lockout (admin and every password login)
    "core",  # helpers every app uses, and the outbound email table
    "intake",
    "matching",
    "filing",
    "bakeoff_jobs",
    "portal",
    "bedrock_sandbox",  # the local Bedrock stand-in: only its `manage.py bedrock_sandbox` command
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files under gunicorn too
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.inputs.QueryStringTextMiddleware",  # %00 in a query string is a 400, not a database error
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.security.ContentSecurityPolicyMiddleware",
    "core.security.PrivateByDefaultCacheMiddleware",  # no-store unless a response allows caching
    "intake.throttles.IntakeFormRateLimitMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a refused login into the lockout page
]

# django-axes refuses a login before the password is checked once it is locked out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "cloudroute.urls"
WSGI_APPLICATION = "cloudroute.wsgi.application"

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
                "matching.roles.access_context",  # the login's role, for menus
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'cloudroute.sqlite3'}"),
}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Workers and the web process share the file: wait for locks instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]  # the one project stylesheet and the progress script
# Served by WhiteNoise straight from the app and project folders: no collectstatic step to forget.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOGIN_URL = "admin:login"

# --- Email: logged at INFO locally (core.mail), any backend in production ---------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="core.mail.LoggingEmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CloudRoute <hello@cloudroute.local>")

# --- Redis layout -------------------------------------------------------------------------------
# One server (REDIS_URL, else the server of a redis:// CELERY_BROKER_URL), one database per use, so
# flushing or evicting one never touches another: the broker on database 0 (or CELERY_BROKER_URL's
# own), the cache on 1, rate limits, login lockouts and model quotas on 2. Every key CloudRoute
# writes outside the broker also starts with REDIS_KEY_PREFIX. Each URL can be given on its own.
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
_broker_from_env = env.str("CELERY_BROKER_URL", default="")
REDIS_URL = env.str("REDIS_URL", default=_broker_from_env if _broker_from_env.startswith(_REDIS_SCHEMES) else "")


def redis_database(url: str, number: int) -> str:
    """`url` with its database number replaced by `number` (redis://host:port/N or ?db=N for unix://)."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "db"] + [("db", str(number))]
        return f"unix://{parts.netloc}{parts.path}?{urlencode(query)}"
    return urlunsplit(parts._replace(path=f"/{number}"))


REDIS_KEY_PREFIX = env.str("REDIS_KEY_PREFIX", default="cloudroute")
CACHE_REDIS_URL = env.str("CACHE_REDIS_URL", default=redis_database(REDIS_URL, 1) if REDIS_URL else "")
# Shared state for the rate limits, token lockouts and model quotas across processes: Redis when
# given, else the file cache (rate limits) and a SQLite file (quotas) every local process shares.
RATE_LIMIT_REDIS_URL = env.str("RATE_LIMIT_REDIS_URL", default=redis_database(REDIS_URL, 2) if REDIS_URL else "")
RATE_LIMIT_FILE = env.str("RATE_LIMIT_FILE", default=str(VAR_DIR / "quotas.sqlite3"))

# --- Celery -----------------------------------------------------------------------------------
# Without CELERY_BROKER_URL or REDIS_URL a real worker still runs, on kombu's filesystem transport.
CELERY_BROKER_URL = _broker_from_env or (redis_database(REDIS_URL, 0) if REDIS_URL else "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "control_folder": str(_queue_dir / "control"),
        "processed_folder": str(_queue_dir / "processed"),
        "store_processed": False,
    }
    for _sub in ("queue", "control", "processed"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
CELERY_RESULT_BACKEND = None  # results live in our own tables
# The queue tasks are sent to and workers read: a benchmark or a second deployment on one broker
# database names its own.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True  # a killed worker's task goes back to the queue
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the database connection before and after every task unless this is
# set: a new PostgreSQL connection (and server process) per task. With it, a worker treats each task
# like a request instead (cloudroute/celery.py): CONN_MAX_AGE (`?conn_max_age=600` in DATABASE_URL)
# decides how long a connection is kept; the default 0 still closes it after every task.
CELERY_DB_REUSE_MAX = 1_000_000_000
CELERY_WORKER_REDIRECT_STDOUTS_LEVEL = "INFO"  # what a task prints is information, not a warning
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=660)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {}
# Emails stored but left unsent (their task lost, their worker killed) are queued again (core.mail).
CELERY_BEAT_SCHEDULE["emails-deliver-waiting"] = {
    "task": "core.tasks.emails_deliver_waiting",
    "schedule": env.int("EMAIL_SWEEP_SECONDS", default=60),
}

# --- AWS --------------------------------------------------------------------------------------
# Region and credentials come from the standard AWS chain. Locally the Converse endpoint is the
# project's own sandbox (manage.py bedrock_sandbox).
BEDROCK_ENDPOINT_URL = env.str("BEDROCK_ENDPOINT_URL", default=f"http://127.0.0.1:{SANDBOX_PORT}")
BEDROCK_REGION = env.str("AWS_DEFAULT_REGION", default="us-east-1")
# Bedrock's control plane (ListFoundationModels, ListInferenceProfiles) for the catalog sync: the
# same sandbox locally; empty means real AWS.
BEDROCK_CONTROL_ENDPOINT_URL = env.str("BEDROCK_CONTROL_ENDPOINT_URL", default=BEDROCK_ENDPOINT_URL)
PARTNER_CENTRAL_CATALOG = env.str("PARTNER_CENTRAL_CATALOG", default="Sandbox")
# Partner Central credentials: explicit keys or a named profile. With neither, filings are
# recorded by hand in the admin (same history either way).
PARTNER_CENTRAL_REGION = env.str("PARTNER_CENTRAL_REGION", default="us-east-1")
PARTNER_CENTRAL_AWS_PROFILE = env.str("PARTNER_CENTRAL_AWS_PROFILE", default="")
PARTNER_CENTRAL_ACCESS_KEY_ID = env.str("PARTNER_CENTRAL_ACCESS_KEY_ID", default="")
PARTNER_CENTRAL_SECRET_ACCESS_KEY = env.str("PARTNER_CENTRAL_SECRET_ACCESS_KEY", default="")
PARTNER_CENTRAL_SESSION_TOKEN = env.str("PARTNER_CENTRAL_SESSION_TOKEN", default="")
PARTNER_CENTRAL_SYNC_MINUTES = env.int("PARTNER_CENTRAL_SYNC_MINUTES", default=30)
# How many of the latest intakes a rule edit's impact preview re-evaluates (admin and preview_eligibility).
ELIGIBILITY_IMPACT_INTAKES = env.int("ELIGIBILITY_IMPACT_INTAKES", default=200)
# Intakes whose evaluation task was lost (broker down at submission) are queued again (the tasks are
# matching/tasks.py's; their names stay "intake.tasks.…" so queued messages still find them).
CELERY_BEAT_SCHEDULE["intakes-evaluate-waiting"] = {
    "task": "intake.tasks.intakes_evaluate_waiting",
    "schedule": env.int("INTAKE_SWEEP_SECONDS", default=60),
}
CELERY_BEAT_SCHEDULE["intake-status-emails-waiting"] = {
    "task": "intake.tasks.intake_status_emails_waiting",
    "schedule": env.int("INTAKE_SWEEP_SECONDS", default=60),
}
CELERY_BEAT_SCHEDULE["partner-central-sync"] = {
    "task": "matching.tasks.sync_partner_central",  # filing.tasks keeps the name it had in matching
    "schedule": PARTNER_CENTRAL_SYNC_MINUTES * 60,
}

# --- Client addresses -------------------------------------------------------------------------
# How many reverse proxies (load balancers) in front of the app append to X-Forwarded-For. 0: the
# client is REMOTE_ADDR and the header is ignored; N: the Nth address from the right of the header.
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=env.int("DJANGO_NUM_PROXIES", default=0))

# --- REST framework ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.authentication.LockingTokenAuthentication",  # partners; wrong tokens lock an address
        "rest_framework.authentication.SessionAuthentication",  # staff in the browser (CSRF enforced)
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["matching.filters.RoleScopedFilterBackend"],  # record choices scoped to the role
    # The browsable API's forms offer only the caller's records, as the filters do.
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "matching.renderers.RoleScopedBrowsableAPIRenderer",
    ],
    # JSON within depth, number and text limits (core.inputs); forms and uploads as DRF parses them.
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.LimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    # DRF's own get_ident agrees with core.ratelimit.client_address (which every limit uses).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CloudRoute API",
    "DESCRIPTION": "Founder intake and status; partners' engagements, filings and bake-offs; staff figures.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],  # the schema and docs are public
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": f"/{STATIC_URL}favicon.svg",  # static/favicon.svg, as on every page
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "IntakeStageEnum": "intake.models.Stage",
        "EngagementStatusEnum": "matching.models.engagements.EngagementStatus",
        "AceStageEnum": "filing.models.partner_central_choices.AceStage",
        "AceReviewStatusEnum": "filing.models.partner_central_choices.AceReviewStatus",
        "BenefitStatusEnum": "filing.models.partner_central_choices.BenefitStatus",
        "RunStatusEnum": "bakeoff_jobs.models.RunStatus",
    },
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.add_error_responses",
    ],
}

# --- Cache: its own Redis database when there is one, else a file cache every process shares ----
if CACHE_REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_REDIS_URL,
                          "KEY_PREFIX": f"{REDIS_KEY_PREFIX}:cache"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache")}}
# Public intake (API and web form): submissions per client address, DRF rate syntax ("20/min").
INTAKE_RATE_LIMIT = env.str("INTAKE_RATE_LIMIT", default="20/min")
# A founder's status link works this many days after it was made (every email carries a fresh one).
STATUS_LINK_MAX_AGE_DAYS = env.int("STATUS_LINK_MAX_AGE_DAYS", default=30)
# A rate limit whose store (Redis) cannot be reached counts in process memory instead and logs an
# ERROR at most once per this many seconds per process, for monitoring to alert on.
RATE_LIMIT_STORE_ERROR_LOG_SECONDS = env.int("RATE_LIMIT_STORE_ERROR_LOG_SECONDS", default=60)

# --- Login lockout (django-axes), per username and client address -------------------------------
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_MINUTES = env.int("AXES_COOLOFF_MINUTES", default=15)
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # one user locked from one address, not everyone
AXES_CLIENT_IP_CALLABLE = "core.ratelimit.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "core.security.login_locked_out"  # templates/registration/locked_out.html
# Wrong API tokens from one address within the cool-off, before that address's token requests are
# refused (429) for the rest of it. Counted in the rate-limit store.
API_TOKEN_FAILURE_LIMIT = env.int("API_TOKEN_FAILURE_LIMIT", default=AXES_FAILURE_LIMIT)

# Eval set uploads through the API are refused above these, before the file is parsed.
EVALSET_UPLOAD_MAX_BYTES = env.int("EVALSET_UPLOAD_MAX_BYTES", default=5 * 1024 * 1024)
EVALSET_UPLOAD_MAX_ROWS = env.int("EVALSET_UPLOAD_MAX_ROWS", default=5000)
# Larger request bodies are refused before they are read into memory or parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
# Content-Security-Policy on every response: the pages need no third-party origin.
CONTENT_SECURITY_POLICY = env.str(
    "DJANGO_CONTENT_SECURITY_POLICY",
    default="default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'",
)

# --- Production hardening ---------------------------------------------------------------------
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_HTTPONLY = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"

# Paths that carry a secret, for the log filter: the first group is kept, what follows it is the
# secret (the founder's status link token, in the page's and the API's path).
SECRET_PATH_PATTERNS = [r"(/status/)[^/?#\s\"']+"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    # A founder's status link token rides in the path: the loggers that write request paths write
    # "/status/[redacted]/" instead (core.logfilters).
    "filters": {"secret_paths": {"()": "core.logfilters.RedactSecretPaths", "patterns": SECRET_PATH_PATTERNS}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Django's own loggers print through the root handler only (its default adds a console handler
    # of its own under DEBUG, so every 4xx was printed twice).
    "loggers": {"django": {"handlers": [], "level": "INFO", "propagate": True},
                "django.request": {"handlers": [], "level": "INFO", "propagate": True, "filters": ["secret_paths"]},
                "django.server": {"handlers": [], "level": "INFO", "propagate": True, "filters": ["secret_paths"]},
                # httpx logs each self-hosted call's request line at INFO: thousands a run.
                "httpx": {"handlers": [], "level": "WARNING", "propagate": True}},
}

VAR_DIR.mkdir(parents=True, exist_ok=True)

# --- Bake-off engine --------------------------------------------------------------------------
BAKEOFF_CHUNK_SIZE = env.int("BAKEOFF_CHUNK_SIZE", default=500)  # cases per (model, slice) task (batch runs' rest)
BAKEOFF_LANES = env.int("BAKEOFF_LANES", default=4)  # lane tasks per on-demand run (at least one per model)
BAKEOFF_MAX_ATTEMPTS = env.int("BAKEOFF_MAX_ATTEMPTS", default=10)  # per call, throttling included
BAKEOFF_MAX_THREADS_PER_CHUNK = env.int("BAKEOFF_MAX_THREADS_PER_CHUNK", default=256)  # per chunk or lane
BAKEOFF_SLOT_LEASE_SECONDS = env.int("BAKEOFF_SLOT_LEASE_SECONDS", default=330)
BAKEOFF_SLOT_TIMEOUT_SECONDS = env.float("BAKEOFF_SLOT_TIMEOUT_SECONDS", default=60)
BAKEOFF_FLUSH_SECONDS = env.float("BAKEOFF_FLUSH_SECONDS", default=0.5)
BAKEOFF_CANCEL_POLL_SECONDS = env.float("BAKEOFF_CANCEL_POLL_SECONDS", default=0.5)
BAKEOFF_STUCK_AFTER_SECONDS = env.int("BAKEOFF_STUCK_AFTER_SECONDS", default=300)
CELERY_BEAT_SCHEDULE["bakeoff-resume-stuck"] = {
    "task": "bakeoff_jobs.resume_stuck",
    "schedule": env.int("BAKEOFF_STUCK_CHECK_SECONDS", default=60),
}
# The catalog follows Bedrock's model lifecycle and inference profiles (manage.py sync_catalog).
CATALOG_SYNC_HOURS = env.float("CATALOG_SYNC_HOURS", default=24)
CELERY_BEAT_SCHEDULE["catalog-sync"] = {
    "task": "bakeoff_jobs.sync_catalog",
    "schedule": CATALOG_SYNC_HOURS * 3600,
}
# Batch bake-offs (Bedrock batch inference): input and output JSONL under this bucket and prefix,
# read and written by Bedrock with the IAM service role below. Locally the sandbox serves the
# control plane and a moto S3 server (manage.py bedrock_sandbox, S3 on port 8766).
_BATCH_LOCAL = BEDROCK_CONTROL_ENDPOINT_URL.startswith("http://")
BAKEOFF_BATCH_S3_ENDPOINT_URL = env.str(
    "BAKEOFF_BATCH_S3_ENDPOINT_URL", default="http://127.0.0.1:8766" if _BATCH_LOCAL else "")
BAKEOFF_BATCH_BUCKET = env.str("BAKEOFF_BATCH_BUCKET", default="cloudroute-bakeoff-batch" if _BATCH_LOCAL else "")
BAKEOFF_BATCH_PREFIX = env.str("BAKEOFF_BATCH_PREFIX", default="bakeoff-batch").strip("/")
BAKEOFF_BATCH_ROLE_ARN = env.str(
    "BAKEOFF_BATCH_ROLE_ARN",
    default="arn:aws:iam::000000000000:role/cloudroute-bakeoff-batch" if _BATCH_LOCAL else "")
BAKEOFF_BATCH_REGION = env.str("BAKEOFF_BATCH_REGION", default=BEDROCK_REGION)
# AWS quota "Minimum number of records per batch inference job" (100 by default, per model).
BAKEOFF_BATCH_MIN_RECORDS = env.int("BAKEOFF_BATCH_MIN_RECORDS", default=100)
BAKEOFF_BATCH_POLL_SECONDS = env.float("BAKEOFF_BATCH_POLL_SECONDS", default=60)
BAKEOFF_BATCH_TIMEOUT_HOURS = env.int("BAKEOFF_BATCH_TIMEOUT_HOURS", default=24)
BAKEOFF_BATCH_MAX_JOBS = env.int("BAKEOFF_BATCH_MAX_JOBS", default=3)  # per model, then the rest on demand
BAKEOFF_BATCH_DELETE_WITH_RUN = env.bool("BAKEOFF_BATCH_DELETE_WITH_RUN", default=True)
# Days a finished batch run's S3 files are kept (0: until the run is deleted).
BAKEOFF_BATCH_RETENTION_DAYS = env.int("BAKEOFF_BATCH_RETENTION_DAYS", default=0)
CELERY_BEAT_SCHEDULE["bakeoff-batch-files-expire"] = {
    "task": "bakeoff_jobs.batch_files_expire",
    "schedule": 6 * 3600,
}
CELERY_BEAT_SCHEDULE["bakeoff-batch-poll"] = {
    "task": "bakeoff_jobs.batch_poll",
    "schedule": BAKEOFF_BATCH_POLL_SECONDS,
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so a real worker process started by the end-to-end tests shares it.
    DATABASES["default"].setdefault("TEST", {}).setdefault("NAME", str(VAR_DIR / "test.sqlite3"))
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The filesystem transport polls its folder; the default second makes every hop of a run slow.
    CELERY_BROKER_TRANSPORT_OPTIONS["polling_interval"] = env.float("CELERY_BROKER_POLLING_INTERVAL", default=0.1)

# --- Reliability: retries, time budgets, shutdown ----------------------------------------------
# First backoff ceiling after a throttled or failed call (full jitter, doubling, capped at 10 s);
# the call gives its concurrency slot back while it sleeps.
BAKEOFF_BACKOFF_BASE_SECONDS = env.float("BAKEOFF_BACKOFF_BASE_SECONDS", default=0.05)
# A chunk that runs longer than this stores what it has and queues the rest as a new chunk, well
# before the task's soft time limit (which the threads pool cannot enforce).
BAKEOFF_CHUNK_MAX_SECONDS = env.float("BAKEOFF_CHUNK_MAX_SECONDS", default=CELERY_TASK_SOFT_TIME_LIMIT * 0.8)

# --- Self-hosted (OpenAI-compatible) endpoints -------------------------------------------------
# The secret the API keys of self-hosted entries are encrypted with at rest (Fernet, key derived from
# it); empty: SECRET_KEY (fine locally; set its own in production, and keep it: after a change the
# stored keys can no longer be read and must be entered again).
SELFHOSTED_KEY_SECRET = env.str("SELFHOSTED_KEY_SECRET", default="")
SELFHOSTED_CONNECT_TIMEOUT = env.float("SELFHOSTED_CONNECT_TIMEOUT", default=5)
SELFHOSTED_READ_TIMEOUT = env.float("SELFHOSTED_READ_TIMEOUT", default=300)
# The longest Retry-After (seconds) a throttled self-hosted call honours; longer waits are capped.
SELFHOSTED_RETRY_AFTER_MAX_SECONDS = env.float("SELFHOSTED_RETRY_AFTER_MAX_SECONDS", default=60)
