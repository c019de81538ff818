from django.apps import AppConfig


class MarketingConfig(AppConfig):
    name = "channels.marketing"
    label = "marketing"

    def ready(self) -> None:
        # Celery's autodiscovery imports only ``tasks.py``; the campaign tasks live beside it.
        from channels.marketing import campaign_tasks  # noqa: F401
