"""``/v1/batch``, ``/v1/track``, ``/v1/identify``, ``/v1/page``, ``/v1/screen``, ``/v1/alias``:
the Segment tracking API, so that existing Segment and RudderStack SDKs send to us unchanged.

Authentication is the source's write key: HTTP Basic with the key as user name (what the SDKs
send), or ``writeKey`` in the body. The answer is 200 ``{"success": true}`` only once the events
are committed to the inbox; every refusal is ``{"error", "message", "fields"}`` and stores
nothing of the request.
"""

from __future__ import annotations

import base64
import binascii

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from channels.ingest import parsing
from channels.ingest.models import Source
from channels.ingest.selectors import source_for_write_key
from customers.inbox import inbox_accept
from interaction_platform.errors import DomainError, InvalidInput, NotAuthenticated

_CHALLENGE = 'Basic realm="tracking"'


@csrf_exempt
def intake(request: HttpRequest, *, event_type: str | None) -> JsonResponse:
    """``event_type`` is None for ``/v1/batch``, else the type the endpoint takes."""
    if request.method != "POST":
        response = _refusal(
            DomainError("Send events with POST.", code="method_not_allowed", fields={}),
            status=405,
        )
        response["Allow"] = "POST"
        return response
    received_at = timezone.now()
    try:
        limit = parsing.MAX_BATCH_BYTES if event_type is None else parsing.MAX_EVENT_BYTES
        # the body is read before any refusal, so a keep-alive connection stays usable
        raw = _read_body(request, limit=limit)
        source = _source_from_header(request)
        body = parsing.decompress(
            body=raw,
            content_encoding=request.headers.get("Content-Encoding", ""),
            limit=limit,
        )
        document = parsing.parse_body(body)
        if source is None:
            source = _source_from_body(document)
        if event_type is None:
            events = parsing.read_batch(document, received_at=received_at)
        else:
            events = parsing.read_single(document, event_type=event_type, received_at=received_at)
        inbox_accept(
            events=events,
            source=source.name,
            channel=source.channel,
            is_shared_device=source.is_shared_device,
            received_at=received_at,
        )
    except DomainError as error:
        return _refusal(error)
    return JsonResponse({"success": True})


def _read_body(request: HttpRequest, *, limit: int) -> bytes:
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > limit:
        raise InvalidInput(
            f"The body is larger than {limit // 1024} KB.",
            code="too_large",
            fields={"body": [f"At most {limit // 1024} KB."]},
        )
    return request.read(limit + 1)


def _source_from_header(request: HttpRequest) -> Source | None:
    """The source named by ``Authorization: Basic base64(key:)``; None without that header."""
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as error:
        raise NotAuthenticated(
            "The Basic credentials are not valid base64.", code="bad_write_key"
        ) from error
    return _source(decoded.partition(":")[0])


def _source_from_body(document: dict[str, object]) -> Source:
    key = document.get("writeKey")
    if not isinstance(key, str) or not key:
        raise NotAuthenticated(
            "Send the source's write key as the Basic user name or as 'writeKey'.",
            code="no_write_key",
        )
    return _source(key)


def _source(key: str) -> Source:
    source = source_for_write_key(key=key)
    if source is None:
        raise NotAuthenticated(
            "The write key is unknown, replaced or its source is switched off.",
            code="bad_write_key",
        )
    return source


def _refusal(error: DomainError, *, status: int | None = None) -> JsonResponse:
    response = JsonResponse(error.as_dict(), status=status or error.http_status)
    if response.status_code == 401:
        response["WWW-Authenticate"] = _CHALLENGE
    return response
