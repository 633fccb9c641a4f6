"""Vigie's one settings module.

Everything that differs per deployment is an environment variable read through the small
helpers below, which raise ImproperlyConfigured on a bad value. With no environment at all
Vigie runs embedded: SQLite and a filesystem Celery broker under ``VIGIE_VAR_DIR``.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

import project.logs  # noqa: F401 - every log line of every process in UTC
from project.files import private_dir, private_file, write_private

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    value = env_str(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = env_str(name)
    if value is None:
        return default
    try:
        parsed = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None
    if parsed < minimum:
        raise ImproperlyConfigured(f"{name} must be >= {minimum}, got {parsed}")
    return parsed


def env_float(name: str, default: float) -> float:
    value = env_str(name)
    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = env_str(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


# Holds the secret key, the SQLite file, the broker's messages: its owner's only (0700).
VAR_DIR = private_dir(Path(env_str("VIGIE_VAR_DIR", str(BASE_DIR / "var"))))


def _secret_key() -> str:
    # Embedded runs get a random key kept in var/ rather than a key written in the repo.
    configured = env_str("VIGIE_SECRET_KEY")
    if configured:
        return configured
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        write_private(key_file, secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("VIGIE_DEBUG", False)
ALLOWED_HOSTS = env_list("VIGIE_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("VIGIE_CSRF_TRUSTED_ORIGINS", [])
# Behind a reverse proxy (moderation/proxy.py): the client's address from X-Forwarded-For.
VIGIE_TRUSTED_PROXY = env_bool("VIGIE_TRUSTED_PROXY", False)
VIGIE_TRUSTED_PROXY_NETWORKS = env_list("VIGIE_TRUSTED_PROXY_NETWORKS", [])
if VIGIE_TRUSTED_PROXY:
    # The proxy says whether the client came over HTTPS: request.is_secure() (CSRF's origin
    # check, `next` links) follows it. Not USE_X_FORWARDED_HOST: the proxy passes Host on
    # itself (nginx: proxy_set_header Host $host), and a header the client may also send
    # should not decide the host of the links we write.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Served over HTTPS only: HSTS, cookies sent over HTTPS only, plain HTTP redirected (but not
# /healthz, which an orchestrator asks over plain HTTP on the private network).
VIGIE_HTTPS = env_bool("VIGIE_HTTPS", False)
if VIGIE_HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("VIGIE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading is a promise to browsers' built-in lists, hard to take back: the operator's.
    SECURE_HSTS_PRELOAD = env_bool("VIGIE_HSTS_PRELOAD", False)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Content-Security-Policy (django-csp) on every response: the admin, the workbench, the demo
# page and the API docs run only the scripts Vigie serves itself (static files, no inline
# script, no eval); styles may be inline (the admin's style attributes, the charts' SVG).
# ReDoc builds its search worker from a blob: URL; Swagger UI and ReDoc draw data: icons.
_CSP = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# VIGIE_CSP_REPORT_ONLY=1: browsers report what the policy would block and block nothing
# (to try it in front of a customised admin before enforcing it).
if env_bool("VIGIE_CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY = None
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP
else:
    CONTENT_SECURITY_POLICY = _CSP

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    # Swagger UI and ReDoc from our own static files: /api/docs/ works offline and under the
    # Content-Security-Policy without a CDN.
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "moderation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's static files from gunicorn, so one process is enough to run Vigie.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "moderation.api.middleware.ApiRequestLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-csp's, with the header built once (project/csp.py).
    "project.csp.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout answer.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username or address before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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


def _databases() -> dict:
    url = env_str("DATABASE_URL")
    if url is None:
        db = {
            "ENGINE": "django.db.backends.sqlite3",
            # Created 0600 before SQLite opens it (SQLite would use the umask's mode).
            "NAME": str(private_file(VAR_DIR / "vigie.sqlite3")),
            # The web process and the worker write to one file: WAL lets readers go on
            # during a write, IMMEDIATE takes the write lock up front instead of failing
            # with "database is locked" half-way through a transaction.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    else:
        try:
            db = dj_database_url.parse(url, conn_max_age=env_int("VIGIE_DB_CONN_MAX_AGE", 60))
        except ValueError as exc:
            raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
        db["CONN_HEALTH_CHECKS"] = True
    return {"default": db}


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- login lockout (django-axes) ---------------------------------------------------------
# Failed admin logins are counted in the database (embedded and production alike: no
# cache to lose, and every web process counts together). A username, or an address, with
# this many failures in a row is refused until the cool-off has passed since the last one;
# a success resets the count. `manage.py axes_reset` (or axes_reset_username NAME) unlocks.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env_int("VIGIE_LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("VIGIE_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "moderation.proxy.client_ip"
AXES_VERBOSE = False

LANGUAGE_CODE = env_str("VIGIE_LANGUAGE_CODE", "fr")
LANGUAGES = [("fr", "Français"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "moderation" / "locale"]
TIME_ZONE = env_str("VIGIE_TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

REDIS_URL = env_str("REDIS_URL")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": env_str("VIGIE_CACHE_URL", REDIS_URL),
            "OPTIONS": {
                # A cache outage must not turn into failed POSTs: rate limits fail open.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
            "KEY_PREFIX": "vigie",
        }
    }
    DJANGO_REDIS_IGNORE_EXCEPTIONS = True
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    # Shared by the web and worker processes of one machine, unlike LocMemCache.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Celery -------------------------------------------------------------------------------
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # kombu's Redis transport with its connection-loss race guarded (see project/broker.py).
    CELERY_BROKER_TRANSPORT = "project.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Unacknowledged tasks (acks_late) come back after this; longer than any task.
        "visibility_timeout": env_int("VIGIE_BROKER_VISIBILITY_TIMEOUT", 300, minimum=10),
        # How often a worker looks for such tasks (of a worker that died): kombu's default
        # scans only every 10 s x 10 calls; one cheap scan every interval instead.
        "unacked_restore_interval": env_int("VIGIE_BROKER_RESTORE_INTERVAL", 10, minimum=1),
        "unacked_restore_throttle": 1,
        "socket_connect_timeout": 1,
        "socket_timeout": 2,
    }
else:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # The filesystem transport polls its folder; 1 s (kombu's default) is felt by a
        # reader waiting for their comment, 50 ms costs nothing on one machine.
        "polling_interval": 0.05,
    }

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int("VIGIE_WORKER_PREFETCH", 4, minimum=1)
# A new pool process loads and warms up the classifier before it reports "up" (one to three
# seconds, more on a busy machine); Celery's 4 s kills it and forks another, in a loop.
CELERY_WORKER_PROC_ALIVE_TIMEOUT = 60
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
# A POST must not hang on a dead broker: one quick try, then the sweep takes over.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ALWAYS_EAGER = env_bool("VIGIE_TASKS_EAGER", False)
VIGIE_ENCODER_QUEUE = env_str("VIGIE_ENCODER_QUEUE", "encoder")
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_BEAT_SCHEDULE = {
    "sweep-received": {
        "task": "moderation.tasks.sweep_received",
        "schedule": timedelta(seconds=env_int("VIGIE_SWEEP_INTERVAL", 60, minimum=1)),
    },
    # The sites' retention rules (Site.retention_days): once a day is precise enough for days.
    "purge-expired": {
        "task": "moderation.tasks.purge_expired",
        "schedule": timedelta(hours=24),
    },
    # Sends webhook retries when they fall due, and deliveries whose task was lost.
    "sweep-webhooks": {
        "task": "moderation.tasks.sweep_webhooks",
        "schedule": timedelta(seconds=env_int("VIGIE_WEBHOOK_SWEEP_INTERVAL", 10, minimum=1)),
    },
}
# Three queues, so that production can give each its own workers: the fast stage of the
# classifier on Celery's default queue (`-Q celery`), the encoder's second opinion on its own
# (`-Q encoder`, machines of their own), and webhook deliveries, which wait on other sites'
# servers (`-Q webhooks`). A worker started without -Q consumes every queue listed here, so
# the embedded single worker serves the whole cascade and delivers the webhooks too.
CELERY_TASK_QUEUES = [
    Queue("celery", routing_key="celery"),
    Queue(VIGIE_ENCODER_QUEUE, routing_key=VIGIE_ENCODER_QUEUE),
    Queue("webhooks", routing_key="webhooks"),
]
CELERY_TASK_ROUTES = {
    "moderation.tasks.second_opinion": {"queue": VIGIE_ENCODER_QUEUE, "routing_key": VIGIE_ENCODER_QUEUE},
    "moderation.tasks.revision_second_opinion": {
        "queue": VIGIE_ENCODER_QUEUE,
        "routing_key": VIGIE_ENCODER_QUEUE,
    },
    **{
        f"moderation.tasks.{name}": {"queue": "webhooks", "routing_key": "webhooks"}
        for name in ("deliver_webhook", "expand_webhook_batch")
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Keep a worker's database connection across tasks (Celery closes it after every task
# otherwise); read by celery.fixups.django, set on the app in project/celery.py.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000, minimum=0)
# Language detection (lingua) runs a Rust thread pool as wide as the machine in every worker
# process: with one process per core they fight over the cores and spin. One thread each
# measured faster under load (bench/drain.py); set RAYON_NUM_THREADS to override.
os.environ.setdefault("RAYON_NUM_THREADS", "1")

# --- REST framework ---------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["moderation.api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "moderation.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_RATES": {
        "site": env_str("VIGIE_RATE_SITE", "6000/min"),
        "author": env_str("VIGIE_RATE_AUTHOR", "10/min"),
        "ip": env_str("VIGIE_RATE_IP", "30/min"),
        "report": env_str("VIGIE_RATE_REPORT", "600/min"),
        # One reader, or one reader IP, reporting comment after comment: a brigade.
        "reporter": env_str("VIGIE_RATE_REPORTER", "30/hour"),
        "report_ip": env_str("VIGIE_RATE_REPORT_IP", "60/hour"),
        # The pre-submit check (POST /api/v1/check): a reader may check a few drafts per post.
        "check_author": env_str("VIGIE_RATE_CHECK_AUTHOR", "30/min"),
        "check_ip": env_str("VIGIE_RATE_CHECK_IP", "90/min"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Vigie API",
    "DESCRIPTION": (
        "Comment moderation for news websites: site API (`Authorization: Api-Key <key>`) and "
        "moderator API (`Authorization: Token <token>` or an admin session). Every error has the "
        'shape `{"error": {"code", "message", "fields"}}`; each operation lists the codes it can '
        "answer. Any operation may also answer 405 (`method_not_allowed`) or 406 "
        "(`not_acceptable`, an Accept header without JSON). A step-by-step guide: "
        "docs/integration.md in the repository."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs pages' JavaScript and CSS from drf-spectacular-sidecar's static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Names for the enums that share a field name (otherwise hashed names and a warning).
    "ENUM_NAME_OVERRIDES": {
        "CommentStatusEnum": "moderation.models.Comment.Status",
        "SiteCommentStatusEnum": "moderation.api.serializers.SITE_STATUSES",
        "ReportReasonEnum": "moderation.models.Report.Reason",
    },
    "TAGS": [
        {"name": "articles", "description": "The site's articles and their settings."},
        {"name": "comments", "description": "Posting readers' comments and reading them back."},
        {"name": "reports", "description": "Readers' reports of visible comments."},
        {"name": "notices", "description": "Notices of illegal content (DSA article 16)."},
        {"name": "appeals", "description": "Authors contesting a decision."},
        {"name": "webhooks", "description": "The site's webhook endpoints (Standard Webhooks)."},
        {"name": "authors", "description": "An author's personal data: export and erasure (GDPR)."},
        {"name": "moderation", "description": "Moderators: queues, decisions, authors, statistics."},
        {"name": "transparency", "description": "Moderators: DSA transparency counts."},
    ],
}

# --- Vigie ------------------------------------------------------------------------------
VIGIE_MODEL_PATH = env_str("VIGIE_MODEL_PATH")  # None: the model shipped in the package
VIGIE_MAX_BODY_CHARS = env_int("VIGIE_MAX_BODY_CHARS", 5000, minimum=1)
VIGIE_MAX_REQUEST_BYTES = env_int("VIGIE_MAX_REQUEST_BYTES", 64 * 1024, minimum=1024)
VIGIE_MAX_PAGE_SIZE = env_int("VIGIE_MAX_PAGE_SIZE", 100, minimum=1)
# Threads: a reply deeper than this attaches to its deepest allowed ancestor (at insert, and
# when listing older, deeper chains); each root of a listed page carries at most
# VIGIE_REPLIES_PAGE replies, the rest behind its `replies_next` link.
VIGIE_MAX_REPLY_DEPTH = env_int("VIGIE_MAX_REPLY_DEPTH", 50, minimum=1)
VIGIE_REPLIES_PAGE = env_int("VIGIE_REPLIES_PAGE", 50, minimum=1)
# A comment still `received` after this long was never picked up: the sweep re-enqueues it.
VIGIE_SWEEP_AFTER_SECONDS = env_int("VIGIE_SWEEP_AFTER_SECONDS", 60, minimum=1)
# Micro-batching: one task classifies up to this many waiting comments in one model call.
# A lone comment is classified alone at once; under a backlog 128 cost 8% less worker CPU
# per comment than 64 (608 vs 660 us, measured in process) and a full batch still takes
# under 0.1 s.
VIGIE_CLASSIFY_BATCH = env_int("VIGIE_CLASSIFY_BATCH", 128, minimum=1)
# The encoder stage's batch: the sentence encoder streams its weights once per batch, and 64
# comments take ~0.15 s on one core (the claim's row locks are held that long).
VIGIE_SECOND_OPINION_BATCH = env_int("VIGIE_SECOND_OPINION_BATCH", 64, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = VIGIE_MAX_REQUEST_BYTES
# Webhooks: receivers on loopback/private addresses are refused unless this is set (tests and
# the embedded `manage.py serve` set it); a delivery is retried, with exponential backoff,
# for VIGIE_WEBHOOK_RETRY_HOURS, and an endpoint failing that long is disabled.
VIGIE_WEBHOOK_ALLOW_PRIVATE = env_bool("VIGIE_WEBHOOK_ALLOW_PRIVATE", False)
VIGIE_WEBHOOK_TIMEOUT = env_int("VIGIE_WEBHOOK_TIMEOUT", 5, minimum=1)
VIGIE_WEBHOOK_RETRY_HOURS = env_int("VIGIE_WEBHOOK_RETRY_HOURS", 24, minimum=1)
VIGIE_WEBHOOKS_PER_SITE = env_int("VIGIE_WEBHOOKS_PER_SITE", 10, minimum=1)
# The reader's demo page at /demo/ (`manage.py serve` turns it on). It calls the site API in
# process, or over HTTP at VIGIE_DEMO_API_BASE (e.g. http://127.0.0.1:8000/api/v1) if set.
VIGIE_DEMO = env_bool("VIGIE_DEMO", False)
VIGIE_DEMO_API_BASE = env_str("VIGIE_DEMO_API_BASE")
if VIGIE_DEMO_API_BASE and not VIGIE_DEMO_API_BASE.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"VIGIE_DEMO_API_BASE must be an http(s) URL, got {VIGIE_DEMO_API_BASE!r}")
# /healthz answers 503 when a comment has waited for the classifier longer than this, or when
# no worker has written its heartbeat (every 5 s) for this long.
VIGIE_HEALTH_MAX_RECEIVED_AGE = env_int("VIGIE_HEALTH_MAX_RECEIVED_AGE", 120, minimum=1)
VIGIE_HEALTH_MAX_HEARTBEAT_AGE = env_int("VIGIE_HEALTH_MAX_HEARTBEAT_AGE", 30, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # UTC in every process and in gunicorn's lines too (project/logs.py).
    "formatters": {
        "plain": {
            "()": "project.logs.UTCFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("VIGIE_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One line per login otherwise; failures and lockouts are still logged (WARNING).
        "axes": {"level": "WARNING"},
    },
}

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    CSRF_COOKIE_HTTPONLY = False
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
