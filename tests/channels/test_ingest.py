"""The Segment-spec intake: what SDKs send is stored in the inbox before the 200; whatever is
malformed is refused with what was wrong, and nothing of that request is stored."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from customers.models import DroppedEventCount, InboxEvent
from tests import factories
from tests.tracking import CONSENTED, identify, page, post_events, track

pytestmark = pytest.mark.django_db

WRITE_KEY = "web-store-write-key"


@pytest.fixture
def web_source() -> Any:
    return factories.SourceFactory(name="web-store", channel="web", write_key=WRITE_KEY)


def _stored() -> list[dict[str, Any]]:
    return [row.payload for row in InboxEvent.objects.order_by("id")]


def _nothing_stored() -> bool:
    return not InboxEvent.objects.exists() and not DroppedEventCount.objects.exists()


class TestAccepting:
    def test_a_batch_is_in_the_inbox_when_the_answer_comes_and_one_worker_is_woken(
        self, client: Client, web_source: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        # given
        body = {
            "batch": [
                track(userId="u-1", messageId="m-1", properties={"sku": "NW-1"}),
                identify(userId="u-1", messageId="m-2", traits={"email": "anna@example.com"}),
            ]
        }
        # when
        with django_capture_on_commit_callbacks() as wake_ups:
            response = post_events(client, "/v1/batch", body, write_key=WRITE_KEY)
        # then
        assert (response.status_code, response.json()) == (200, {"success": True})
        assert len(wake_ups) == 1  # one task per request, not per event
        rows = list(
            InboxEvent.objects.order_by("id").values_list(
                "message_id", "source", "channel", "is_shared_device", "status"
            )
        )
        assert rows == [
            ("m-1", "web-store", "web", False, "pending"),
            ("m-2", "web-store", "web", False, "pending"),
        ]
        first = _stored()[0]
        assert (first["type"], first["event"], first["userId"], first["properties"]) == (
            "track",
            "Product Viewed",
            "u-1",
            {"sku": "NW-1"},
        )
        assert first["timestamp"] == first["receivedAt"]  # no timestamp sent: received time

    @pytest.mark.parametrize(
        ("path", "event"),
        [
            ("/v1/track", track(userId="u-1")),
            ("/v1/identify", identify(userId="u-1", traits={"email": "anna@example.com"})),
            ("/v1/page", page(anonymousId="a-1", context=CONSENTED)),
            ("/v1/screen", {"name": "Basket", "anonymousId": "a-1", "context": CONSENTED}),
            ("/v1/alias", {"userId": "u-1", "previousId": "a-1"}),
        ],
    )
    def test_each_single_event_endpoint_takes_its_type(
        self, client: Client, web_source: Any, path: str, event: dict[str, Any]
    ) -> None:
        event = {key: value for key, value in event.items() if key != "type"}
        response = post_events(client, path, event, write_key=WRITE_KEY)
        assert (response.status_code, response.json()) == (200, {"success": True})
        [stored] = _stored()
        assert stored["type"] == path.removeprefix("/v1/")

    def test_a_trailing_slash_is_tolerated(self, client: Client, web_source: Any) -> None:
        response = post_events(client, "/v1/track/", track(userId="u-1"), write_key=WRITE_KEY)
        assert response.status_code == 200
        assert InboxEvent.objects.count() == 1

    def test_the_write_key_may_be_in_the_body(self, client: Client, web_source: Any) -> None:
        body = {"batch": [track(userId="u-1")], "writeKey": WRITE_KEY}
        response = post_events(client, "/v1/batch", body, write_key=None)
        assert response.status_code == 200
        [stored] = _stored()
        assert "writeKey" not in stored

    def test_a_gzip_body_as_rudderstack_sends_it(self, client: Client, web_source: Any) -> None:
        body = {
            "batch": [track(anonymousId="a-1", context={"traits": {"email": "Anna@Example.com"}})]
        }
        response = post_events(client, "/v1/batch", body, write_key=WRITE_KEY, compress=True)
        assert response.status_code == 200
        [stored] = _stored()
        assert stored["context"] == {"traits": {"email": "Anna@Example.com"}}

    def test_a_missing_message_id_is_assigned(self, client: Client, web_source: Any) -> None:
        body = {"batch": [track(userId="u-1"), track(userId="u-1", messageId="")]}
        post_events(client, "/v1/batch", body, write_key=WRITE_KEY)
        ids = list(InboxEvent.objects.order_by("id").values_list("message_id", flat=True))
        assert len(set(ids)) == 2
        assert [str(uuid.UUID(value)) for value in ids] == ids
        assert [payload["messageId"] for payload in _stored()] == ids

    def test_numeric_user_ids_are_read_as_text(self, client: Client, web_source: Any) -> None:
        post_events(client, "/v1/track", track(userId=12345), write_key=WRITE_KEY)
        assert _stored()[0]["userId"] == "12345"

    def test_the_clock_of_the_sender_is_corrected_with_sent_at(
        self, client: Client, web_source: Any
    ) -> None:
        # given: a device whose clock is two hours behind sends an event it made 30 s earlier
        now = timezone.now()
        device_now = now - timedelta(hours=2)
        body = {
            "batch": [
                track(userId="u-1", timestamp=(device_now - timedelta(seconds=30)).isoformat())
            ],
            "sentAt": device_now.isoformat(),
        }
        # when
        post_events(client, "/v1/batch", body, write_key=WRITE_KEY)
        # then: the event happened 30 s before it was received, by the server's clock
        [stored] = _stored()
        received = datetime.fromisoformat(stored["receivedAt"])
        assert datetime.fromisoformat(stored["timestamp"]) == received - timedelta(seconds=30)
        assert stored["originalTimestamp"] == body["batch"][0]["timestamp"]

    def test_an_event_without_sent_at_keeps_its_timestamp(
        self, client: Client, web_source: Any
    ) -> None:
        post_events(
            client,
            "/v1/track",
            track(userId="u-1", timestamp="2024-05-01T10:00:00Z"),
            write_key=WRITE_KEY,
        )
        assert datetime.fromisoformat(_stored()[0]["timestamp"]) == datetime.fromisoformat(
            "2024-05-01T10:00:00+00:00"
        )

    def test_batch_context_applies_to_every_event(self, client: Client, web_source: Any) -> None:
        body = {
            "batch": [page(anonymousId="a-1"), page(anonymousId="a-2", context={"locale": "nl"})],
            "context": CONSENTED,
        }
        post_events(client, "/v1/batch", body, write_key=WRITE_KEY)
        assert [payload["context"] for payload in _stored()] == [
            CONSENTED,
            {**CONSENTED, "locale": "nl"},
        ]

    def test_a_shared_device_source_marks_its_events(self, client: Client) -> None:
        factories.SourceFactory(channel="store", is_shared_device=True, write_key="pos-key")
        post_events(client, "/v1/track", track(userId="u-1"), write_key="pos-key")
        assert list(InboxEvent.objects.values_list("channel", "is_shared_device")) == [
            ("store", True)
        ]


class TestConsent:
    def test_anonymous_events_without_analytics_consent_are_counted_and_dropped(
        self, client: Client, web_source: Any
    ) -> None:
        # given: four anonymous events, one with consent; one identified event without
        refused = {"consent": {"categoryPreferences": {"Analytics": False}}}
        body = {
            "batch": [
                page(anonymousId="a-1", messageId="kept-consented", context=CONSENTED),
                page(anonymousId="a-2", messageId="dropped-1"),
                page(anonymousId="a-3", messageId="dropped-2", context=refused),
                track(anonymousId="a-4", messageId="dropped-3", context={"consent": {}}),
                track(userId="u-1", messageId="kept-identified"),
            ]
        }
        # when: sent twice (the counter adds up)
        for _ in range(2):
            response = post_events(client, "/v1/batch", body, write_key=WRITE_KEY)
            assert response.status_code == 200
        # then
        assert sorted(set(InboxEvent.objects.values_list("message_id", flat=True))) == [
            "kept-consented",
            "kept-identified",
        ]
        assert list(
            DroppedEventCount.objects.values_list("day", "source", "channel", "reason", "count")
        ) == [(timezone.localdate(), "web-store", "web", "no_analytics_consent", 6)]

    def test_an_event_naming_a_person_by_trait_is_not_anonymous(
        self, client: Client, web_source: Any
    ) -> None:
        body = identify(anonymousId="a-1", traits={"email": "anna@example.com"})
        post_events(client, "/v1/identify", body, write_key=WRITE_KEY)
        assert InboxEvent.objects.count() == 1
        assert DroppedEventCount.objects.count() == 0

    def test_a_request_of_only_dropped_events_wakes_nobody(
        self, client: Client, web_source: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        with django_capture_on_commit_callbacks() as wake_ups:
            post_events(client, "/v1/page", page(anonymousId="a-1"), write_key=WRITE_KEY)
        assert wake_ups == []
        assert DroppedEventCount.objects.get().count == 1


class TestAuthentication:
    @pytest.mark.parametrize(
        ("headers", "body_key", "code", "message"),
        [
            (
                {},
                None,
                "no_write_key",
                "Send the source's write key as the Basic user name or as 'writeKey'.",
            ),
            (
                {},
                "wrong-key",
                "bad_write_key",
                "The write key is unknown, replaced or its source is switched off.",
            ),
            (
                {"Authorization": "Basic %%%"},
                None,
                "bad_write_key",
                "The Basic credentials are not valid base64.",
            ),
            (
                {"Authorization": "Basic d3Jvbmcta2V5Og=="},  # "wrong-key:"
                WRITE_KEY,  # a bad header is not rescued by the body
                "bad_write_key",
                "The write key is unknown, replaced or its source is switched off.",
            ),
        ],
    )
    def test_without_a_valid_key_nothing_is_stored(
        self,
        client: Client,
        web_source: Any,
        headers: dict[str, str],
        body_key: str | None,
        code: str,
        message: str,
    ) -> None:
        body: dict[str, Any] = {"batch": [track(userId="u-1")]}
        if body_key is not None:
            body["writeKey"] = body_key
        response = client.post(
            "/v1/batch", json.dumps(body), content_type="application/json", headers=headers
        )
        assert response.status_code == 401
        assert response.json() == {"error": code, "message": message, "fields": {}}
        assert response["WWW-Authenticate"] == 'Basic realm="tracking"'
        assert _nothing_stored()

    def test_a_switched_off_source_is_refused(self, client: Client, web_source: Any) -> None:
        web_source.is_active = False
        web_source.save()
        response = post_events(client, "/v1/track", track(userId="u-1"), write_key=WRITE_KEY)
        assert response.status_code == 401
        assert _nothing_stored()

    def test_only_post_is_answered(self, client: Client, web_source: Any) -> None:
        response = client.get("/v1/batch")
        assert response.status_code == 405
        assert response["Allow"] == "POST"
        assert response.json() == {
            "error": "method_not_allowed",
            "message": "Send events with POST.",
            "fields": {},
        }


def _padded(size: int) -> dict[str, Any]:
    return track(userId="u-1", properties={"padding": "x" * size})


BAD_BATCHES = [
    pytest.param(
        b"{not json",
        "malformed_body",
        "The body is not valid JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)",
        {},
        id="bad-json",
    ),
    pytest.param(
        b'{"batch": [{"type": "track", "event": "X", "userId": "u", "properties": {"n": NaN}}]}',
        "malformed_body",
        "The body is not valid JSON: NaN is not a JSON number",
        {},
        id="nan",
    ),
    pytest.param(b"[1, 2]", "malformed_body", "The body must be a JSON object.", {}, id="array"),
    pytest.param(
        {"batch": []},
        "invalid",
        "Send the events as a non-empty list in 'batch'.",
        {"batch": ["A non-empty list of events."]},
        id="empty-batch",
    ),
    pytest.param(
        {"events": [track(userId="u-1")]},
        "invalid",
        "Send the events as a non-empty list in 'batch'.",
        {"batch": ["A non-empty list of events."]},
        id="no-batch",
    ),
    pytest.param(
        {"batch": [track(userId="u-1"), "track"]},
        "invalid",
        "Event 1: Each event must be an object.",
        {"batch.1": ["Each event must be an object."]},
        id="event-not-object",
    ),
    pytest.param(
        {"batch": [track(userId="u-1"), {"type": "group", "userId": "u-1", "groupId": "g"}]},
        "invalid",
        "Event 1: Unknown type 'group'; use one of identify, track, page, screen, alias.",
        {
            "batch.1.type": [
                "Unknown type 'group'; use one of identify, track, page, screen, alias."
            ]
        },
        id="unknown-type",
    ),
    pytest.param(
        {"batch": [{"event": "X", "userId": "u-1"}]},
        "invalid",
        "Event 0: Unknown type None; use one of identify, track, page, screen, alias.",
        {"batch.0.type": ["Unknown type None; use one of identify, track, page, screen, alias."]},
        id="no-type",
    ),
    pytest.param(
        {"batch": [track()]},
        "missing_id",
        "Event 0: The event needs a userId or an anonymousId; values such as '', 'null', "
        "'anonymous', '0' or '-1' do not identify anyone.",
        {
            "batch.0.userId": [
                "The event needs a userId or an anonymousId; values such as '', 'null', "
                "'anonymous', '0' or '-1' do not identify anyone."
            ]
        },
        id="missing-ids",
    ),
    *(
        pytest.param(
            {"batch": [track(userId=blocked, anonymousId=blocked)]},
            "missing_id",
            "Event 0: The event needs a userId or an anonymousId; values such as '', 'null', "
            "'anonymous', '0' or '-1' do not identify anyone.",
            {
                "batch.0.userId": [
                    "The event needs a userId or an anonymousId; values such as '', 'null', "
                    "'anonymous', '0' or '-1' do not identify anyone."
                ]
            },
            id=f"blocked-id-{blocked or 'empty'}",
        )
        for blocked in ("null", "anonymous", "undefined", "0", "-1", "", "  ", "0000-0000")
    ),
    pytest.param(
        {"batch": [{"type": "alias", "userId": "u-1", "previousId": "null"}]},
        "missing_id",
        "Event 0: An alias needs a usable 'previousId' (not empty, 'null', '0'…).",
        {"batch.0.previousId": ["An alias needs a usable 'previousId' (not empty, 'null', '0'…)."]},
        id="alias-without-previous-id",
    ),
    pytest.param(
        {"batch": [track(userId=True)]},
        "invalid",
        "Event 0: 'userId' must be a string.",
        {"batch.0.userId": ["'userId' must be a string."]},
        id="user-id-not-text",
    ),
    pytest.param(
        {"batch": [track(userId="u" * 256)]},
        "invalid",
        "Event 0: 'userId' is longer than 255 characters.",
        {"batch.0.userId": ["'userId' is longer than 255 characters."]},
        id="user-id-too-long",
    ),
    pytest.param(
        {"batch": [track(userId="u-1", properties={"note": "a\u0000b"})]},
        "invalid",
        "Event 0: The event contains a NUL character (\\u0000).",
        {"batch.0": ["The event contains a NUL character (\\u0000)."]},
        id="nul-in-value",
    ),
    pytest.param(
        {"batch": [track(userId="u-1", properties={"a\u0000": 1})]},
        "invalid",
        "Event 0: The event contains a NUL character (\\u0000).",
        {"batch.0": ["The event contains a NUL character (\\u0000)."]},
        id="nul-in-key",
    ),
    pytest.param(
        b'{"batch": [{"type": "track", "event": "X", "userId": "u", '
        b'"properties": {"s": "\\ud800"}}]}',
        "invalid",
        "Event 0: The event contains text that is not valid Unicode.",
        {"batch.0": ["The event contains text that is not valid Unicode."]},
        id="lone-surrogate",
    ),
    *(
        pytest.param(
            {"batch": [track(userId="u-1", **{name: ["not", "an", "object"]})]},
            "invalid",
            f"Event 0: '{name}' must be an object.",
            {f"batch.0.{name}": [f"'{name}' must be an object."]},
            id=f"{name}-not-object",
        )
        for name in ("properties", "traits", "context", "integrations")
    ),
    pytest.param(
        {"batch": [track(userId="u-1", context={"traits": "anna"})]},
        "invalid",
        "Event 0: 'context.traits' must be an object.",
        {"batch.0.context.traits": ["'context.traits' must be an object."]},
        id="context-traits-not-object",
    ),
    pytest.param(
        {"batch": [track(userId="u-1", context={"internal": {"customer_id": 1}})]},
        "invalid",
        "Event 0: 'context.internal' is reserved.",
        {"batch.0.context.internal": ["'context.internal' is reserved."]},
        id="context-internal",
    ),
    pytest.param(
        {"batch": [track(userId="u-1")], "context": "web"},
        "invalid",
        "'context' must be an object.",
        {"context": ["Must be an object."]},
        id="batch-context-not-object",
    ),
    pytest.param(
        {"batch": [track(event="", userId="u-1")]},
        "invalid",
        "Event 0: A track call needs an event name in 'event'.",
        {"batch.0.event": ["A track call needs an event name in 'event'."]},
        id="track-without-name",
    ),
    pytest.param(
        {"batch": [track(event="E" * 101, userId="u-1")]},
        "invalid",
        "Event 0: The event name is longer than 100 characters.",
        {"batch.0.event": ["The event name is longer than 100 characters."]},
        id="name-too-long",
    ),
    pytest.param(
        {"batch": [page(anonymousId="a-1", name=7, context=CONSENTED)]},
        "invalid",
        "Event 0: 'name' must be a string.",
        {"batch.0.name": ["'name' must be a string."]},
        id="page-name-not-text",
    ),
    pytest.param(
        {"batch": [track(userId="u-1", messageId=42)]},
        "invalid",
        "Event 0: 'messageId' must be a string.",
        {"batch.0.messageId": ["'messageId' must be a string."]},
        id="message-id-not-text",
    ),
    pytest.param(
        {"batch": [track(userId="u-1", messageId="m" * 201)]},
        "invalid",
        "Event 0: 'messageId' is longer than 200 characters.",
        {"batch.0.messageId": ["'messageId' is longer than 200 characters."]},
        id="message-id-too-long",
    ),
    pytest.param(
        {"batch": [track(userId="u-1", timestamp="yesterday")]},
        "invalid",
        "Event 0: 'timestamp' is not an ISO 8601 time, e.g. 2024-05-01T12:00:00.000Z.",
        {
            "batch.0.timestamp": [
                "'timestamp' is not an ISO 8601 time, e.g. 2024-05-01T12:00:00.000Z."
            ]
        },
        id="bad-timestamp",
    ),
    pytest.param(
        {"batch": [track(userId="u-1")], "sentAt": "2024-02-30T10:00:00Z"},
        "invalid",
        "'sentAt' is not an ISO 8601 time, e.g. 2024-05-01T12:00:00.000Z.",
        {"sentAt": ["'sentAt' is not an ISO 8601 time, e.g. 2024-05-01T12:00:00.000Z."]},
        id="bad-sent-at",
    ),
    pytest.param(
        {"batch": [track(userId="u-1", timestamp="2999-01-01T00:00:00Z")]},
        "invalid",
        "Event 0: The event's time is too far in the future (after correcting the sender's "
        "clock with sentAt).",
        {
            "batch.0.timestamp": [
                "The event's time is too far in the future (after correcting the sender's clock "
                "with sentAt)."
            ]
        },
        id="far-future",
    ),
    pytest.param(
        {"batch": [_padded(32 * 1024)]},
        "too_large",
        "Event 0: The event is 32 KB; at most 32 KB.",
        {"batch.0": ["The event is 32 KB; at most 32 KB."]},
        id="event-over-32-kb",
    ),
    pytest.param(
        {"batch": [_padded(30 * 1024) for _ in range(17)]},
        "too_large",
        "The body is larger than 500 KB.",
        {"body": ["At most 500 KB."]},
        id="batch-over-500-kb",
    ),
]


class TestRefusals:
    @pytest.mark.parametrize(("body", "code", "message", "fields"), BAD_BATCHES)
    def test_a_bad_batch_is_refused_and_nothing_of_it_stored(
        self,
        client: Client,
        web_source: Any,
        body: Any,
        code: str,
        message: str,
        fields: dict[str, list[str]],
    ) -> None:
        # given: a good event in front of the bad part, to show nothing of the request is kept
        if isinstance(body, dict) and isinstance(body.get("batch"), list) and body["batch"]:
            body = {**body, "batch": [track(userId="u-0", messageId="good"), *body["batch"]]}
            fields = {_shift(name): value for name, value in fields.items()}
            message = _shift_message(message)
        # when
        response = post_events(client, "/v1/batch", body, write_key=WRITE_KEY)
        # then
        assert response.status_code == 400
        assert response.json() == {"error": code, "message": message, "fields": fields}
        assert _nothing_stored()

    def test_a_bad_single_event_is_refused(self, client: Client, web_source: Any) -> None:
        response = post_events(client, "/v1/track", track(), write_key=WRITE_KEY)
        assert response.status_code == 400
        assert response.json()["fields"] == {
            "userId": [
                "The event needs a userId or an anonymousId; values such as '', 'null', "
                "'anonymous', '0' or '-1' do not identify anyone."
            ]
        }
        assert _nothing_stored()

    def test_a_type_sent_to_the_wrong_endpoint_is_refused(
        self, client: Client, web_source: Any
    ) -> None:
        response = post_events(
            client, "/v1/track", page(anonymousId="a-1", context=CONSENTED), write_key=WRITE_KEY
        )
        assert response.status_code == 400
        assert response.json() == {
            "error": "invalid",
            "message": "A 'page' event was sent to /v1/track.",
            "fields": {"type": ["A 'page' event was sent to /v1/track."]},
        }
        assert _nothing_stored()

    def test_a_single_event_over_32_kb_is_refused(self, client: Client, web_source: Any) -> None:
        response = post_events(client, "/v1/track", _padded(33 * 1024), write_key=WRITE_KEY)
        assert response.status_code == 400
        assert response.json() == {
            "error": "too_large",
            "message": "The body is larger than 32 KB.",
            "fields": {"body": ["At most 32 KB."]},
        }
        assert _nothing_stored()

    def test_a_gzip_body_inflating_past_500_kb_is_refused(
        self, client: Client, web_source: Any
    ) -> None:
        # given: 30 KB of compressed zeros that inflate to 1 MB
        bomb = {"batch": [track(userId="u-1", properties={"z": "0" * (1024 * 1024)})]}
        response = post_events(client, "/v1/batch", bomb, write_key=WRITE_KEY, compress=True)
        assert response.status_code == 400
        assert response.json()["error"] == "too_large"
        assert _nothing_stored()

    @pytest.mark.parametrize(
        ("encoding", "data", "code", "message"),
        [
            (
                "gzip",
                b"not gzip at all",
                "malformed_body",
                "The body says it is gzip-compressed but cannot be inflated.",
            ),
            (
                "gzip",
                gzip.compress(b'{"batch": []}', mtime=0)[:-12],
                "malformed_body",
                "The gzip body is cut short.",
            ),
            (
                "br",
                b"{}",
                "unsupported_encoding",
                "Content-Encoding 'br' is not supported; send gzip or nothing.",
            ),
        ],
        ids=["not-gzip", "cut-short", "brotli"],
    )
    def test_bodies_that_cannot_be_decoded_are_refused(
        self, client: Client, web_source: Any, encoding: str, data: bytes, code: str, message: str
    ) -> None:
        response = client.post(
            "/v1/batch",
            data,
            content_type="application/json",
            headers={
                "Authorization": "Basic d2ViLXN0b3JlLXdyaXRlLWtleTo=",
                "Content-Encoding": encoding,
            },
        )
        assert response.status_code == 400
        assert response.json() == {"error": code, "message": message, "fields": {}}
        assert _nothing_stored()


def _shift(name: str) -> str:
    """A field path one event further down the batch (``batch.0.x`` → ``batch.1.x``)."""
    parts = name.split(".")
    if parts[0] == "batch" and len(parts) > 1:
        parts[1] = str(int(parts[1]) + 1)
    return ".".join(parts)


def _shift_message(message: str) -> str:
    if message.startswith("Event "):
        number, rest = message.removeprefix("Event ").split(":", 1)
        return f"Event {int(number) + 1}:{rest}"
    return message
