"""Tracking sources: each web store, app, POS fleet or integration that sends touchpoints has its
own write key. Only a SHA-256 hash of the key is stored; the key is shown once, when issued."""

import hashlib

from django.db import models

from interaction_platform.choices import Channel


class Source(models.Model):
    name = models.CharField(
        max_length=100, unique=True, help_text="Shown on every event it sends, e.g. 'web-store'."
    )
    channel = models.CharField(
        max_length=20, choices=Channel.choices, help_text="The channel its events belong to."
    )
    key_prefix = models.CharField(
        max_length=8, blank=True, help_text="First characters of the write key, to recognise it."
    )
    key_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    is_shared_device = models.BooleanField(
        default=False,
        help_text=(
            "A POS tablet or kiosk used by many people: its anonymous ids are never linked to a "
            "person and its events never merge profiles."
        ),
    )
    is_active = models.BooleanField(default=True, help_text="Inactive sources are refused (401).")
    created_at = models.DateTimeField(auto_now_add=True)
    key_issued_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def hash_write_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
