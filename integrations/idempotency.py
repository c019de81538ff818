"""Idempotency keys for externally triggered writes (bulk sync calls, for example).

:func:`idempotent_call` runs the work and stores its answer in the same transaction, under a
unique (scope, key). The same key with the same request returns the stored answer without
running the work again; the same key with a different request is refused (409). Of two
identical requests racing each other, the second waits on the key's claim until the first
commits, and then returns the first answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction

from integrations.models import IdempotencyRecord
from interaction_platform.errors import Conflict, InvalidInput

MAX_KEY_LENGTH = 200


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    default_message = (
        "This Idempotency-Key was already used for a different request. Use a new key for a "
        "new request."
    )


@dataclass(frozen=True)
class IdempotentResult:
    status: int
    body: Any
    is_replay: bool


def request_hash(*, payload: Any) -> str:
    """A stable fingerprint of a request body (key order does not matter)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(text.encode()).hexdigest()


def idempotency_key_check(*, key: str | None) -> str:
    """The key as sent, or InvalidInput when it is missing or unusable."""
    if key is None or not key.strip():
        raise InvalidInput(
            "Send an Idempotency-Key header (a fresh random value per request, e.g. a UUID).",
            code="idempotency_key_missing",
        )
    key = key.strip()
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(
            f"An Idempotency-Key is at most {MAX_KEY_LENGTH} printable characters.",
            code="idempotency_key_invalid",
        )
    return key


def idempotent_call(
    *, scope: str, key: str, payload: Any, work: Callable[[], tuple[int, Any]]
) -> IdempotentResult:
    """Run ``work`` (returning status and JSON body) once per (scope, key).

    The key is claimed first (a row under a unique constraint), then ``work`` runs in the
    same transaction, so its writes and the stored answer commit together or not at all. A
    concurrent request with the same key waits on the claim until the first commits, then
    gets the stored answer. A domain error raised by ``work`` rolls everything back and
    stores nothing: the client may fix the request and retry with the same key. Raises
    IdempotencyKeyReused when the key was used for a different ``payload``."""
    fingerprint = request_hash(payload=payload)
    with transaction.atomic():
        stored = _stored(scope=scope, key=key, fingerprint=fingerprint)
        if stored is not None:
            return stored
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    scope=scope,
                    key=key,
                    request_hash=fingerprint,
                    response_status=0,
                    response_body={},
                )
        except IntegrityError:
            # An identical request claimed the key and committed while this one waited.
            stored = _stored(scope=scope, key=key, fingerprint=fingerprint)
            if stored is None:
                raise
            return stored
        status, body = work()
        record.response_status = status
        record.response_body = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
        record.save(update_fields=["response_status", "response_body"])
        return IdempotentResult(status=status, body=record.response_body, is_replay=False)


def _stored(*, scope: str, key: str, fingerprint: str) -> IdempotentResult | None:
    record = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise IdempotencyKeyReused(fields={"Idempotency-Key": ["Used for another request."]})
    return IdempotentResult(
        status=record.response_status, body=record.response_body, is_replay=True
    )
