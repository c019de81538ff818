"""Reading Segment-spec tracking requests.

The HTTP door refuses whatever is malformed — with a message that says what and where — and
turns the rest into events ready for the inbox: every event gets a ``messageId`` (assigned when
missing), its ``timestamp`` corrected for the sender's clock (Segment's rule: ``timestamp +
(receivedAt - sentAt)``, the original kept as ``originalTimestamp``) and ``receivedAt``.

Parsing is deliberately plain Python over ``json.loads``: a serializer per event costs three
times the throughput (see STACK.md). One bad event refuses the whole request, so a client never
has to guess which half of a batch was stored.
"""

from __future__ import annotations

import json
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from customers.identity import MAX_VALUE_LENGTH, usable_id
from interaction_platform.errors import InvalidInput

# Segment's limits.
MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
# After the clock-skew correction an event cannot be in the future; a day of slack covers
# senders without sentAt whose clock is wrong by a time zone or two.
MAX_FUTURE = timedelta(hours=24)
EVENT_TYPES = ("identify", "track", "page", "screen", "alias")
MAX_MESSAGE_ID_LENGTH = 200  # TimelineEvent.message_id
MAX_EVENT_NAME_LENGTH = 100  # TimelineEvent.type
_OBJECT_FIELDS = ("properties", "traits", "context", "integrations")
_TIME_FIELDS = ("timestamp", "sentAt", "originalTimestamp")
_NOT_A_TIME = "'{name}' is not an ISO 8601 time, e.g. 2024-05-01T12:00:00.000Z."


@dataclass(frozen=True)
class TrackingRequest:
    write_key: str
    events: list[dict[str, Any]]


def decompress(*, body: bytes, content_encoding: str, limit: int) -> bytes:
    """The body as sent, gunzipped when ``Content-Encoding: gzip``; refused past ``limit``
    bytes (also while inflating, so a small bomb cannot blow up)."""
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        data = body
    elif encoding == "gzip":
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            data = inflater.decompress(body, limit + 1)
        except zlib.error as error:
            raise InvalidInput(
                "The body says it is gzip-compressed but cannot be inflated.",
                code="malformed_body",
            ) from error
        if not inflater.eof and len(data) <= limit:
            raise InvalidInput("The gzip body is cut short.", code="malformed_body")
    else:
        raise InvalidInput(
            f"Content-Encoding '{content_encoding}' is not supported; send gzip or nothing.",
            code="unsupported_encoding",
        )
    if len(data) > limit:
        raise InvalidInput(
            f"The body is larger than {limit // 1024} KB.",
            code="too_large",
            fields={"body": [f"At most {limit // 1024} KB."]},
        )
    return data


def parse_body(body: bytes) -> dict[str, Any]:
    """The JSON object of the request."""
    try:
        document = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:
        raise InvalidInput(f"The body is not valid JSON: {error}", code="malformed_body") from error
    if not isinstance(document, dict):
        raise InvalidInput("The body must be a JSON object.", code="malformed_body")
    return document


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def read_batch(document: Mapping[str, Any], *, received_at: datetime) -> list[dict[str, Any]]:
    """The events of a ``/v1/batch`` body ``{"batch": [...], "context"?, "sentAt"?}``."""
    batch = document.get("batch")
    if not isinstance(batch, list) or not batch:
        raise InvalidInput(
            "Send the events as a non-empty list in 'batch'.",
            fields={"batch": ["A non-empty list of events."]},
        )
    shared_context = document.get("context")
    if shared_context is not None and not isinstance(shared_context, dict):
        raise InvalidInput(
            "'context' must be an object.", fields={"context": ["Must be an object."]}
        )
    batch_sent_at = document.get("sentAt")
    if batch_sent_at is not None and _parse_time(batch_sent_at) is None:
        raise _invalid("", _NOT_A_TIME.format(name="sentAt"), field="sentAt")
    events = []
    for index, raw in enumerate(batch):
        if not isinstance(raw, dict):
            raise _invalid(f"batch.{index}", "Each event must be an object.")
        event = dict(raw)
        if shared_context:
            context = event.get("context")
            if isinstance(context, dict):
                event["context"] = {**shared_context, **context}
            elif context is None:
                event["context"] = dict(shared_context)
        if "sentAt" not in event and batch_sent_at is not None:
            event["sentAt"] = batch_sent_at
        events.append(read_event(event, where=f"batch.{index}", received_at=received_at))
    return events


def read_single(
    document: Mapping[str, Any], *, event_type: str, received_at: datetime
) -> list[dict[str, Any]]:
    """The one event of ``/v1/track``, ``/v1/identify``…; its type is the endpoint's."""
    event = dict(document)
    sent_type = event.setdefault("type", event_type)
    if sent_type != event_type:
        raise _invalid("", f"A '{sent_type}' event was sent to /v1/{event_type}.", field="type")
    return [read_event(event, where="", received_at=received_at)]


def read_event(event: dict[str, Any], *, where: str, received_at: datetime) -> dict[str, Any]:
    """Check one event and complete it (messageId, corrected timestamp, receivedAt)."""
    event.pop("writeKey", None)
    event_type = event.get("type")
    if event_type not in EVENT_TYPES:
        raise _invalid(
            where,
            f"Unknown type {event_type!r}; use one of {', '.join(EVENT_TYPES)}.",
            field="type",
        )
    for name in _OBJECT_FIELDS:
        if event.get(name) is None:
            event.pop(name, None)
        elif not isinstance(event[name], dict):
            raise _invalid(where, f"'{name}' must be an object.", field=name)
    context = event.get("context", {})
    if "internal" in context:
        raise _invalid(where, "'context.internal' is reserved.", field="context.internal")
    if context.get("traits") is not None and not isinstance(context["traits"], dict):
        raise _invalid(where, "'context.traits' must be an object.", field="context.traits")
    _check_ids(event, where=where, event_type=str(event_type))
    _check_names(event, where=where, event_type=str(event_type))
    encoded = _encoded(event, where=where)
    if len(encoded) > MAX_EVENT_BYTES:
        raise _invalid(
            where,
            f"The event is {len(encoded) // 1024} KB; at most {MAX_EVENT_BYTES // 1024} KB.",
            code="too_large",
        )
    _set_times(event, where=where, received_at=received_at)
    return event


def _check_ids(event: dict[str, Any], *, where: str, event_type: str) -> None:
    for name in ("userId", "anonymousId", "previousId"):
        value = event.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise _invalid(where, f"'{name}' must be a string.", field=name)
        if isinstance(value, int):
            event[name] = value = str(value)
        if len(value) > MAX_VALUE_LENGTH:
            raise _invalid(
                where, f"'{name}' is longer than {MAX_VALUE_LENGTH} characters.", field=name
            )
    if event_type == "alias":
        for name in ("userId", "previousId"):
            if usable_id(event.get(name)) is None:
                raise _invalid(
                    where,
                    f"An alias needs a usable '{name}' (not empty, 'null', '0'…).",
                    field=name,
                    code="missing_id",
                )
    elif usable_id(event.get("userId")) is None and usable_id(event.get("anonymousId")) is None:
        raise _invalid(
            where,
            "The event needs a userId or an anonymousId; values such as '', 'null', "
            "'anonymous', '0' or '-1' do not identify anyone.",
            field="userId",
            code="missing_id",
        )
    message_id = event.get("messageId")
    if message_id is None or message_id == "":
        event["messageId"] = str(uuid.uuid4())
    elif not isinstance(message_id, str):
        raise _invalid(where, "'messageId' must be a string.", field="messageId")
    elif len(message_id) > MAX_MESSAGE_ID_LENGTH:
        raise _invalid(
            where,
            f"'messageId' is longer than {MAX_MESSAGE_ID_LENGTH} characters.",
            field="messageId",
        )


def _check_names(event: dict[str, Any], *, where: str, event_type: str) -> None:
    if event_type == "track":
        name = event.get("event")
        if not isinstance(name, str) or not name.strip():
            raise _invalid(where, "A track call needs an event name in 'event'.", field="event")
        if len(name) > MAX_EVENT_NAME_LENGTH:
            raise _invalid(
                where,
                f"The event name is longer than {MAX_EVENT_NAME_LENGTH} characters.",
                field="event",
            )
    if event.get("name") is not None and not isinstance(event["name"], str):
        raise _invalid(where, "'name' must be a string.", field="name")


def _encoded(event: dict[str, Any], *, where: str) -> bytes:
    """The event as stored; refuses text PostgreSQL cannot keep (NUL, lone surrogates)."""
    try:
        encoded = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError as error:
        raise _invalid(where, "The event contains text that is not valid Unicode.") from error
    if b"\\u0000" in encoded and _has_nul(event):
        raise _invalid(where, "The event contains a NUL character (\\u0000).")
    return encoded


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in key or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _set_times(event: dict[str, Any], *, where: str, received_at: datetime) -> None:
    times: dict[str, datetime] = {}
    for name in _TIME_FIELDS:
        value = event.get(name)
        if value is None:
            continue
        parsed = _parse_time(value)
        if parsed is None:
            raise _invalid(where, _NOT_A_TIME.format(name=name), field=name)
        times[name] = parsed
    original = times.get("timestamp")
    if original is None:
        occurred = received_at
    elif "sentAt" in times:
        occurred = original + (received_at - times["sentAt"])
    else:
        occurred = original
    if occurred > received_at + MAX_FUTURE:
        raise _invalid(
            where,
            "The event's time is too far in the future (after correcting the sender's clock "
            "with sentAt).",
            field="timestamp",
        )
    if original is not None:
        event["originalTimestamp"] = event["timestamp"]
    event["timestamp"] = occurred.isoformat()
    event["receivedAt"] = received_at.isoformat()


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        return parsed.replace(tzinfo=UTC)
    return parsed


def _invalid(where: str, message: str, *, field: str = "", code: str = "invalid") -> InvalidInput:
    label = f"Event {where.removeprefix('batch.')}: " if where else ""
    path = ".".join(part for part in (where, field) if part) or "body"
    return InvalidInput(f"{label}{message}", code=code, fields={path: [message]})
