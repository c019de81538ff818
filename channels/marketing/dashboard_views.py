"""The marketer dashboards: one page per question, each with its chart, the same figures as a
table, and a CSV download. Aggregates only, read from the rollup tables."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString

from channels.marketing import charts, dashboards
from channels.marketing.dashboard_forms import DashboardFilterForm
from channels.marketing.models import RollupWatermark
from channels.marketing.rollups import WATERMARK
from interaction_platform.pages import require_action
from interaction_platform.permissions import Action
from interaction_platform.templatetags import channel_label, money


@dataclass(frozen=True)
class DashboardPage:
    slug: str
    title: str
    question: str
    selector: Callable[[dashboards.DashboardFilter], dashboards.Dashboard]
    chart_kind: str  # "line" or "bar"
    extra_fields: tuple[str, ...] = ()


PAGES = [
    DashboardPage(
        "channel-mix",
        "Channel mix",
        "Orders, revenue and active customers per channel over time.",
        dashboards.channel_mix,
        "line",
        extra_fields=("chart",),
    ),
    DashboardPage(
        "web-in-stores",
        "What the web site sells in stores",
        "Store revenue from customers who had a web, app, e-mail or QR touchpoint shortly "
        "before the sale, beside the revenue the site and app take themselves.",
        dashboards.store_influence,
        "bar",
        extra_fields=("window",),
    ),
    DashboardPage(
        "multichannel",
        "Multichannel customers",
        "Do customers who use more channels buy more and stay longer?",
        dashboards.multichannel,
        "bar",
    ),
    DashboardPage(
        "funnel",
        "Checkout funnel",
        "Where shoppers drop out between basket and order, per channel.",
        dashboards.checkout_funnel,
        "bar",
    ),
    DashboardPage(
        "service",
        "Service",
        "Cases by channel: self-service share, first-contact resolution, time to resolve.",
        dashboards.service,
        "bar",
    ),
]
PAGES_BY_SLUG = {page.slug: page for page in PAGES}


def _page(slug: str) -> DashboardPage:
    try:
        return PAGES_BY_SLUG[slug]
    except KeyError:
        raise Http404("No such dashboard") from None


def _chart(page: DashboardPage, dashboard: dashboards.Dashboard) -> SafeString:
    chart = dashboard.chart
    labels = chart.get("labels", [])
    if chart.get("label_channels"):
        labels = [channel_label(label) for label in labels]
    draw = charts.line_chart if page.chart_kind == "line" and len(labels) > 1 else charts.bar_chart
    return draw(title=page.title, labels=labels, series=chart.get("series", []), unit=chart["unit"])


def _table(columns: list[tuple[str, str]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Headings as (text, is_number) and each row's cells as (text, is_number) in column order,
    formatted for people; a column of figures is right-aligned, heading included."""
    cells = [[_cell(key, row[key]) for key, _heading in columns] for row in rows]
    numeric = [bool(cells) and all(row[i][1] for row in cells) for i in range(len(columns))]
    return {
        "headings": [(heading, numeric[i]) for i, (_key, heading) in enumerate(columns)],
        "rows": cells,
    }


def _is_money(key: str) -> bool:
    return "revenue" in key and "share" not in key


def _csv_value(key: str, value: Any) -> Any:
    """Plain machine-readable values: codes, ISO dates, amounts to the cent, empty for none."""
    if value is None:
        return ""
    if _is_money(key):
        return Decimal(value).quantize(Decimal("0.01"))
    return value


def _cell(key: str, value: Any) -> tuple[str, bool]:
    if value is None:
        return "—", True
    if key == "channel":
        return channel_label(value), False
    if isinstance(value, date):
        return value.isoformat(), False
    if _is_money(key):
        return money(value), True
    if isinstance(value, int):
        return f"{value:,}", True
    if isinstance(value, Decimal):
        return f"{value:,}", True
    return str(value), False


@require_action(Action.MARKETING_USE)
def dashboard_page(request: HttpRequest, slug: str) -> HttpResponse:
    page = _page(slug)
    form = DashboardFilterForm(request.GET or None)
    context: dict[str, Any] = {"page": page, "pages": PAGES, "form": form}
    if request.GET and not form.is_valid():
        return render(request, "marketing/dashboards/dashboard.html", context, status=400)
    if not request.GET:
        form = DashboardFilterForm({})
        form.is_valid()
    dashboard_filter = form.to_filter()
    context["form"] = form.initial_from(dashboard_filter)
    dashboard = page.selector(dashboard_filter)
    context.update(
        dashboard=dashboard,
        chart=_chart(page, dashboard),
        table=_table(dashboard.columns, dashboard.rows),
        extra_tables=[
            (title, _table(columns, rows)) for title, columns, rows in dashboard.extra_tables
        ],
        filter=dashboard_filter,
        csv_query=request.GET.urlencode(),
        watermark=RollupWatermark.objects.filter(name=WATERMARK).first(),
    )
    return render(request, "marketing/dashboards/dashboard.html", context)


@require_action(Action.MARKETING_USE)
def dashboard_csv(request: HttpRequest, slug: str) -> HttpResponse:
    page = _page(slug)
    form = DashboardFilterForm(request.GET)
    if not form.is_valid():
        errors = "; ".join(
            f"{field}: {' '.join(str(message) for message in messages)}"
            for field, messages in form.errors.items()
        )
        return HttpResponse(
            f"Cannot make this CSV: {errors}\n", status=400, content_type="text/plain"
        )
    dashboard = page.selector(form.to_filter())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{page.slug}.csv"'
    writer = csv.writer(response, lineterminator="\n")
    writer.writerow([heading for _key, heading in dashboard.columns])
    for row in dashboard.rows:
        writer.writerow([_csv_value(key, row[key]) for key, _heading in dashboard.columns])
    for title, columns, rows in dashboard.extra_tables:
        writer.writerow([])
        writer.writerow([title])
        writer.writerow([heading for _key, heading in columns])
        for row in rows:
            writer.writerow([_csv_value(key, row[key]) for key, _heading in columns])
    return response
