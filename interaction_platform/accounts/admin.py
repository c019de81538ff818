from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from interaction_platform.accounts import services
from interaction_platform.accounts.models import ApiToken, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "email",
        "first_name",
        "last_name",
        "role",
        "is_active",
        "last_login",
    ]
    list_filter = ["role", "is_active", "stores"]
    search_fields = ["username", "email", "first_name", "last_name"]
    filter_horizontal = ["stores", "groups", "user_permissions"]
    fieldsets = [
        *(DjangoUserAdmin.fieldsets or ()),
        ("Role", {"fields": ["role", "stores"]}),
    ]
    add_fieldsets = [
        *(DjangoUserAdmin.add_fieldsets or ()),
        ("Role", {"fields": ["email", "role", "stores"]}),
    ]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued through the API (the key is shown once); here they are seen and
    revoked."""

    list_display = [
        "prefix",
        "name",
        "user",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "name", "user__username"]
    fields = ["user", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = ["user", "name", "prefix", "created_at", "expires_at", "last_used_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        services.api_tokens_revoke(tokens=queryset)
