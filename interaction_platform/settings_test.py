"""Test settings: the same as production wiring, minus what only slows tests down.

The database and broker still come from ``DATABASE_URL`` / ``REDIS_URL``: the CI suite runs on
PostgreSQL and Redis; without them, on SQLite with eager tasks.
"""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key-only-used-by-the-test-suite-0123456789abcdef")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault(
    "STATICFILES_STORAGE", "django.contrib.staticfiles.storage.StaticFilesStorage"
)

from interaction_platform.settings import *  # noqa: F403
from interaction_platform.settings import DATABASES, REST_FRAMEWORK

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tests decide per test whether a task runs eagerly (see tests/conftest.py).
CELERY_TASK_ALWAYS_EAGER = True
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"].setdefault("TEST", {})
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # An in-memory SQLite per test process keeps the embedded suite fast and isolated.
    DATABASES["default"]["TEST"]["NAME"] = ""
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"token": "1000/min", "lookup": "1000/min"},
}
SHOW_DEMO_LOGINS = False
# The tests' webhook receiver listens on 127.0.0.1.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
# Static files come straight from the apps (no collectstatic in tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
