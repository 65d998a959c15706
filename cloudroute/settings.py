"""Settings, read once from the environment with safe local defaults (SQLite, a filesystem broker,
the local Bedrock sandbox). Production hardening is switched on by DJANGO_PRODUCTION=1."""
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("CLOUDROUTE_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

PRODUCTION = env.bool("DJANGO_PRODUCTION", default=False)
DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)

if PRODUCTION:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")  # no default: fail fast
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="local-development-only-not-secret")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["*"])
SITE_URL = env.str("CLOUDROUTE_SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
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
    "intake",
    "matching",
    "bakeoff_jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files under gunicorn too
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "cloudroute.security.ContentSecurityPolicyMiddleware",
    "cloudroute.security.IntakeFormRateLimitMiddleware",
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

# --- Email: console locally, any backend in production ---------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CloudRoute <hello@cloudroute.local>")

# --- Celery -----------------------------------------------------------------------------------
# Without CELERY_BROKER_URL a real worker still runs, on kombu's filesystem transport (no server).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
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
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True  # a killed worker's task goes back to the queue
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=660)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {}

# Shared state for quotas and concurrency across workers: Redis when given, else a local file.
RATE_LIMIT_REDIS_URL = env.str(
    "RATE_LIMIT_REDIS_URL",
    default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else "",
)
RATE_LIMIT_FILE = env.str("RATE_LIMIT_FILE", default=str(VAR_DIR / "quotas.sqlite3"))

# --- AWS --------------------------------------------------------------------------------------
# Region and credentials come from the standard AWS chain. Locally the Converse endpoint is the
# project's own sandbox (manage.py bedrock_sandbox).
BEDROCK_ENDPOINT_URL = env.str("BEDROCK_ENDPOINT_URL", default="http://127.0.0.1:8765")
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
# Intakes whose evaluation task was lost (broker down at submission) are queued again.
CELERY_BEAT_SCHEDULE["intakes-evaluate-waiting"] = {
    "task": "intake.tasks.intakes_evaluate_waiting",
    "schedule": env.int("INTAKE_SWEEP_SECONDS", default=60),
}
CELERY_BEAT_SCHEDULE["intake-status-emails-waiting"] = {
    "task": "intake.tasks.intake_status_emails_waiting",
    "schedule": env.int("INTAKE_SWEEP_SECONDS", default=60),
}
CELERY_BEAT_SCHEDULE["partner-central-sync"] = {
    "task": "matching.tasks.sync_partner_central",
    "schedule": PARTNER_CENTRAL_SYNC_MINUTES * 60,
}

# --- REST framework ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",  # partners
        "rest_framework.authentication.SessionAuthentication",  # staff in the browser (CSRF enforced)
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "cloudroute.api.exception_handler",
    # Behind a proxy, how many X-Forwarded-For hops to trust when rate limiting per client address.
    "NUM_PROXIES": env.int("DJANGO_NUM_PROXIES", default=None),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CloudRoute API",
    "DESCRIPTION": "Founder intake and status; partners' engagements, filings and bake-offs; staff figures.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],  # the schema and docs are public
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "IntakeStageEnum": "intake.models.Stage",
        "EngagementStatusEnum": "matching.models.engagements.EngagementStatus",
        "AceStageEnum": "matching.models.partner_central_choices.AceStage",
        "AceReviewStatusEnum": "matching.models.partner_central_choices.AceReviewStatus",
        "BenefitStatusEnum": "matching.models.partner_central_choices.BenefitStatus",
        "RunStatusEnum": "bakeoff_jobs.models.RunStatus",
    },
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "cloudroute.api.add_error_responses",
    ],
}

# --- Cache (rate limits): Redis when there is one, else a file cache every process shares -----
REDIS_URL = env.str("REDIS_URL", default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": "cloudroute-cache"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache")}}
# Public intake (API and web form): submissions per client address, DRF rate syntax ("20/min").
INTAKE_RATE_LIMIT = env.str("INTAKE_RATE_LIMIT", default="20/min")
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

VAR_DIR.mkdir(parents=True, exist_ok=True)

# --- Bake-off engine --------------------------------------------------------------------------
BAKEOFF_CHUNK_SIZE = env.int("BAKEOFF_CHUNK_SIZE", default=500)  # cases per (model, slice) task
BAKEOFF_MAX_ATTEMPTS = env.int("BAKEOFF_MAX_ATTEMPTS", default=10)  # per call, throttling included
BAKEOFF_MAX_THREADS_PER_CHUNK = env.int("BAKEOFF_MAX_THREADS_PER_CHUNK", default=64)
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
