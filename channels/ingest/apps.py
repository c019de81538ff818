from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "channels.ingest"
    label = "ingest"
