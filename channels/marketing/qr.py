"""Printed QR codes: one per poster, flyer, shelf label or store, each leading to ``/q/<code>``.

A scan is always counted. It reaches a timeline only with consent: a signed-in shopper or a
visitor who accepted analytics gets a ``QR Scanned`` touchpoint (the anonymous one through the
tracking intake, keyed by their visitor id, so it joins their profile when they sign in);
anyone else is a number on the code and nothing more.
"""

from __future__ import annotations

import io
import secrets
from typing import Any

import segno
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone

from catalog.models import Location, LocationKind, Product
from channels.marketing.models import (
    Campaign,
    CampaignKind,
    CampaignStats,
    QrCode,
    QrPlacement,
    QrScan,
)
from customers.inbox import inbox_accept
from customers.models import Customer
from customers.touchpoints import touchpoint_emit
from interaction_platform.choices import Channel
from interaction_platform.errors import Conflict, InvalidInput, NotFound

SOURCE = "print-qr"
CODE_BYTES = 6


def qr_svg(url: str, *, scale: int = 4) -> str:
    """The QR code for ``url`` as an SVG document (segno: no image library needed)."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=scale, border=2, xmldecl=True)
    return buffer.getvalue().decode()


def qr_svg_data_uri(url: str) -> str:
    return str(segno.make(url, error="m").svg_data_uri(scale=4, border=2))


def qr_destination_path(*, product_slug: str = "", landing_path: str = "") -> str:
    """Where a code leads: a product page, or a landing path on this shop. Raises InvalidInput."""
    if product_slug:
        if not Product.objects.filter(slug=product_slug).exists():
            raise InvalidInput(fields={"product": ["There is no product with that address."]})
        return reverse("web:product", kwargs={"slug": product_slug})
    if not landing_path.startswith("/") or landing_path.startswith("//") or "\\" in landing_path:
        raise InvalidInput(
            fields={
                "landing_path": ["Enter a path on this shop starting with /, e.g. /c/jackets/."]
            }
        )
    return landing_path[:300]


@transaction.atomic
def qr_code_create(
    *,
    campaign: Campaign,
    label: str,
    placement: QrPlacement | str,
    destination_path: str,
    store: Location | None = None,
) -> QrCode:
    """A new printed code for a print campaign. Raises InvalidInput for a bad field and
    Conflict when the campaign already has a code with that label."""
    errors: dict[str, list[str]] = {}
    label = label.strip()
    if campaign.kind != CampaignKind.PRINT:
        errors["campaign"] = ["QR codes for print belong to a print campaign."]
    if not label or len(label) > 120:
        errors["label"] = ["Say where the code is printed, e.g. “Poster, Kalverstraat window”."]
    if placement not in QrPlacement.values:
        errors["placement"] = ["Choose poster, flyer, shelf label or store."]
    if store is not None and store.kind != LocationKind.STORE:
        errors["store"] = ["Choose a store."]
    if errors:
        raise InvalidInput("The QR code could not be made: see the marked fields.", fields=errors)
    if QrCode.objects.filter(campaign=campaign, label__iexact=label).exists():
        raise Conflict(
            f"This campaign already has a code labelled “{label}”.",
            fields={"label": ["This label is taken in this campaign."]},
        )
    for _ in range(5):
        code = secrets.token_urlsafe(CODE_BYTES).replace("_", "x").replace("-", "z")
        try:
            with transaction.atomic():
                return QrCode.objects.create(
                    code=code,
                    campaign=campaign,
                    label=label,
                    placement=placement,
                    store=store,
                    destination_path=destination_path,
                )
        except IntegrityError:
            continue
    raise Conflict("Could not make a unique code; try again.")


@transaction.atomic
def qr_scan_record(
    *,
    code: str,
    customer: Customer | None,
    anonymous_id: str,
    is_tracking_allowed: bool,
) -> str:
    """Count a scan of ``code`` and return the path to redirect to. With consent the scan is
    attached (``QR Scanned`` with message id ``qr:{scan id}``): to ``customer`` when known,
    otherwise to the visitor id through the tracking intake. Raises NotFound."""
    qr = QrCode.objects.select_related("campaign").filter(code=code[:24]).first()
    if qr is None:
        raise NotFound("This QR code is not known (any more).")
    now = timezone.now()
    attach = is_tracking_allowed and (customer is not None or bool(anonymous_id))
    scan = QrScan.objects.create(
        qr_code=qr,
        scanned_at=now,
        customer=customer if attach else None,
        anonymous_id=anonymous_id[:100] if attach and customer is None else "",
    )
    QrCode.objects.filter(pk=qr.pk).update(
        scan_count=F("scan_count") + 1,
        attached_scan_count=F("attached_scan_count") + (1 if attach else 0),
    )
    CampaignStats.objects.filter(campaign_id=qr.campaign_id).update(qr_scans=F("qr_scans") + 1)
    if attach:
        _emit_scan(qr, scan, customer, anonymous_id)
    return qr.destination_path


def _emit_scan(qr: QrCode, scan: QrScan, customer: Customer | None, anonymous_id: str) -> None:
    properties = {
        "campaign_id": qr.campaign_id,
        "qr_code": qr.code,
        "destination_url": qr.destination_path,
        "placement": qr.placement,
    }
    message_id = f"qr:{scan.pk}"
    store_id = qr.store_id
    if customer is not None:
        touchpoint_emit(
            customer=customer,
            event="QR Scanned",
            channel=Channel.PRINT,
            source=SOURCE,
            properties=properties,
            occurred_at=scan.scanned_at,
            store_id=store_id,
            message_id=message_id,
        )
        return
    inbox_accept(
        events=[
            {
                "type": "track",
                "event": "QR Scanned",
                "messageId": message_id,
                "timestamp": scan.scanned_at.isoformat(),
                "anonymousId": anonymous_id,
                "properties": properties,
                "context": {"consent": {"categoryPreferences": {"Analytics": True}}},
            }
        ],
        source=SOURCE,
        channel=Channel.PRINT,
        is_shared_device=False,
        received_at=scan.scanned_at,
    )


# --- selectors ---------------------------------------------------------------------------------


def qr_code_list() -> QuerySet[QrCode]:
    return QrCode.objects.select_related("campaign", "store").order_by("campaign__name", "label")


def qr_code_get(*, code: str) -> QrCode:
    qr = QrCode.objects.select_related("campaign").filter(code=code[:24]).first()
    if qr is None:
        raise NotFound("There is no such QR code.")
    return qr


def print_campaigns() -> QuerySet[Campaign]:
    return Campaign.objects.filter(kind=CampaignKind.PRINT).order_by("name")


def stores() -> Any:
    return Location.objects.filter(kind=LocationKind.STORE, is_active=True).order_by("name")
