"""Helpers for tests that send Segment-spec events: requests as SDKs make them."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from django.test import Client

CONSENTED = {"consent": {"categoryPreferences": {"Analytics": True, "Advertising": False}}}


def basic_auth(write_key: str) -> str:
    """What Segment and RudderStack SDKs send: the write key as user name, no password."""
    return "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()


def post_events(
    client: Client,
    path: str,
    body: Any,
    *,
    write_key: str | None,
    compress: bool = False,
) -> Any:
    """POST ``body`` (JSON-encoded unless bytes) as an SDK would."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers: dict[str, str] = {}
    if write_key is not None:
        headers["Authorization"] = basic_auth(write_key)
    if compress:
        data = gzip.compress(data, mtime=0)
        headers["Content-Encoding"] = "gzip"
    return client.post(path, data, content_type="application/json", headers=headers)


def track(event: str = "Product Viewed", **fields: Any) -> dict[str, Any]:
    return {"type": "track", "event": event, "properties": {}, **fields}


def page(**fields: Any) -> dict[str, Any]:
    return {"type": "page", "name": "Home", "properties": {}, **fields}


def identify(**fields: Any) -> dict[str, Any]:
    return {"type": "identify", "traits": {}, **fields}
