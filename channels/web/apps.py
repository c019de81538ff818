from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "channels.web"
    label = "web"
