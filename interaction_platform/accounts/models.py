"""Logins, roles and API tokens.

Every login has exactly one role. What a role may do to which object is decided in one place:
:mod:`interaction_platform.permissions`.
"""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    SHOPPER = "shopper", "Shopper"
    STORE_STAFF = "store_staff", "Store staff"
    AGENT = "agent", "Call-centre agent"
    MARKETER = "marketer", "Marketer"
    ADMIN = "admin", "Administrator"


class User(AbstractUser):
    """A person who signs in. Shoppers are linked to their Customer record (``customer``);
    store staff are bound to the stores they may act for (``stores``)."""

    email = models.EmailField("e-mail address", blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.SHOPPER)
    stores = models.ManyToManyField(
        "catalog.Location",
        blank=True,
        related_name="staff",
        help_text="Store staff may act only for these stores.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["email"], condition=~Q(email=""), name="user_email_unique_when_set"
            ),
        ]

    @property
    def is_admin(self) -> bool:
        return self.is_superuser or self.role == Role.ADMIN

    @property
    def is_staff_member(self) -> bool:
        """Works for the retailer (any role but shopper)."""
        return self.role != Role.SHOPPER or self.is_superuser


class ApiToken(models.Model):
    """A bearer token for an app or a device. Only a SHA-256 hash of the key is stored; the key
    itself is shown once, when the token is created."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="The app or device it was issued to.")
    prefix = models.CharField(max_length=8, help_text="First characters, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"


def hash_token_key(key: str) -> str:
    """What is stored for a token key: its SHA-256, so a database leak leaks no usable key."""
    return hashlib.sha256(key.encode()).hexdigest()
