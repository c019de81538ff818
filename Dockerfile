# The production image: web (gunicorn), worker and beat all run from it (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY . .
# Static files are collected at build time and served by WhiteNoise from the image.
RUN SECRET_KEY=build-only-not-secret-key-for-collectstatic-0123456789abcdefghij \
    python manage.py collectstatic --no-input \
    && useradd --system --uid 10001 --home-dir /app shop \
    && chown -R shop /app/var

USER shop
EXPOSE 8000
CMD ["gunicorn", "interaction_platform.wsgi", "--workers", "2", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
