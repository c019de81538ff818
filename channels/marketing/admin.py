"""Back-office views of campaigns and follow-ups (the marketers' own pages are /marketing/)."""

from __future__ import annotations

from django.contrib import admin

from channels.marketing.models import Campaign, CampaignStats, FollowUp, QrCode, Segment


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "created_by", "created_at")
    search_fields = ("name",)
    readonly_fields = ("created_at", "updated_at")


class CampaignStatsInline(admin.StackedInline):
    model = CampaignStats
    can_delete = False
    readonly_fields = (
        "sent",
        "delivered",
        "failed",
        "opened",
        "clicked",
        "unsubscribed",
        "qr_scans",
        "orders",
        "revenue",
        "currency",
    )


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "status", "audience_size", "started_at")
    list_filter = ("kind", "status")
    search_fields = ("name",)
    readonly_fields = ("status", "audience_size", "started_at", "finished_at", "created_at")
    inlines = [CampaignStatsInline]


@admin.register(QrCode)
class QrCodeAdmin(admin.ModelAdmin):
    list_display = ("code", "label", "campaign", "placement", "store", "scan_count")
    list_filter = ("placement",)
    search_fields = ("code", "label")
    readonly_fields = ("code", "scan_count", "attached_scan_count")


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ("kind", "status", "customer", "store", "created_at", "recovered_order")
    list_filter = ("kind", "status", "store")
    raw_id_fields = ("customer", "cart", "order", "recovered_order", "done_by")
    readonly_fields = ("created_at", "sent_at", "recovered_at", "recovered_revenue")
