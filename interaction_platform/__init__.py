"""Project wiring: settings, URLs, the Celery app, roles and permissions, health checks."""

from interaction_platform.celery import app as celery_app

__all__ = ["celery_app"]
