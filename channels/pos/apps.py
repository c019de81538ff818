from django.apps import AppConfig


class PosConfig(AppConfig):
    name = "channels.pos"
    label = "pos"
