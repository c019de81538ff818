from django.apps import AppConfig


class SystemsConfig(AppConfig):
    """Where the retailer's other systems (ERP, warehouse, CRM, e-mail service) meet the core
    over HTTP: bulk stock and price sync, and exports. Webhooks and API keys live in the core
    app ``integrations``."""

    name = "channels.systems"
    label = "systems"
