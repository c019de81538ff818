"""Settings, all read from the environment (see ``.env.example`` for every variable).

With nothing set the project runs on its embedded default: a SQLite file under ``var/``,
Celery tasks executed eagerly in process and e-mail printed to the console. Set
``DATABASE_URL`` and ``REDIS_URL`` for the production shape (PostgreSQL, a real broker).
``DEBUG`` is off unless asked for; without it a strong ``SECRET_KEY`` is required and the
HTTPS-only cookie and HSTS settings are on, so ``manage.py check --deploy`` is clean.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))

# --- core -------------------------------------------------------------------------------------

DEBUG = env.bool("DEBUG", default=False)
_DEVELOPMENT_SECRET_KEY = "development-only-secret-key-never-use-in-production-0123456789"
SECRET_KEY = env.str("SECRET_KEY", default=_DEVELOPMENT_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is required when DEBUG is off. Set it in the environment "
        "(for local development, DEBUG=true lets the project use a development key)."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    # ours: the wiring's own app, the core, then the channels
    "interaction_platform.accounts",
    "customers",
    "catalog",
    "orders",
    "integrations",
    "channels.ingest",
    "channels.systems",
    "channels.web",
    "channels.pos",
    "channels.console",
    "channels.marketing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "interaction_platform.pages.DomainErrorPageMiddleware",
]

ROOT_URLCONF = "interaction_platform.urls"
WSGI_APPLICATION = "interaction_platform.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "interaction_platform" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "interaction_platform.pages.site_context",
            ],
            "builtins": ["interaction_platform.templatetags"],
        },
    },
]

# --- data -------------------------------------------------------------------------------------

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A busy timeout stops the dev server and eager tasks tripping over each other's writes.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "ip",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -----------------------------------------------------------------------------------
# The broker only wakes workers: whatever must not be lost is written to the database first.

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
# A publish (a wake-up) gives up within a second when the broker is down, instead of holding
# the request for seconds: the rows are committed, and the sweep picks them up.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
# The sweeps find work whose wake-up message was lost (a Redis restart, a killed worker).
INBOX_SWEEP_INTERVAL_S = env.float("INBOX_SWEEP_INTERVAL_S", default=30.0)
# The inbox is partitioned by person into this many shards, each drained by its own tasks: run
# about one worker process per shard (``make worker`` runs 2). 1 turns partitioning off.
INBOX_SHARDS = env.int("INBOX_SHARDS", default=2)
CELERY_BEAT_SCHEDULE = {
    "integrations-webhook-sweep": {"task": "integrations.webhook_sweep", "schedule": 60.0},
    "customers.inbox_sweep": {
        "task": "customers.inbox_sweep",
        "schedule": INBOX_SWEEP_INTERVAL_S,
        # a sweep that waited longer than its interval is superseded by the next one
        "options": {"expires": INBOX_SWEEP_INTERVAL_S},
    },
}

# --- auth -------------------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:after-login"
LOGOUT_REDIRECT_URL = "web:home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=90)

# --- locale -----------------------------------------------------------------------------------

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Amsterdam")
USE_I18N = True
USE_TZ = True
DEFAULT_CURRENCY = env.str("DEFAULT_CURRENCY", default="EUR")
DEFAULT_COUNTRY = env.str("DEFAULT_COUNTRY", default="NL")

# --- static files -----------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "interaction_platform" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_STORAGE",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

# --- e-mail -----------------------------------------------------------------------------------

_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT_S", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Interaction Platform <shop@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- security ---------------------------------------------------------------------------------
# Production defaults; DEBUG relaxes only what plain-HTTP development on 127.0.0.1 needs.

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "interaction_platform.error_views.csrf_failure"
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

# --- API --------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an unauthenticated API call then gets 401 with WWW-Authenticate.
        "interaction_platform.accounts.authentication.BearerTokenAuthentication",
        "integrations.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "interaction_platform.api.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "interaction_platform.api_schema.AutoSchema",
    "EXCEPTION_HANDLER": "interaction_platform.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "token": env.str("THROTTLE_TOKEN_RATE", default="10/min"),
        "lookup": env.str("THROTTLE_LOOKUP_RATE", default="120/min"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Interaction Platform API",
    "DESCRIPTION": (
        "One customer, one catalog and one order model for every channel. Authenticate apps "
        "and devices with `Authorization: Bearer <token>` (obtain one at "
        "`POST /api/v1/auth/tokens/`); pages use the session. Every 4xx answers "
        '`{"error": code, "message": text, "fields": {field: [messages]}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "interaction_platform.choices.Channel",
        "LocationKindEnum": "catalog.models.LocationKind",
        "WebhookEventTypeEnum": "integrations.models.EventType",
        "ReturnKindEnum": "orders.models.ReturnKind",
    },
}

# --- integrations -----------------------------------------------------------------------------

# Never true in production: lets webhooks reach loopback and private addresses (tests, dev).
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", default=False)
WEBHOOK_TIMEOUT_S = env.int("WEBHOOK_TIMEOUT_S", default=10)
# A sender holds a delivery for its timeout plus this margin; then another worker may retry it.
WEBHOOK_LEASE_MARGIN_S = env.int("WEBHOOK_LEASE_MARGIN_S", default=30)
# Waits between attempts (exponential, capped); after WEBHOOK_RETRY_WINDOW_S a delivery fails.
WEBHOOK_RETRY_DELAYS_S = env.list(
    "WEBHOOK_RETRY_DELAYS_S",
    cast=int,
    default=[5, 60, 300, 1800, 3600, 7200, 14400, 28800, 28800],
)
WEBHOOK_RETRY_WINDOW_S = 24 * 3600
STOCK_LOW_THRESHOLD = env.int("STOCK_LOW_THRESHOLD", default=5)
# The importers behind the back office's import screen (the commands call them directly).
INTEGRATION_IMPORTERS = {
    "products": "catalog.imports.products_import",
    "prices": "catalog.imports.prices_import",
    "stock": "catalog.imports.stock_import",
    "customers": "customers.imports.customers_import",
}
IMPORT_UPLOAD_MAX_BYTES = 5 * 1024 * 1024

# --- commerce ---------------------------------------------------------------------------------

PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="sandbox")
PAYMENT_LINK_TTL_HOURS = env.int("PAYMENT_LINK_TTL_HOURS", default=48)
# Online payments and refunds left unsettled this long are finished by the orders sweep.
PAYMENT_RECONCILE_AFTER_S = env.int("PAYMENT_RECONCILE_AFTER_S", default=120)
CELERY_BEAT_SCHEDULE["orders-sweep"] = {"task": "orders.sweep", "schedule": 60.0}
# The marketer dashboards' rollups: what changed, every minute; the last days again, nightly.
CELERY_BEAT_SCHEDULE["marketing.rollups_refresh"] = {
    "task": "marketing.rollups_refresh",
    "schedule": 60.0,
    "options": {"expires": 60.0},
}
CELERY_BEAT_SCHEDULE["marketing.rollups_rebuild_recent"] = {
    "task": "marketing.rollups_rebuild_recent",
    "schedule": crontab(hour=3, minute=30),
}

# --- product ----------------------------------------------------------------------------------

SHOW_DEMO_LOGINS = env.bool("SHOW_DEMO_LOGINS", default=DEBUG)
SHOP_NAME = env.str("SHOP_NAME", default="Northwind Outfitters")

# --- logging ----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    # Whatever a log line would contain, a card number is not written.
    "filters": {"redact_card_numbers": {"()": "orders.cards.RedactCardNumbers"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_card_numbers"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- marketing: campaigns and follow-up ---------------------------------------------------------

# Absolute links in e-mails and on printed QR codes (there is no request to build them from).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
FOLLOW_UP_IDLE_HOURS = env.int("FOLLOW_UP_IDLE_HOURS", default=24)
FOLLOW_UP_UNPAID_LINK_HOURS = env.int("FOLLOW_UP_UNPAID_LINK_HOURS", default=24)
FOLLOW_UP_RECOVERY_DAYS = env.int("FOLLOW_UP_RECOVERY_DAYS", default=7)
CELERY_BEAT_SCHEDULE["marketing-follow-up"] = {
    "task": "marketing.followup_sweep",
    "schedule": 300.0,
}
CELERY_BEAT_SCHEDULE["marketing-attribution"] = {
    "task": "marketing.attribution_refresh",
    "schedule": 120.0,
}
