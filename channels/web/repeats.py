"""Forms a browser sends twice (a double click, a reload of a POST) write once.

Writes whose service has its own idempotency key (orders, returns) pass the form's key to it.
The others (adding to the basket, opening a support case) carry a key in a hidden field too,
and this browser's session remembers the last keys it sent: a repeat shows the first answer
and writes nothing.
"""

from __future__ import annotations

import uuid

from django.http import HttpRequest

SESSION_KEY = "web_forms_sent"
KEYS_KEPT = 50


def form_key_new() -> str:
    return f"web-{uuid.uuid4().hex}"


def form_already_sent(request: HttpRequest, key: str) -> bool:
    return bool(key) and key in request.session.get(SESSION_KEY, [])


def form_mark_sent(request: HttpRequest, key: str) -> None:
    if key:
        request.session[SESSION_KEY] = [*request.session.get(SESSION_KEY, []), key][-KEYS_KEPT:]
