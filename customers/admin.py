from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from customers import services
from customers.models import (
    AccessAction,
    AccessLog,
    Case,
    ConsentRecord,
    Customer,
    DroppedEventCount,
    Identity,
    InboxEvent,
    Merge,
    MergeReview,
    MergeReviewStatus,
    TimelineEvent,
)
from customers.services import access_log_record
from interaction_platform.errors import DomainError


class ReadOnlyAdminMixin:
    """For append-only histories: visible in the back office, never edited or deleted there."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class IdentityInline(admin.TabularInline):
    model = Identity
    fields = ["kind", "value", "source", "created_at"]
    readonly_fields = ["created_at"]
    extra = 0


class ConsentRecordInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ConsentRecord
    fields = readonly_fields = (
        "occurred_at",
        "purpose",
        "is_granted",
        "channel",
        "source",
        "recorded_by",
    )
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = [
        "display_name",
        "email",
        "phone",
        "loyalty_number",
        "home_store",
        "channel_count",
        "order_count",
        "last_seen_at",
    ]
    list_filter = [
        "is_identified",
        "home_store",
        "email_consent",
        "sms_consent",
        "direct_mail_consent",
        "analytics_consent",
    ]
    search_fields = ["email", "phone", "loyalty_number", "last_name", "first_name", "=public_id"]
    list_select_related = ["home_store"]
    readonly_fields = [
        "public_id",
        "first_seen_at",
        "last_seen_at",
        "channels_used",
        "channel_count",
        "order_count",
        "lifetime_revenue",
        "merged_into",
        "erased_at",
        "created_at",
        "updated_at",
    ]
    raw_id_fields = ["user"]
    inlines = [IdentityInline, ConsentRecordInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "public_id",
                    "user",
                    "first_name",
                    "last_name",
                    "email",
                    "phone",
                    "loyalty_number",
                    "home_store",
                ]
            },
        ),
        ("Address", {"fields": ["address_line1", "address_line2", "postcode", "city", "country"]}),
        (
            "Consent (change it through the customer's channels so it is recorded)",
            {
                "fields": [
                    "analytics_consent",
                    "email_consent",
                    "sms_consent",
                    "direct_mail_consent",
                ],
                "classes": ["collapse"],
            },
        ),
        (
            "Statistics",
            {
                "fields": [
                    "first_seen_at",
                    "last_seen_at",
                    "channels_used",
                    "channel_count",
                    "order_count",
                    "lifetime_revenue",
                ]
            },
        ),
        ("Lifecycle", {"fields": ["merged_into", "erased_at", "created_at", "updated_at"]}),
    ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """Opening a profile in the back office is staff access to personal data: audited."""
        response = super().change_view(request, object_id, form_url, extra_context)
        customer = self.get_object(request, object_id)
        if request.method == "GET" and customer is not None and response.status_code == 200:
            access_log_record(
                actor=request.user,
                customers=[customer],
                action=AccessAction.VIEW,
                via="admin: customer page",
                reason="back office",
            )
        return response

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        consent = ["analytics_consent", "email_consent", "sms_consent", "direct_mail_consent"]
        return [*self.readonly_fields, *consent]


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin):
    list_display = ["kind", "value", "customer", "source", "created_at"]
    list_filter = ["kind"]
    search_fields = ["value"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]


@admin.register(TimelineEvent)
class TimelineEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["occurred_at", "customer", "channel", "type", "source", "store"]
    list_filter = ["channel", "type", "store"]
    search_fields = ["=message_id", "=customer__public_id", "type"]
    list_select_related = ["customer", "store"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["occurred_at", "customer", "purpose", "is_granted", "channel", "source"]
    list_filter = ["purpose", "is_granted", "channel"]
    search_fields = ["customer__email", "=customer__public_id"]
    list_select_related = ["customer"]
    date_hierarchy = "occurred_at"


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["occurred_at", "actor", "action", "customer", "via", "reason"]
    list_filter = ["action", "actor__role"]
    search_fields = ["actor__username", "customer__email", "=customer__public_id", "reason", "via"]
    list_select_related = ["actor", "customer"]
    date_hierarchy = "occurred_at"


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "subject",
        "customer",
        "channel",
        "status",
        "resolution",
        "is_resolved_on_first_contact",
        "opened_at",
        "resolved_at",
    ]
    list_filter = ["status", "channel", "resolution", "is_resolved_on_first_contact"]
    search_fields = ["subject", "customer__email", "customer__last_name"]
    raw_id_fields = ["customer", "order", "opened_by"]
    list_select_related = ["customer"]
    date_hierarchy = "opened_at"


@admin.register(InboxEvent)
class InboxEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The durable inbox, for seeing what is waiting or was refused and why."""

    list_display = ["id", "received_at", "status", "source", "channel", "message_id", "attempts"]
    list_filter = ["status", "channel", "source", "is_shared_device"]
    search_fields = ["=message_id"]
    date_hierarchy = "received_at"
    show_full_result_count = False
    actions = ["process_again"]

    @admin.action(description="Process the selected failed rows again")
    def process_again(self, request: HttpRequest, queryset: QuerySet[InboxEvent]) -> None:
        count = services.inbox_retry_failed(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} failed rows are waiting to be processed again.")


def _run_for_each(
    modeladmin: admin.ModelAdmin, request: HttpRequest, items: QuerySet[Any], action: Any
) -> None:
    """Apply a service to each selected row; refusals are reported, not raised."""
    done = 0
    for item in items:
        try:
            action(item)
        except DomainError as error:
            modeladmin.message_user(request, f"{item}: {error.message}", level=messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, f"{done} done.")


@admin.register(Merge)
class MergeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "merged_at", "absorbed", "survivor", "reason", "unmerged_at"]
    list_filter = ["reason", ("unmerged_at", admin.EmptyFieldListFilter)]
    search_fields = ["=survivor__public_id", "=absorbed__public_id", "=message_id"]
    list_select_related = ["absorbed", "survivor"]
    date_hierarchy = "merged_at"
    actions = ["undo"]

    @admin.action(description="Undo the selected merges (rows move back)")
    def undo(self, request: HttpRequest, queryset: QuerySet[Merge]) -> None:
        _run_for_each(
            self,
            request,
            queryset.order_by("-merged_at", "-id"),
            lambda merge: services.customer_unmerge(merge=merge, actor=request.user),
        )


@admin.register(MergeReview)
class MergeReviewAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The review queue: two known people whose identifiers met in one event."""

    list_display = [
        "id",
        "status",
        "first_customer",
        "second_customer",
        "occurrences",
        "source",
        "last_seen_at",
    ]
    list_filter = ["status", "source"]
    search_fields = ["=first_customer__public_id", "=second_customer__public_id", "=message_id"]
    list_select_related = ["first_customer", "second_customer"]
    date_hierarchy = "last_seen_at"
    actions = ["merge", "keep_apart"]

    @admin.action(description="Merge (the profile with a login, else the older one, stays)")
    def merge(self, request: HttpRequest, queryset: QuerySet[MergeReview]) -> None:
        _run_for_each(
            self,
            request,
            queryset.filter(status=MergeReviewStatus.OPEN),
            lambda review: services.merge_review_resolve(
                review=review, decision=services.ReviewDecision.MERGE, actor=request.user
            ),
        )

    @admin.action(description="Keep apart (they are different people)")
    def keep_apart(self, request: HttpRequest, queryset: QuerySet[MergeReview]) -> None:
        _run_for_each(
            self,
            request,
            queryset.filter(status=MergeReviewStatus.OPEN),
            lambda review: services.merge_review_resolve(
                review=review, decision=services.ReviewDecision.KEEP_APART, actor=request.user
            ),
        )


@admin.register(DroppedEventCount)
class DroppedEventCountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Events of anonymous visitors without analytics consent: counted, never stored."""

    list_display = ["day", "source", "channel", "reason", "count"]
    list_filter = ["reason", "channel", "source"]
    date_hierarchy = "day"
