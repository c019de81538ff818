"""The marketer's pages for segments, campaigns, QR codes and follow-up. Thin: parse, call a
service or selector, render. Marketers see counts; the only personal data that leaves is the
direct-mail file, which is audited."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog.models import Location, LocationKind
from channels.marketing import attribution, followup, qr, segments
from channels.marketing import campaigns as campaign_services
from channels.marketing.campaign_forms import (
    CampaignForm,
    QrCodeForm,
    SegmentForm,
    form_errors_from,
)
from channels.marketing.models import CampaignKind, CampaignStatus
from channels.marketing.tasks import campaign_send
from integrations.exports import ExportFormat, export_lines
from interaction_platform.choices import Channel
from interaction_platform.errors import DomainError, InvalidInput
from interaction_platform.pages import require_action
from interaction_platform.permissions import Action

DASHBOARD_COLUMNS = (
    ("name", "Campaign"),
    ("kind", "Kind"),
    ("status", "Status"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("opened", "Opened"),
    ("clicked", "Clicked"),
    ("qr_scans", "QR scans"),
    ("orders", "Orders (any channel)"),
    ("revenue", "Revenue"),
)


def _csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> HttpResponse:
    """A CSV download through the shared export writer (which neutralises cells a spreadsheet
    would run as formulas)."""
    records = [dict(zip(header, row, strict=True)) for row in rows]
    content = "".join(export_lines(rows=records, columns=header, export_format=ExportFormat.CSV))
    response = HttpResponse(content, content_type=ExportFormat.CSV.content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- segments ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@require_action(Action.MARKETING_USE)
def segment_builder(request: HttpRequest) -> HttpResponse:
    """The rule builder. "Count" (a GET, so it works without JavaScript) shows how many match;
    "Save" (a POST) stores the segment. A bad rule is a 400 with the reason on the field."""
    status = 200
    count: int | None = None
    if request.method == "POST":
        form = SegmentForm(request.POST)
        form.is_valid()
        try:
            rules = segments.segment_rules_parse(request.POST)
            segment = segments.segment_save(
                name=request.POST.get("name", ""),
                description=request.POST.get("description", ""),
                rules=rules,
                created_by=request.user,
            )
        except DomainError as error:
            form_errors_from(form, error)
            status = error.http_status
        else:
            messages.success(request, f"Segment “{segment.name}” saved.")
            return redirect("marketing:segments")
    else:
        form = SegmentForm(request.GET if "count" in request.GET else None)
        if "count" in request.GET:
            form.is_valid()
            try:
                count = segments.segment_count(rules=segments.segment_rules_parse(request.GET))
            except DomainError as error:
                form_errors_from(form, error)
                status = error.http_status
    return render(
        request,
        "marketing/campaigns/segments.html",
        {"form": form, "count": count, "saved": segments.segment_list(), "nav": "segments"},
        status=status,
    )


@require_GET
@require_action(Action.MARKETING_USE)
def segment_count(request: HttpRequest) -> JsonResponse:
    """The live count for the builder: ``{"count": n}``, or 400 with the reasons."""
    try:
        rules = segments.segment_rules_parse(request.GET)
    except InvalidInput as error:
        return JsonResponse(error.as_dict(), status=400)
    return JsonResponse({"count": segments.segment_count(rules=rules)})


# --- campaigns ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardFilters:
    kind: str = ""
    channel: str = ""
    started_from: date | None = None
    started_until: date | None = None


def _dashboard_filters(request: HttpRequest) -> DashboardFilters:
    """Read the dashboard's filters; raises InvalidInput naming the field that is wrong."""
    errors: dict[str, list[str]] = {}
    kind = request.GET.get("kind", "")
    if kind not in ("", *CampaignKind.values):
        errors["kind"] = ["Choose a kind from the list."]
    channel = request.GET.get("channel", "")
    if channel not in ("", *Channel.values):
        errors["channel"] = ["Choose a channel from the list."]
    days: dict[str, date | None] = {}
    for name in ("from", "until"):
        text = request.GET.get(name, "").strip()
        try:
            days[name] = date.fromisoformat(text) if text else None
        except ValueError:
            errors[name] = ["Enter a date like 2026-11-01."]
            days[name] = None
    if errors:
        raise InvalidInput("The filters are not valid.", fields=errors)
    return DashboardFilters(kind, channel, days["from"], days["until"])


def _dashboard_rows(filters: DashboardFilters) -> list[dict[str, Any]]:
    campaigns = campaign_services.campaign_list()
    if filters.kind:
        campaigns = campaigns.filter(kind=filters.kind)
    if filters.started_from:
        campaigns = campaigns.filter(started_at__date__gte=filters.started_from)
    if filters.started_until:
        campaigns = campaigns.filter(started_at__date__lte=filters.started_until)
    in_channel = (
        attribution.attributed_totals_by_campaign(channel=filters.channel)
        if filters.channel
        else None
    )
    rows = []
    for campaign in campaigns:
        stats = campaign.stats
        orders, revenue = (
            in_channel.get(campaign.pk, (0, Decimal("0.00")))
            if in_channel is not None
            else (stats.orders, stats.revenue)
        )
        rows.append(
            {
                "campaign": campaign,
                "name": campaign.name,
                "kind": campaign.get_kind_display(),
                "status": campaign.get_status_display(),
                "sent": stats.sent,
                "delivered": stats.delivered,
                "opened": stats.opened,
                "clicked": stats.clicked,
                "qr_scans": stats.qr_scans,
                "orders": orders,
                "revenue": revenue,
                "currency": stats.currency,
            }
        )
    return rows


def _totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("sent", "delivered", "opened", "clicked", "qr_scans", "orders", "revenue")
    return {key: sum((row[key] for row in rows), 0) for key in keys}


def _bars(
    rows: list[dict[str, Any]], key: str, width: int = 320, label: str = "name"
) -> list[dict[str, Any]]:
    """Horizontal bars for a server-rendered SVG chart (no script, no inline style)."""
    top = max((float(row[key]) for row in rows), default=0.0) or 1.0
    return [
        {
            "label": row[label],
            "value": row[key],
            "width": round(width * float(row[key]) / top),
            "y": 28 * index,
        }
        for index, row in enumerate(rows)
    ]


def _with(request: HttpRequest, **params: str) -> str:
    query = request.GET.copy()
    for key, value in params.items():
        query[key] = value
    return query.urlencode()


@require_GET
@require_action(Action.MARKETING_USE)
def campaign_dashboard(request: HttpRequest) -> HttpResponse:
    """Dashboard 6: per campaign sent, delivered, opened, clicked, QR scans, orders credited in
    any channel within the window, revenue. Also as CSV (``?format=csv``)."""
    try:
        filters = _dashboard_filters(request)
        error = None
    except InvalidInput as invalid:
        filters, error = DashboardFilters(), invalid
    rows = _dashboard_rows(filters) if error is None else []
    if request.GET.get("format") == "csv" and error is None:
        return _csv_response(
            "campaigns.csv",
            [label for _, label in DASHBOARD_COLUMNS] + ["Currency"],
            ([row[key] for key, _ in DASHBOARD_COLUMNS] + [row["currency"]] for row in rows),
        )
    return render(
        request,
        "marketing/campaigns/dashboard.html",
        {
            "rows": rows,
            "totals": _totals(rows),
            "filters": filters,
            "error": error,
            "csv_query": _with(request, format="csv"),
            "kinds": CampaignKind.choices,
            "channels": Channel.selling(),
            "revenue_bars": _bars(rows, "revenue"),
            "chart_height": 28 * len(rows),
            "columns": DASHBOARD_COLUMNS,
            "nav": "campaigns",
        },
        status=error.http_status if error else 200,
    )


@require_http_methods(["GET", "POST"])
@require_action(Action.MARKETING_USE)
def campaign_new(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                campaign = campaign_services.campaign_create(created_by=request.user, **data)
            except DomainError as error:
                form_errors_from(form, error)
                status = error.http_status
            else:
                messages.success(request, f"Campaign “{campaign.name}” saved as a draft.")
                return redirect("marketing:campaign", campaign_id=campaign.pk)
        else:
            status = 400
    return render(
        request, "marketing/campaigns/new.html", {"form": form, "nav": "campaigns"}, status=status
    )


@require_GET
@require_action(Action.MARKETING_USE)
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_services.campaign_get(campaign_id=campaign_id)
    stats = campaign.stats
    funnel = [
        ("Sent", stats.sent),
        ("Delivered", stats.delivered),
        ("Opened", stats.opened),
        ("Clicked", stats.clicked),
        ("QR scans", stats.qr_scans),
        ("Orders", stats.orders),
    ]
    top = max((value for _, value in funnel), default=0) or 1
    return render(
        request,
        "marketing/campaigns/detail.html",
        {
            "campaign": campaign,
            "stats": stats,
            "progress": campaign_services.campaign_progress(campaign=campaign),
            "audience_count": (
                campaign_services.campaign_audience_count(campaign=campaign)
                if campaign.status == CampaignStatus.DRAFT
                else campaign.audience_size
            ),
            "funnel": [
                {"label": label, "value": value, "width": round(360 * value / top), "y": 30 * i}
                for i, (label, value) in enumerate(funnel)
            ],
            "qr_codes": campaign.qr_codes.order_by("label"),
            "by_channel": attribution.attributed_orders_by_channel(campaign_id=campaign.pk),
            "preview": (
                campaign_services.campaign_email_preview(campaign=campaign)
                if campaign.kind == CampaignKind.EMAIL
                else ""
            ),
            "nav": "campaigns",
            "public_base_url": settings.PUBLIC_BASE_URL,
        },
    )


@require_POST
@require_action(Action.MARKETING_USE)
def campaign_start(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Fix the audience and (e-mail) start sending. Repeating it changes nothing."""
    campaign = campaign_services.campaign_get(campaign_id=campaign_id)
    was_draft = campaign.status == CampaignStatus.DRAFT
    started = campaign_services.campaign_start(campaign=campaign, actor=request.user)
    if started.kind == CampaignKind.EMAIL and started.status == CampaignStatus.SENDING:
        transaction.on_commit(lambda: campaign_send.delay(started.pk))
    if was_draft:
        messages.success(
            request,
            f"Started: {started.audience_size} recipient(s) with consent."
            + (" Sending in the background." if started.kind == CampaignKind.EMAIL else ""),
        )
    else:
        messages.info(request, "This campaign was already started.")
    return redirect("marketing:campaign", campaign_id=started.pk)


@require_GET
@require_action(Action.MARKETING_USE)
def campaign_mailing_file(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """The direct-mail file (postal addresses and personal QR codes). Audited per recipient."""
    campaign = campaign_services.campaign_get(campaign_id=campaign_id)
    content = campaign_services.direct_mail_csv(campaign=campaign, actor=request.user)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mailing-{campaign.pk}.csv"'
    return response


# --- QR codes ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@require_action(Action.MARKETING_USE)
def qr_codes(request: HttpRequest) -> HttpResponse:
    campaigns = list(qr.print_campaigns())
    form = QrCodeForm(request.POST or None, campaigns=campaigns)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            campaign = next(c for c in campaigns if str(c.pk) == data["campaign"])
            store = (
                Location.objects.filter(pk=data["store"], kind=LocationKind.STORE).first()
                if data["store"]
                else None
            )
            try:
                destination = qr.qr_destination_path(
                    product_slug=data["product"].strip(), landing_path=data["landing_path"].strip()
                )
                code = qr.qr_code_create(
                    campaign=campaign,
                    label=data["label"],
                    placement=data["placement"],
                    destination_path=destination,
                    store=store,
                )
            except DomainError as error:
                form_errors_from(form, error)
                status = error.http_status
            else:
                messages.success(request, f"QR code “{code.label}” made: /q/{code.code}")
                return redirect("marketing:qr-codes")
        else:
            status = 400
    return render(
        request,
        "marketing/campaigns/qr_codes.html",
        {
            "form": form,
            "codes": qr.qr_code_list(),
            "has_print_campaigns": bool(campaigns),
            "public_base_url": settings.PUBLIC_BASE_URL,
            "nav": "qr",
        },
        status=status,
    )


@require_GET
@require_action(Action.MARKETING_USE)
def qr_code_svg(request: HttpRequest, code: str) -> HttpResponse:
    """The printable code as an SVG download."""
    found = qr.qr_code_get(code=code)
    svg = qr.qr_svg(
        campaign_services.public_url(reverse("qr-scan", kwargs={"code": found.code})), scale=10
    )
    response = HttpResponse(svg, content_type="image/svg+xml")
    if request.GET.get("inline") != "1":
        response["Content-Disposition"] = f'attachment; filename="qr-{found.code}.svg"'
    return response


# --- follow-up ---------------------------------------------------------------------------------

FOLLOW_UP_COLUMNS = (
    "Follow-up",
    "Created",
    "Sent",
    "Done",
    "Recovered orders",
    "Recovered revenue",
)


@require_GET
@require_action(Action.MARKETING_USE)
def follow_up_dashboard(request: HttpRequest) -> HttpResponse:
    """Dashboard 7: abandoned baskets, follow-ups sent, recovered orders and revenue."""
    days = request.GET.get("days", "30")
    days_back = int(days) if days.isdigit() and 1 <= int(days) <= 365 else 30
    since = timezone.now() - timedelta(days=days_back)
    figures = followup.followup_figures(since=since)
    if request.GET.get("format") == "csv":
        return _csv_response(
            "follow-up.csv",
            FOLLOW_UP_COLUMNS,
            (
                [
                    row["label"],
                    row["follow_ups"],
                    row["sent"],
                    row["done"],
                    row["recovered"],
                    row["revenue"],
                ]
                for row in figures
            ),
        )
    idle_before = timezone.now() - timedelta(hours=settings.FOLLOW_UP_IDLE_HOURS)
    return render(
        request,
        "marketing/campaigns/follow_up.html",
        {
            "figures": figures,
            "revenue_bars": _bars(figures, "revenue", label="label"),
            "chart_height": 28 * len(figures),
            "days": days_back,
            "abandoned": followup.abandoned_basket_count(idle_before=idle_before),
            "idle_hours": settings.FOLLOW_UP_IDLE_HOURS,
            "recovery_days": settings.FOLLOW_UP_RECOVERY_DAYS,
            "totals": {
                key: sum((row[key] for row in figures), 0)
                for key in ("follow_ups", "sent", "recovered", "revenue")
            },
            "nav": "follow-up",
        },
    )
