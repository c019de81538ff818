"""Back office for tracking sources. A write key is shown once, on the page that issues it."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from channels.ingest.models import Source
from channels.ingest.services import source_issue_key


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "channel",
        "is_shared_device",
        "is_active",
        "key_prefix",
        "key_issued_at",
    ]
    list_filter = ["channel", "is_shared_device", "is_active"]
    search_fields = ["name", "key_prefix"]
    fields = [
        "name",
        "channel",
        "is_shared_device",
        "is_active",
        "key_prefix",
        "key_issued_at",
        "created_at",
    ]
    readonly_fields = ["key_prefix", "key_issued_at", "created_at"]
    actions = ["issue_new_key"]

    def response_add(
        self, request: HttpRequest, obj: Source, post_url_continue: str | None = None
    ) -> HttpResponse:
        """A new source gets its key now, and the key is shown on this one page."""
        return self._key_page(request, obj, source_issue_key(source=obj))

    @admin.action(description="Issue a new write key (the current one stops working)")
    def issue_new_key(
        self, request: HttpRequest, queryset: QuerySet[Source]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(
                request, "Select exactly one source to issue a key for.", level=messages.ERROR
            )
            return None
        source = queryset.get()
        return self._key_page(request, source, source_issue_key(source=source))

    def _key_page(self, request: HttpRequest, source: Source, key: str) -> HttpResponse:
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": f"Write key for {source}",
            "opts": self.model._meta,
            "source": source,
            "write_key": key,
        }
        # admin views are never cached (no-store), so the key stays on this one page
        return TemplateResponse(request, "ingest/admin/write_key.html", context)
