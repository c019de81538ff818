from django.apps import AppConfig


class MarketingConfig(AppConfig):
    name = "channels.marketing"
    label = "marketing"
