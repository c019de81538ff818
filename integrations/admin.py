"""Back office for integrations: webhook endpoints and their delivery log (with replay), API
keys (the key is shown once), and file imports (dry run first, then apply)."""

from __future__ import annotations

import hashlib
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from integrations import imports_admin, keys, webhooks
from integrations.models import (
    ApiKey,
    EventType,
    ImportKind,
    ImportRun,
    ImportStatus,
    Scope,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from interaction_platform.errors import DomainError


class ReadOnlyAdminMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _adopt(obj: Any, created: Any) -> None:
    """Make the admin's unsaved ``obj`` stand for the row a service created, so the admin's
    log entry and redirect point at it."""
    for field in created._meta.concrete_fields:
        setattr(obj, field.attname, getattr(created, field.attname))
    obj._state.adding = False
    obj._state.db = created._state.db


# --- webhooks ---------------------------------------------------------------------------------


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        choices=EventType.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "event_types", "is_active"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["name", "url", "subscribed", "is_active", "secret_prefix", "delivery_log"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]
    readonly_fields = ["secret_prefix", "created_by", "created_at", "updated_at", "delivery_log"]
    actions = ["rotate_secret", "deactivate"]

    @admin.display(description="event types")
    def subscribed(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.event_types)

    @admin.display(description="delivery log")
    def delivery_log(self, endpoint: WebhookEndpoint) -> str:
        if endpoint.pk is None:
            return "-"
        url = reverse("admin:integrations_webhookdelivery_changelist")
        return format_html('<a href="{}?endpoint__id__exact={}">Deliveries</a>', url, endpoint.pk)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            if change:
                webhooks.webhook_endpoint_update(endpoint=obj, **data)
                return
            created, secret = webhooks.webhook_endpoint_create(
                name=data["name"],
                url=data["url"],
                event_types=data["event_types"],
                created_by=request.user,
            )
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            raise
        if not data.get("is_active", True):
            webhooks.webhook_endpoint_update(endpoint=created, is_active=False)
        _adopt(obj, created)
        self.message_user(
            request,
            f"Signing secret for {created.name}: {secret} — copy it now, it is not shown again.",
            messages.WARNING,
        )

    @admin.action(description="Rotate the signing secret (shown once)")
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            secret = webhooks.webhook_endpoint_rotate_secret(endpoint=endpoint)
            self.message_user(
                request, f"New secret for {endpoint.name}: {secret}", messages.WARNING
            )

    @admin.action(description="Deactivate the selected endpoints")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            webhooks.webhook_endpoint_update(endpoint=endpoint, is_active=False)


class WebhookAttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = WebhookAttempt
    fields = readonly_fields = (
        "number",
        "started_at",
        "duration_ms",
        "status_code",
        "error",
        "response_excerpt",
    )
    extra = 0


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The delivery log: filter by endpoint to see one endpoint's deliveries."""

    list_display = [
        "created_at",
        "endpoint",
        "event_type",
        "event_id",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", "endpoint", "event__event_type"]
    search_fields = ["=event__event_id"]
    list_select_related = ["endpoint", "event"]
    date_hierarchy = "created_at"
    inlines = [WebhookAttemptInline]
    actions = ["replay"]
    show_full_result_count = False

    @admin.display(description="event type")
    def event_type(self, delivery: WebhookDelivery) -> str:
        return delivery.event.event_type

    @admin.display(description="webhook-id")
    def event_id(self, delivery: WebhookDelivery) -> str:
        return delivery.event.event_id

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The replay action needs change permission; the form itself has no editable field.
        return bool(request.user.is_superuser or getattr(request.user, "is_admin", False))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in WebhookDelivery._meta.concrete_fields]

    @admin.action(description="Replay: send again now (same webhook-id)")
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        replayed = webhooks.webhook_deliveries_replay(deliveries=queryset)
        self.message_user(
            request,
            f"{len(replayed)} deliveries queued again; deliveries still in progress were left.",
        )


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "event_type", "event_id", "fanned_out_at"]
    list_filter = ["event_type"]
    search_fields = ["=event_id", "=idempotency_key"]
    date_hierarchy = "created_at"
    show_full_result_count = False


# --- API keys ---------------------------------------------------------------------------------


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=Scope.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "owner"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created here; the key itself is shown once, in the confirmation message."""

    form = ApiKeyForm
    list_display = [
        "prefix",
        "name",
        "scope_list",
        "owner",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "name", "owner__username"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    raw_id_fields = ["owner"]
    actions = ["revoke"]

    @admin.display(description="scopes")
    def scope_list(self, api_key: ApiKey) -> str:
        return ", ".join(api_key.scopes)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is not None:  # a key's scopes and owner are fixed: issue a new key instead
            return [*self.readonly_fields, "name", "scopes", "owner"]
        return list(self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            return
        data = form.cleaned_data
        created, key = keys.api_key_create(
            name=data["name"], scopes=data["scopes"], owner=data["owner"]
        )
        _adopt(obj, created)
        self.message_user(
            request,
            f"API key for {created.name}: {key} — copy it now, it is not shown again.",
            messages.WARNING,
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: the row keeps the history

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        revoked = keys.api_keys_revoke(keys=queryset)
        self.message_user(request, f"{revoked} keys revoked.")


# --- imports ----------------------------------------------------------------------------------


class ImportRunForm(forms.ModelForm):
    upload = forms.FileField(help_text="CSV (any of , ; tab |) or JSON Lines (.jsonl), UTF-8.")
    is_atomic = forms.BooleanField(
        required=False, label="Atomic", help_text="Any bad row and nothing at all is written."
    )
    stock_mode = forms.ChoiceField(
        choices=[("absolute", "Absolute (on_hand)"), ("delta", "Delta (quantity change)")],
        required=False,
        help_text="Stock imports only.",
    )

    class Meta:
        model = ImportRun
        fields = ["kind"]

    def clean_upload(self) -> Any:
        upload = self.cleaned_data["upload"]
        if upload.size > settings.IMPORT_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                "Files this big are imported with the management commands (they stream)."
            )
        return upload


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    """Upload a file: a dry run tells what would change (with each bad row's line); the
    'Apply' action then imports it."""

    form = ImportRunForm
    list_display = ["created_at", "kind", "file_name", "status", "summary", "created_by"]
    list_filter = ["kind", "status"]
    readonly_fields = [
        "kind",
        "file_name",
        "status",
        "options",
        "summary",
        "error_list",
        "created_by",
        "created_at",
        "applied_at",
    ]
    actions = ["apply"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["kind", "upload", "is_atomic", "stock_mode"]
        return list(self.readonly_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if obj is None else list(self.readonly_fields)

    @admin.display(description="report")
    def summary(self, run: ImportRun) -> str:
        return str(run.report.get("summary", ""))

    @admin.display(description="row errors")
    def error_list(self, run: ImportRun) -> str:
        errors = run.report.get("errors", [])
        if not errors:
            return "none"
        items = format_html_join(
            "", "<li>line {}: {}</li>", ((e["line"], e["message"]) for e in errors)
        )
        return format_html("<ul>{}</ul>", items)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            return
        data = form.cleaned_data
        upload = data["upload"]
        raw = upload.read()
        run = imports_admin.import_run_preview(
            kind=ImportKind(data["kind"]),
            file_name=upload.name,
            content=raw.decode("utf-8-sig", errors="replace"),
            content_sha256=hashlib.sha256(raw).hexdigest(),
            options={"atomic": data["is_atomic"], "mode": data.get("stock_mode") or "absolute"},
            created_by=request.user,
        )
        _adopt(obj, run)
        self.message_user(request, f"Dry run: {run.report['summary']} Use 'Apply' to import.")

    @admin.action(description="Apply the selected dry runs (import for real)")
    def apply(self, request: HttpRequest, queryset: QuerySet[ImportRun]) -> None:
        for run in queryset.filter(status=ImportStatus.PREVIEWED):
            run = imports_admin.import_run_apply(run=run)
            self.message_user(request, f"{run.file_name}: {run.report['summary']}")
