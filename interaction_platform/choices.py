"""Vocabulary shared by every core app."""

from django.db import models


class Channel(models.TextChoices):
    """Where a customer met the business. Price lists, carts, orders and events carry one."""

    WEB = "web", "Web store"
    APP = "app", "Mobile app"
    STORE = "store", "Store (POS)"
    CALL_CENTRE = "call_centre", "Call centre"
    EMAIL = "email", "E-mail"
    DIRECT_MAIL = "direct_mail", "Direct mail"
    PRINT = "print", "Print (QR)"
    SYSTEM = "system", "Back office / integration"

    @classmethod
    def selling(cls) -> list["Channel"]:
        """Channels where a customer can buy, and which therefore have a price list."""
        return [cls.WEB, cls.APP, cls.STORE, cls.CALL_CENTRE]
