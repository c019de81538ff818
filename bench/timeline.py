"""Timeline benchmark: a customer with 200,000 events among 10,000 ordinary customers.

Requests per second and p50/p99 latency of the first page and of a page 190,000 events deep,
through the API (bearer token, permission check, audit row, rendering), beside a bare Django
JSON view serving the same page on the same gunicorn. Prints one JSON line. Targets on 2 cores:
the deep page as fast as the first; the API at least 30% of the bare view's requests per second.

Starts (and stops, through its id) its own gunicorn (2 workers); creates and drops its own
database ``ip_bench_timeline``. Run: ``.venv/bin/python bench/timeline.py``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "ip_bench_timeline"
BIG_CUSTOMER_EVENTS = 200_000
ORDINARY_CUSTOMERS = 10_000
EVENTS_PER_ORDINARY_CUSTOMER = 10
DEEP = 190_000
CLIENT_THREADS = 4
ROUNDS = 5
SECONDS_PER_ROUND = 2.0

_EVENTS_SQL = """
INSERT INTO customers_timelineevent
    (customer_id, occurred_at, received_at, channel, type, source, message_id, properties)
SELECT customer.id,
       timestamptz '2024-01-01' + (n * 37 %% 31536000) * interval '1 second',
       timestamptz '2024-01-01' + (n * 37 %% 31536000 + 2) * interval '1 second',
       (ARRAY['web', 'app', 'store', 'call_centre', 'email'])[n %% 5 + 1],
       (ARRAY['Product Viewed', 'Product Added', 'Order Completed', 'Store Visited'])[n %% 4 + 1],
       'bench',
       'bench-' || customer.id || '-' || n,
       jsonb_build_object('sku', 'NW-' || (n %% 5000), 'price', 49.95)
FROM customers_customer AS customer, generate_series(1, %s) AS n
WHERE customer.id = ANY(%s)
"""


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from bench.support.common import LoadResult, bench_database, fixed, hammer, setup_django
    from tests.processes import process_env, start_gunicorn

    env = process_env(
        database_name=DATABASE,
        redis_port=None,
        DJANGO_SETTINGS_MODULE="bench.support.settings",
    )
    with (
        tempfile.TemporaryDirectory(prefix="ip-bench-timeline-") as scratch,
        bench_database(DATABASE, env),
    ):
        setup_django(env)
        big, token, deep_cursor, deep_position = _data()
        gunicorn = start_gunicorn(env, Path(scratch), workers=2)
        try:
            api = f"/api/v1/customers/{big}/timeline/"
            bare = f"/bench/bare/{big}/"
            auth = {"Authorization": f"Bearer {token}"}
            deep_api = f"{api}?cursor={deep_cursor}"
            deep_bare = (
                f"{bare}?before_at={deep_position[0].isoformat().replace('+', '%2B')}"
                f"&before_id={deep_position[1]}"
            )
            _same_page(gunicorn.port, deep_api, deep_bare, auth)
            scenarios: list[tuple[str, str, dict[str, str]]] = [
                ("api_first", api, auth),
                ("api_deep", deep_api, auth),
                ("bare_first", bare, {}),
                ("bare_deep", deep_bare, {}),
            ]
            # Short rounds, taken in turn, so that every scenario meets the same machine (the
            # load of anything else running on it changes over a minute).
            results: dict[str, LoadResult] = {}
            for _ in range(ROUNDS):
                for name, path, headers in scenarios:
                    result = hammer(
                        gunicorn.port,
                        fixed(path, headers),
                        threads=CLIENT_THREADS,
                        seconds=SECONDS_PER_ROUND,
                        warm_up_s=0.3,
                    )
                    results[name] = results[name].add(result) if name in results else result
        finally:
            gunicorn.stop()
    summary: dict[str, Any] = {
        "benchmark": "timeline",
        "big_customer_events": BIG_CUSTOMER_EVENTS,
        "ordinary_customers": ORDINARY_CUSTOMERS,
        "deep_page_at": DEEP,
        "page_size": 50,
        "client_threads": CLIENT_THREADS,
        "seconds_per_scenario": ROUNDS * SECONDS_PER_ROUND,
        "gunicorn_workers": 2,
    }
    for name, result in results.items():
        summary.update(result.summary(name))
    summary["api_vs_bare_first"] = round(
        results["api_first"].per_second / results["bare_first"].per_second, 3
    )
    summary["api_vs_bare_deep"] = round(
        results["api_deep"].per_second / results["bare_deep"].per_second, 3
    )
    summary["api_deep_vs_first"] = round(
        results["api_deep"].per_second / results["api_first"].per_second, 3
    )
    summary["targets"] = {"api_vs_bare_first": 0.30, "api_deep_vs_first": 1.0}
    print(json.dumps(summary))


def _data() -> tuple[str, str, str, tuple[Any, int]]:
    """The customers and their events (written with SQL: setup is not what is measured), an
    agent's token, and the cursor (and position) of the page 190,000 events deep."""
    from django.db import connection

    from customers.models import Customer, TimelineEvent
    from customers.selectors import TimelinePosition, timeline_cursor_encode
    from interaction_platform.accounts.models import Role, User
    from interaction_platform.accounts.services import api_token_create

    customers = Customer.objects.bulk_create(
        Customer(first_name="Bench", last_name=str(number), is_identified=True)
        for number in range(ORDINARY_CUSTOMERS + 1)
    )
    big, ordinary = customers[0], customers[1:]
    with connection.cursor() as cursor:
        cursor.execute(_EVENTS_SQL, [BIG_CUSTOMER_EVENTS, [big.pk]])
        cursor.execute(_EVENTS_SQL, [EVENTS_PER_ORDINARY_CUSTOMER, [c.pk for c in ordinary]])
        cursor.execute("ANALYZE customers_timelineevent")
    agent = User.objects.create_user(username="bench-agent", role=Role.AGENT)
    _token, key = api_token_create(user=agent, name="timeline benchmark")
    row = (
        TimelineEvent.objects.filter(customer=big)
        .order_by("-occurred_at", "-id")
        .values_list("occurred_at", "id")[DEEP]
    )
    position = TimelinePosition(occurred_at=row[0], event_id=row[1])
    return str(big.public_id), key, timeline_cursor_encode(position), row


def _same_page(port: int, api_path: str, bare_path: str, auth: dict[str, str]) -> None:
    """Both servers of the comparison answer with the same events."""
    import http.client

    pages = []
    for path, headers in ((api_path, auth), (bare_path, {})):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = json.loads(response.read())
        assert response.status == 200, body
        pages.append([row.get("id", row.get("message_id")) for row in body["results"]])
        connection.close()
    assert pages[0] == pages[1], pages
    assert len(pages[0]) == 50, pages


if __name__ == "__main__":
    main()
