"""A real HTTP server on 127.0.0.1 that receives webhooks the way a careful receiver does:
it verifies the Standard Webhooks signature with the ``standardwebhooks`` library and
processes each ``webhook-id`` once, however often it arrives."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Arrival:
    headers: dict[str, str]
    body: bytes

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    url: str
    secret: str = ""
    arrivals: list[Arrival] = field(default_factory=list)
    # What to answer, in order; 200 once the list is used up.
    statuses: deque[int] = field(default_factory=deque)
    # Requests with these webhook-ids are held open until ``release`` is set (a slow receiver).
    hold_ids: set[str] = field(default_factory=set)
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    processed: dict[str, Any] = field(default_factory=dict)
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        arrival = Arrival(headers=headers, body=body)
        with self.lock:
            self.arrivals.append(arrival)
            status = self.statuses.popleft() if self.statuses else 200
            hold = arrival.headers.get("webhook-id") in self.hold_ids
            if hold:
                self.hold_ids.discard(arrival.webhook_id)
        if hold:
            self.held.set()
            self.release.wait(timeout=60)
        if status == 200 and self.secret:
            try:
                payload = Webhook(self.secret).verify(body, headers)
            except WebhookVerificationError:
                with self.lock:
                    self.bad_signatures += 1
                return 401
            with self.lock:
                # The receiver's own idempotency: a repeated webhook-id is acknowledged, not
                # processed again.
                self.processed.setdefault(arrival.webhook_id, payload)
        return status


def start_receiver() -> tuple[Receiver, ThreadingHTTPServer]:
    receiver_holder: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            headers = {key.lower(): value for key, value in self.headers.items()}
            status = receiver_holder[0].handle(headers, body)
            try:
                self.send_response(status)
                self.send_header("content-type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"no")
            except OSError:
                pass  # the sender went away (killed mid-delivery)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks")
    receiver_holder.append(receiver)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return receiver, server
