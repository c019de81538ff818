"""Campaigns: e-mail through Django's mail backend, direct mail as a CSV, and their tracking.

Sending. :func:`campaign_start` builds the audience once (the segment, filtered by the consent
the campaign's kind needs, every member written to the audit log) as one ``CampaignSend`` row per
recipient, unique per (campaign, customer). The Celery task then calls :func:`campaign_send_batch`
repeatedly: each recipient is *claimed* (``pending`` → ``sending``) in its own committed
transaction before the message goes to the mail server, and marked ``sent`` (or ``failed``) after.
A re-run, a redelivered task or a second worker only ever picks up ``pending`` rows, so nobody
gets the e-mail twice; a worker killed between the claim and the send leaves the row in
``sending``, which is reported and never retried (at most once, by design).

Tracking. Each recipient's ``token`` is in their links: ``/m/c/<token>`` (click, then redirect to
the campaign's landing page), ``/m/o/<token>.gif`` (open pixel) and ``/m/u/<token>`` (unsubscribe,
which withdraws e-mail consent). Each first open or click flips a timestamp with a conditional
UPDATE and, only when it flipped, emits the touchpoint (with a stable message id) and moves the
campaign counter, so repeats change nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Count, F, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from channels.marketing.models import (
    Campaign,
    CampaignKind,
    CampaignSend,
    CampaignStats,
    CampaignStatus,
    Segment,
    SendStatus,
)
from channels.marketing.qr import qr_svg_data_uri
from channels.marketing.segments import segment_customers, segment_rules_of
from customers.consent import consent_set
from customers.models import AccessAction, ConsentPurpose, Customer
from customers.services import access_log_record
from customers.touchpoints import touchpoint_emit
from integrations.exports import ExportFormat, export_lines
from interaction_platform.choices import Channel
from interaction_platform.errors import Conflict, InvalidInput, NotFound

SOURCE = "campaigns"
SEND_BATCH_SIZE = 50
SAMPLE_RECIPIENT = "sample-recipient"  # stands in for a recipient's link token in the preview
AUDIENCE_CHUNK = 1000
PIXEL_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
# The consent each kind of campaign needs from every recipient.
CONSENT_FOR_KIND = {
    CampaignKind.EMAIL: ConsentPurpose.EMAIL,
    CampaignKind.DIRECT_MAIL: ConsentPurpose.DIRECT_MAIL,
}


def public_url(path: str) -> str:
    """An absolute link for an e-mail or a printed code (no request to build it from)."""
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}"


def _is_safe_landing_path(path: str) -> bool:
    return (
        path.startswith("/") and not path.startswith("//") and "\\" not in path and len(path) <= 300
    )


def _stats_add(campaign_id: int, **deltas: Any) -> None:
    """Move the campaign's counters with F() (the row exists from the campaign's creation)."""
    CampaignStats.objects.filter(campaign_id=campaign_id).update(
        **{name: F(name) + value for name, value in deltas.items()}
    )


def _emit(
    send: CampaignSend,
    *,
    event: str,
    key: str,
    at: datetime,
    channel: Channel = Channel.EMAIL,
    **properties: Any,
) -> None:
    """The recipient's touchpoint for this campaign, idempotent by ``{key}:{campaign}:{customer}``
    (call it inside the transaction that records the fact)."""
    touchpoint_emit(
        customer=send.customer,
        event=event,
        channel=channel,
        source=SOURCE,
        properties={"campaign_id": send.campaign_id, **properties},
        occurred_at=at,
        message_id=f"{key}:{send.campaign_id}:{send.customer_id}",
    )


# --- campaigns ---------------------------------------------------------------------------------


@transaction.atomic
def campaign_create(
    *,
    name: str,
    kind: CampaignKind | str,
    created_by: Any,
    segment: Segment | None = None,
    subject: str = "",
    headline: str = "",
    body: str = "",
    call_to_action: str = "Shop now",
    landing_path: str = "/",
    attribution_window_days: int = 7,
) -> Campaign:
    """Create a draft campaign and its (empty) counters. Raises InvalidInput for a missing or
    inconsistent field and Conflict when the name is taken."""
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name or len(name) > 120:
        errors["name"] = ["Enter a name of up to 120 characters."]
    if kind not in CampaignKind.values:
        errors["kind"] = ["Choose e-mail, direct mail or print."]
    if kind in (CampaignKind.EMAIL, CampaignKind.DIRECT_MAIL) and segment is None:
        errors["segment"] = ["Choose the segment that receives this campaign."]
    if kind == CampaignKind.EMAIL and not subject.strip():
        errors["subject"] = ["An e-mail needs a subject line."]
    if kind == CampaignKind.EMAIL and not body.strip():
        errors["body"] = ["Write the e-mail's text."]
    if not _is_safe_landing_path(landing_path):
        errors["landing_path"] = ["Enter a path on this shop starting with /, e.g. /c/jackets/."]
    if not 1 <= attribution_window_days <= 90:
        errors["attribution_window_days"] = ["Enter a number of days from 1 to 90."]
    if errors:
        raise InvalidInput("The campaign could not be saved: see the marked fields.", fields=errors)
    if Campaign.objects.filter(name__iexact=name).exists():
        raise Conflict(
            f"A campaign called “{name}” already exists.",
            fields={"name": ["This name is taken; choose another."]},
        )
    try:
        with transaction.atomic():
            campaign = Campaign.objects.create(
                name=name,
                kind=kind,
                segment=segment if kind != CampaignKind.PRINT else None,
                subject=subject.strip(),
                headline=headline.strip(),
                body=body.strip(),
                call_to_action=call_to_action.strip() or "Shop now",
                landing_path=landing_path,
                attribution_window_days=attribution_window_days,
                created_by=created_by,
            )
    except IntegrityError:
        raise Conflict(f"A campaign called “{name}” already exists.") from None
    CampaignStats.objects.create(campaign=campaign)
    return campaign


def _audience(campaign: Campaign) -> QuerySet[Customer]:
    assert campaign.segment is not None
    purpose = CONSENT_FOR_KIND[CampaignKind(campaign.kind)]
    customers = segment_customers(rules=segment_rules_of(campaign.segment)).filter(
        **{f"{purpose.value}_consent": True}
    )
    if campaign.kind == CampaignKind.EMAIL:
        return customers.exclude(email="")
    return customers.exclude(address_line1="").exclude(postcode="").exclude(city="")


def campaign_audience_count(*, campaign: Campaign) -> int:
    """How many of the segment can receive this campaign (a count, no personal data)."""
    if campaign.segment is None:
        return 0
    return _audience(campaign).count()


@transaction.atomic
def campaign_start(*, campaign: Campaign, actor: Any) -> Campaign:
    """Turn a draft into a campaign under way: fix its audience (consenting members of the
    segment), one send row each, every member written to the audit log as an export for this
    campaign. Idempotent: a campaign already started is returned unchanged. Locks the campaign
    row. For e-mail, the caller enqueues the sending task after the commit."""
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.status != CampaignStatus.DRAFT:
        return locked
    if locked.kind == CampaignKind.PRINT:
        raise InvalidInput("A print campaign has no audience: add QR codes to it instead.")
    now = timezone.now()
    size = 0
    for chunk in _chunks(_audience(locked).only("pk").order_by("pk"), AUDIENCE_CHUNK):
        CampaignSend.objects.bulk_create(
            [
                CampaignSend(campaign=locked, customer=customer, token=secrets.token_hex(16))
                for customer in chunk
            ]
        )
        access_log_record(
            actor=actor,
            customers=chunk,
            action=AccessAction.EXPORT,
            via=f"marketing: campaign audience #{locked.pk}",
            reason=f"Campaign “{locked.name}” ({locked.get_kind_display()})",
        )
        size += len(chunk)
    locked.status = (
        CampaignStatus.SENDING if locked.kind == CampaignKind.EMAIL else CampaignStatus.SENT
    )
    locked.audience_size = size
    locked.started_at = now
    if locked.kind != CampaignKind.EMAIL:
        locked.finished_at = now
    locked.save(update_fields=["status", "audience_size", "started_at", "finished_at"])
    if locked.kind == CampaignKind.DIRECT_MAIL:
        _direct_mail_mark_sent(locked, now)
    return locked


def _chunks(queryset: QuerySet[Customer], size: int) -> Iterator[list[Customer]]:
    chunk: list[Customer] = []
    for customer in queryset.iterator(chunk_size=size):
        chunk.append(customer)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _direct_mail_mark_sent(campaign: Campaign, now: datetime) -> None:
    """A mailing goes to the printer as one file: every recipient counts as sent, with a
    ``Direct Mail Sent`` touchpoint each."""
    sends = list(campaign.sends.select_related("customer"))
    CampaignSend.objects.filter(campaign=campaign).update(
        status=SendStatus.SENT, claimed_at=now, sent_at=now
    )
    for send in sends:
        _emit(
            send,
            event="Direct Mail Sent",
            key="direct-mail-sent",
            at=now,
            channel=Channel.DIRECT_MAIL,
            mailing_id=send.token,
        )
    _stats_add(campaign.pk, sent=len(sends), delivered=len(sends))


# --- sending e-mail ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SendBatchResult:
    sent: int
    failed: int
    remaining: int


def _claim_next(campaign_id: int) -> CampaignSend | None:
    """Claim one pending recipient in its own committed transaction (SKIP LOCKED lets several
    workers share a campaign)."""
    with transaction.atomic():
        send = (
            CampaignSend.objects.select_for_update(skip_locked=True)
            .filter(campaign_id=campaign_id, status=SendStatus.PENDING)
            .order_by("pk")
            .first()
        )
        if send is None:
            return None
        claimed = CampaignSend.objects.filter(pk=send.pk, status=SendStatus.PENDING).update(
            status=SendStatus.SENDING, claimed_at=timezone.now()
        )
        return send if claimed else None


def _email_context(campaign: Campaign, *, first_name: str, token: str) -> dict[str, Any]:
    return {
        "campaign": campaign,
        "first_name": first_name,
        "paragraphs": [p.strip() for p in campaign.body.split("\n\n") if p.strip()],
        "click_url": public_url(f"/m/c/{token}"),
        "pixel_url": public_url(f"/m/o/{token}.gif"),
        "unsubscribe_url": public_url(f"/m/u/{token}"),
        "shop_name": settings.SHOP_NAME,
    }


def campaign_email_preview(*, campaign: Campaign) -> str:
    """The text version of the e-mail as a sample recipient (no one's personal data) sees it."""
    return render_to_string(
        "marketing/email/campaign.txt",
        _email_context(campaign, first_name="Anna", token=SAMPLE_RECIPIENT),
    ).strip()


def campaign_email_message(*, campaign: Campaign, send: CampaignSend) -> EmailMultiAlternatives:
    """The e-mail for one recipient: text and HTML, with their tracked link, open pixel and
    unsubscribe link."""
    customer = send.customer
    context = _email_context(campaign, first_name=customer.first_name, token=send.token)
    message = EmailMultiAlternatives(
        subject=campaign.subject,
        body=render_to_string("marketing/email/campaign.txt", context),
        to=[customer.email],
        headers={
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "X-Campaign": str(campaign.pk),
        },
    )
    message.attach_alternative(
        render_to_string("marketing/email/campaign.html", context), "text/html"
    )
    return message


def campaign_send_batch(*, campaign_id: int, batch_size: int | None = None) -> SendBatchResult:
    """Send up to ``batch_size`` pending e-mails of a campaign. Never inside a transaction:
    each recipient is claimed and committed first, then the mail server is called, then the
    result is recorded (``Email Sent`` touchpoint and counters). Safe to run any number of
    times, concurrently too: a recipient is only ever sent to once."""
    campaign = Campaign.objects.get(pk=campaign_id)
    sent = failed = 0
    for _ in range(batch_size or SEND_BATCH_SIZE):
        send = _claim_next(campaign_id)
        if send is None:
            break
        send = CampaignSend.objects.select_related("customer").get(pk=send.pk)
        try:
            campaign_email_message(campaign=campaign, send=send).send()
        except Exception as error:
            _record_failure(send, error)
            failed += 1
            continue
        _record_sent(campaign, send)
        sent += 1
    remaining = CampaignSend.objects.filter(
        campaign_id=campaign_id, status=SendStatus.PENDING
    ).count()
    if not remaining:
        Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.SENDING).update(
            status=CampaignStatus.SENT, finished_at=timezone.now()
        )
    return SendBatchResult(sent=sent, failed=failed, remaining=remaining)


@transaction.atomic
def _record_sent(campaign: Campaign, send: CampaignSend) -> None:
    now = timezone.now()
    if not CampaignSend.objects.filter(pk=send.pk, status=SendStatus.SENDING).update(
        status=SendStatus.SENT, sent_at=now
    ):
        return
    _emit(
        send,
        event="Email Sent",
        key="email-sent",
        at=now,
        email_id=send.token,
        subject=campaign.subject,
    )
    _stats_add(campaign.pk, sent=1, delivered=1)


@transaction.atomic
def _record_failure(send: CampaignSend, error: Exception) -> None:
    if CampaignSend.objects.filter(pk=send.pk, status=SendStatus.SENDING).update(
        status=SendStatus.FAILED, failure=str(error)[:300] or type(error).__name__
    ):
        _stats_add(send.campaign_id, sent=1, failed=1)


# --- tracking ----------------------------------------------------------------------------------


def _send_by_token(token: str) -> CampaignSend:
    send = (
        CampaignSend.objects.select_related("campaign", "customer").filter(token=token).first()
        if len(token) <= 40
        else None
    )
    if send is None:
        raise NotFound("This link is not valid (any more).")
    return send


@transaction.atomic
def email_open_record(*, token: str) -> bool:
    """The open pixel was loaded. The first time only: ``Email Opened`` and the counter.
    Returns True when this was the first open. Raises NotFound for an unknown token."""
    send = _send_by_token(token)
    return _mark_opened(send, timezone.now())


def _mark_opened(send: CampaignSend, now: datetime) -> bool:
    if not CampaignSend.objects.filter(pk=send.pk, opened_at__isnull=True).update(opened_at=now):
        return False
    _emit(send, event="Email Opened", key="email-opened", at=now, email_id=send.token)
    _stats_add(send.campaign_id, opened=1)
    return True


@transaction.atomic
def email_click_record(*, token: str) -> str:
    """A tracked link was followed: ``Email Clicked`` the first time (and ``Email Opened`` if
    images were blocked). Returns the landing path to redirect to. Raises NotFound."""
    send = _send_by_token(token)
    now = timezone.now()
    _mark_opened(send, now)
    if CampaignSend.objects.filter(pk=send.pk, clicked_at__isnull=True).update(clicked_at=now):
        _emit(
            send,
            event="Email Clicked",
            key="email-clicked",
            at=now,
            email_id=send.token,
            link_url=send.campaign.landing_path,
        )
        _stats_add(send.campaign_id, clicked=1)
    return send.campaign.landing_path


def email_send_for_unsubscribe(*, token: str) -> CampaignSend:
    """The recipient behind an unsubscribe link (for the confirmation page). Raises NotFound."""
    return _send_by_token(token)


@transaction.atomic
def email_unsubscribe(*, token: str) -> bool:
    """Withdraw the recipient's marketing e-mail consent (recorded in the consent history) and
    emit ``Email Unsubscribed``. Returns False, changing nothing, when already done."""
    send = _send_by_token(token)
    now = timezone.now()
    first = bool(
        CampaignSend.objects.filter(pk=send.pk, unsubscribed_at__isnull=True).update(
            unsubscribed_at=now
        )
    )
    changed = consent_set(
        customer=send.customer,
        purpose=ConsentPurpose.EMAIL,
        is_granted=False,
        channel=Channel.EMAIL,
        source=f"unsubscribe link, campaign {send.campaign_id}",
    )
    if first:
        _emit(
            send, event="Email Unsubscribed", key="email-unsubscribed", at=now, email_id=send.token
        )
        _stats_add(send.campaign_id, unsubscribed=1)
    return first or changed


@transaction.atomic
def direct_mail_scan_record(*, token: str) -> str:
    """A recipient's personal QR code from a mailing was scanned: ``QR Scanned`` on their
    timeline and the campaign's scan counter, the first time (a recipient is one scanner).
    Returns the landing path. Raises NotFound."""
    send = _send_by_token(token)
    now = timezone.now()
    if CampaignSend.objects.filter(pk=send.pk, scanned_at__isnull=True).update(scanned_at=now):
        _stats_add(send.campaign_id, qr_scans=1)
        _emit(
            send,
            event="QR Scanned",
            key="qr:mail",
            at=now,
            channel=Channel.DIRECT_MAIL,
            qr_code=send.token,
            destination_url=send.campaign.landing_path,
        )
    return send.campaign.landing_path


# --- direct mail export ------------------------------------------------------------------------

DIRECT_MAIL_COLUMNS = (
    "recipient_id",
    "first_name",
    "last_name",
    "address_line1",
    "address_line2",
    "postcode",
    "city",
    "country",
    "qr_url",
    "qr_svg_data_uri",
)


def direct_mail_csv(*, campaign: Campaign, actor: Any) -> str:
    """The mailing file: one row per recipient with their postal address and personal QR code
    (its URL and an SVG data URI). Every row read is written to the audit log. Raises
    InvalidInput for anything but a started direct-mail campaign."""
    if campaign.kind != CampaignKind.DIRECT_MAIL:
        raise InvalidInput("Only a direct-mail campaign has a mailing file.")
    if campaign.status == CampaignStatus.DRAFT:
        raise InvalidInput("Start the campaign first: that fixes who receives it.")
    sends = list(campaign.sends.select_related("customer").order_by("pk"))
    rows = []
    for send in sends:
        customer = send.customer
        url = public_url(f"/m/q/{send.token}")
        rows.append(
            {
                "recipient_id": send.token,
                "first_name": customer.first_name,
                "last_name": customer.last_name,
                "address_line1": customer.address_line1,
                "address_line2": customer.address_line2,
                "postcode": customer.postcode,
                "city": customer.city,
                "country": customer.country,
                "qr_url": url,
                "qr_svg_data_uri": qr_svg_data_uri(url),
            }
        )
    # the shared export writer: text a spreadsheet would run as a formula is neutralised
    content = "".join(
        export_lines(rows=rows, columns=DIRECT_MAIL_COLUMNS, export_format=ExportFormat.CSV)
    )
    with transaction.atomic():
        access_log_record(
            actor=actor,
            customers=[send.customer for send in sends],
            action=AccessAction.EXPORT,
            via=f"marketing: direct mail file, campaign #{campaign.pk}",
            reason=f"Campaign “{campaign.name}” mailing file",
        )
    return content


# --- selectors ---------------------------------------------------------------------------------


def campaign_list() -> QuerySet[Campaign]:
    return Campaign.objects.select_related("stats", "segment").order_by("-created_at", "-id")


def campaign_get(*, campaign_id: int) -> Campaign:
    campaign = Campaign.objects.select_related("stats", "segment").filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound("There is no such campaign.")
    return campaign


def campaign_progress(*, campaign: Campaign) -> dict[str, int]:
    """Recipients per send status (``sending`` left behind means a worker stopped mid-send)."""
    counts = dict.fromkeys(SendStatus.values, 0)
    for row in campaign.sends.values("status").order_by().annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts
