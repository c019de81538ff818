"""Settings come from the environment: the embedded default with nothing set, the production
shape with DATABASE_URL and REDIS_URL, and deploy checks that pass with DEBUG off."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; from django.conf import settings; django.setup();"
    "d = settings.DATABASES['default'];"
    "print(json.dumps({'engine': d['ENGINE'], 'name': str(d['NAME']), 'debug': settings.DEBUG,"
    "'eager': settings.CELERY_TASK_ALWAYS_EAGER, 'broker': settings.CELERY_BROKER_URL,"
    "'email': settings.EMAIL_BACKEND, 'cache': settings.CACHES['default']['BACKEND'],"
    "'hsts': settings.SECURE_HSTS_SECONDS, 'secure_cookies': settings.SESSION_COOKIE_SECURE}))"
)
PRODUCTION_SECRET = "x7#kq2!vL9@mZ4$wR8^tB1&nP6*sD3(yF5)hJ0_gC-aE+uK=oI"
# Variables from the developer's or CI's shell must not leak into these probes.
SETTINGS_VARIABLES = (
    "DEBUG",
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "ALLOWED_HOSTS",
    "CELERY_TASK_ALWAYS_EAGER",
    "SECURE_SSL_REDIRECT",
    "STATICFILES_STORAGE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # set by the browser tests in this process
)


def _run(code_or_args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    clean["DJANGO_SETTINGS_MODULE"] = "interaction_platform.settings"
    return subprocess.run(
        [sys.executable, *code_or_args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _settings(**env: str) -> dict[str, object]:
    result = _run(["-c", PROBE], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_embedded_default_needs_nothing_but_debug() -> None:
    assert _settings(DEBUG="true") == {
        "engine": "django.db.backends.sqlite3",
        "name": str(ROOT / "var" / "db.sqlite3"),
        "debug": True,
        "eager": True,
        "broker": "memory://",
        "email": "django.core.mail.backends.console.EmailBackend",
        "cache": "django.core.cache.backends.locmem.LocMemCache",
        "hsts": 0,
        "secure_cookies": False,
    }


def test_the_production_shape_reads_its_services_from_the_environment() -> None:
    assert _settings(
        SECRET_KEY=PRODUCTION_SECRET,
        DATABASE_URL="postgres://shop:pw@db.internal:5432/shop",
        REDIS_URL="redis://cache.internal:6379/0",
        EMAIL_URL="smtp+tls://mailer:pw@smtp.internal:587",
    ) == {
        "engine": "django.db.backends.postgresql",
        "name": "shop",
        "debug": False,
        "eager": False,
        "broker": "redis://cache.internal:6379/0",
        "email": "django.core.mail.backends.smtp.EmailBackend",
        "cache": "django.core.cache.backends.redis.RedisCache",
        "hsts": 31_536_000,
        "secure_cookies": True,
    }


def test_debug_off_without_a_secret_key_refuses_to_start() -> None:
    result = _run(["-c", PROBE])
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_check_deploy_is_clean_under_production_settings() -> None:
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        SECRET_KEY=PRODUCTION_SECRET,
        ALLOWED_HOSTS="shop.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_every_variable_the_settings_read_is_in_env_example() -> None:
    settings_source = (ROOT / "interaction_platform" / "settings.py").read_text()
    example = (ROOT / ".env.example").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', settings_source))
    listed = set(re.findall(r"^#?\s*([A-Z_]+)=", example, flags=re.MULTILINE))
    assert read, "the pattern no longer finds the settings' variables"
    assert read - listed == set()


@pytest.mark.redis
@pytest.mark.django_db
def test_readiness_reports_the_broker(client: object) -> None:
    response = client.get("/readyz")  # type: ignore[attr-defined]
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}
