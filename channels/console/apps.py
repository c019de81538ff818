from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "channels.console"
    label = "console"
