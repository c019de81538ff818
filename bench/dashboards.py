"""Dashboard benchmark: the marketer dashboards' server time on a small and a large history,
and what an incremental rollup refresh costs beside a full rebuild.

Two sets, each built in its own process and its own database (created and dropped here):

- **small**: the demo shop with a year of history of about 50k timeline events;
- **large**: the large demo shop (100,000 customers, a simulated year for 5,000 of them),
  to which this benchmark adds 5M timeline events, 500k orders with 1M lines, 20k cases,
  100k recipients for each campaign and 25k follow-ups spread over the year, written by
  PostgreSQL itself (``generate_series``): simulating that many customers' year in Python
  would take most of an hour on 2 cores.

Both sets are built first; then every dashboard page, 1 to 7 (a marketer signed in, the last
365 days, no filters), is requested through Django's full request cycle in-process, ``REQUESTS``
times per round, the two sets alternating for ``ROUNDS`` rounds so that other load on the
machine weighs on both alike; a page's server time is the median of its round medians.
Beside them, ``raw_channel_mix_ms`` is the first dashboard's figures computed straight from the
raw orders and events (what the rollups save). In the large set, 100,000 new events for 25,000
customers arrive over the last day; ``refresh_s`` is the incremental refresh that picks them
up, ``full_rebuild_s`` a rebuild of the whole year.

Prints one JSON line. Targets: every dashboard at the large set within 1.5x of the small set;
refresh under a tenth of a full rebuild. Run: ``.venv/bin/python bench/dashboards.py`` (about
15 minutes on 2 cores, most of it writing the large history).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = 15
ROUNDS = 3
NEW_EVENTS = 100_000
NEW_EVENT_CUSTOMERS = 25_000
#: The small set's busyness, so that its year holds about 50k events.
SMALL_INTENSITY = 2.35
TARGET_LARGE_VS_SMALL = 1.5
TARGET_REFRESH_VS_REBUILD = 0.1


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] in ("--phase", "--measure"):
        work = _phase if sys.argv[1] == "--phase" else _measure
        print(json.dumps(work(sys.argv[2])))
        return
    figures: dict[str, dict[str, Any]] = {}
    rounds: dict[str, list[dict[str, float]]] = {"small": [], "large": []}
    try:
        for size in ("small", "large"):
            figures[size] = _run(["--phase", size])
        # The pages of both sets are timed in alternation, round after round, so that whatever
        # else the machine does weighs on both alike; each figure is the median of the rounds.
        for _ in range(ROUNDS):
            for size in ("small", "large"):
                rounds[size].append(_run(["--measure", size]))
    finally:
        _drop_databases()
    for size in ("small", "large"):
        for slug in _slugs():
            figures[size][f"{slug}_ms"] = round(
                statistics.median(timing[f"{slug}_ms"] for timing in rounds[size]), 2
            )
    small, large = figures["small"], figures["large"]
    summary: dict[str, Any] = {"benchmark": "dashboards", "rounds": ROUNDS}
    for name, values in (("small", small), ("large", large)):
        for key, value in values.items():
            summary[f"{name}_{key}"] = value
    ratios = {
        f"{slug}_large_vs_small": round(large[f"{slug}_ms"] / small[f"{slug}_ms"], 2)
        for slug in _slugs()
    }
    summary.update(ratios)
    summary["refresh_vs_full_rebuild"] = round(large["refresh_s"] / large["full_rebuild_s"], 4)
    summary["target_large_vs_small"] = TARGET_LARGE_VS_SMALL
    summary["target_refresh_vs_rebuild"] = TARGET_REFRESH_VS_REBUILD
    summary["target_met"] = (
        all(ratio <= TARGET_LARGE_VS_SMALL for ratio in ratios.values())
        and summary["refresh_vs_full_rebuild"] < TARGET_REFRESH_VS_REBUILD
    )
    summary["machine_load_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(summary))


#: Every dashboard by name and page: 1 to 5 read the daily rollups, 6 (campaigns) the per-campaign
#: counters and 7 (follow-up) its follow-up rows.
PAGES = {
    "channel-mix": "/marketing/dashboards/channel-mix/",
    "web-in-stores": "/marketing/dashboards/web-in-stores/",
    "multichannel": "/marketing/dashboards/multichannel/",
    "funnel": "/marketing/dashboards/funnel/",
    "service": "/marketing/dashboards/service/",
    "campaigns": "/marketing/campaigns/",
    "follow-up": "/marketing/follow-up/",
}


def _slugs() -> list[str]:
    return list(PAGES)


def _run(arguments: list[str]) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, __file__, *arguments],
        cwd=ROOT,
        check=True,
        timeout=3600,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def _env(size: str) -> dict[str, str]:
    sys.path.insert(0, str(ROOT))
    from tests.processes import process_env

    return process_env(
        database_name=f"ip_bench_dashboards_{size}",
        redis_port=None,
        STATICFILES_STORAGE="django.contrib.staticfiles.storage.StaticFilesStorage",
    )


def _drop_databases() -> None:
    sys.path.insert(0, str(ROOT))
    from bench.support.common import bench_database_drop

    for size in ("small", "large"):
        bench_database_drop(f"ip_bench_dashboards_{size}")


def _phase(size: str) -> dict[str, Any]:
    """Build one set (its database stays for the measuring rounds; ``main`` drops it)."""
    env = _env(size)
    from bench.support.common import bench_database_create, setup_django

    bench_database_create(f"ip_bench_dashboards_{size}", env)
    setup_django(env)
    figures = _seed(LARGE_SHOP if size == "large" else size)
    if size == "large":
        figures.update(_bulk_history())
    figures["raw_channel_mix_ms"] = _raw_channel_mix_ms()
    if size == "large":
        figures.update(_refresh_against_rebuild())
    figures.update(_counts())
    return figures


def _measure(size: str) -> dict[str, float]:
    env = _env(size)
    from bench.support.common import setup_django

    setup_django(env)
    return _measure_pages()


def _seed(size: str) -> dict[str, Any]:
    from interaction_platform import demo

    demo.HISTORY_INTENSITY["small"] = SMALL_INTENSITY
    started = time.perf_counter()
    counts = demo.seed(size=size)
    return {"customers": counts["customers"], "seed_s": round(time.perf_counter() - started, 1)}


def _counts() -> dict[str, int]:
    from customers.models import TimelineEvent
    from orders.models import Order

    return {"events": TimelineEvent.objects.count(), "orders": Order.objects.count()}


#: For a quick check of this script only: BENCH_DASHBOARDS_SCALE=0.01 writes 1% of the rows,
#: BENCH_DASHBOARDS_LARGE_SHOP=small adds them to the small shop.
SCALE = float(os.environ.get("BENCH_DASHBOARDS_SCALE", "1"))
LARGE_SHOP = os.environ.get("BENCH_DASHBOARDS_LARGE_SHOP", "large")
BULK_EVENTS = int(5_000_000 * SCALE)
BULK_ORDERS = int(500_000 * SCALE)
BULK_CASES = int(20_000 * SCALE)
#: Recipients per demo campaign (each campaign reaches this many customers, once each) and
#: follow-ups of baskets left behind over the year.
BULK_SENDS_PER_CAMPAIGN = int(100_000 * SCALE)
BULK_FOLLOW_UPS = int(25_000 * SCALE)
# One statement per table; ``g`` numbers the rows, and every choice is a function of it (a
# multiplicative hash spreads customers and channels), so every run writes the same rows. Rows
# come in time order, as they would have arrived, over the last 365 days.
_BULK_EVENTS_SQL = """
INSERT INTO customers_timelineevent
    (customer_id, occurred_at, received_at, channel, type, source, message_id, store_id,
     properties)
SELECT c.first + (g * 7919) %% c.n,
       t.at, t.at, ch.channel,
       CASE ch.channel WHEN 'web' THEN (ARRAY['Product Viewed', 'Product Added',
            'Checkout Started', 'Checkout Step Completed', 'Payment Info Entered',
            'Order Completed'])[1 + g %% 6]
            WHEN 'app' THEN
                (ARRAY['Product Viewed', 'Product Added', 'Checkout Started'])[1 + g %% 3]
            WHEN 'email' THEN 'Email Opened' WHEN 'print' THEN 'QR Scanned'
            WHEN 'store' THEN 'Store Visited' ELSE 'Call Started' END,
       'bench', 'bench:' || g,
       CASE WHEN ch.channel = 'store' THEN s.ids[1 + g %% array_length(s.ids, 1)] END,
       '{}'::jsonb
FROM generate_series(1::bigint, %(events)s) AS g
CROSS JOIN (SELECT min(id) AS first, count(*) AS n FROM customers_customer) AS c
CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM catalog_location
            WHERE kind = 'store') AS s
CROSS JOIN LATERAL (SELECT now() - ((%(events)s - g) * 31536000 / %(events)s
                                  + (g * 104729) %% 3600) * interval '1 second' AS at) AS t
CROSS JOIN LATERAL (SELECT (ARRAY['web', 'web', 'web', 'app', 'email', 'email', 'print',
                                  'store', 'store', 'call_centre'])[1 + (g * 31) %% 10]
                           AS channel) AS ch
"""
_BULK_ORDERS_SQL = """
INSERT INTO orders_order
    (number, customer_id, channel, origin_channel, store_id, status, fulfilment_method,
     pickup_code, tracking_reference, email, phone, delivery_address, billing_address, currency,
     prices_include_tax, tax_country, subtotal, discount_total, shipping_total, tax_total, total,
     paid_total, refunded_total, idempotency_key, request_fingerprint, placed_at, updated_at,
     cancel_reason)
SELECT 'BN' || lpad(g::text, 10, '0'), c.first + (g * 7907) %% c.n, ch.channel, ch.channel,
       CASE WHEN ch.channel = 'store' THEN s.ids[1 + g %% array_length(s.ids, 1)] END,
       'completed', CASE WHEN ch.channel = 'store' THEN 'carry_out' ELSE 'delivery' END,
       '', '', '', '', '{}', '{}', 'EUR', true, 'NL',
       m.total - m.tax, 0, 0, m.tax, m.total, m.total, 0, 'bench-order:' || g, '',
       p.placed_at, p.placed_at, ''
FROM generate_series(1::bigint, %(orders)s) AS g
CROSS JOIN LATERAL (SELECT now() - ((%(orders)s - g) * 31536000 / %(orders)s
                                  + (g * 104723) %% 3600) * interval '1 second'
                           AS placed_at) AS p
CROSS JOIN (SELECT min(id) AS first, count(*) AS n FROM customers_customer) AS c
CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM catalog_location
            WHERE kind = 'store') AS s
CROSS JOIN LATERAL (SELECT (ARRAY['web', 'web', 'app', 'store', 'store', 'store',
                                  'call_centre'])[1 + (g * 17) %% 7] AS channel) AS ch
CROSS JOIN LATERAL (SELECT (10 + g %% 90 + 5 + g %% 40)::numeric(12, 2) AS total) AS t0
CROSS JOIN LATERAL (SELECT t0.total, round(t0.total * 21 / 121, 2) AS tax) AS m
"""
_BULK_LINES_SQL = """
INSERT INTO orders_orderline
    (order_id, variant_id, sku, product_name, quantity, unit_price, tax_rate, discount,
     line_total, tax_amount, returned_quantity)
SELECT o.id, v.first + (k.position * 4099 + o.id * 31) %% v.n, 'BENCH', 'Bench product', 1,
       k.amount, 0.21, 0, k.amount, round(k.amount * 21 / 121, 2), 0
FROM orders_order AS o
CROSS JOIN (SELECT min(id) AS first, count(*) AS n FROM catalog_variant) AS v
CROSS JOIN LATERAL (SELECT substr(o.number, 3)::bigint AS g) AS n
CROSS JOIN LATERAL (VALUES (1, (10 + n.g %% 90)::numeric(12, 2)),
                           (2, (5 + n.g %% 40)::numeric(12, 2))) AS k(position, amount)
WHERE o.number LIKE 'BN%%'
"""
_BULK_CASES_SQL = """
INSERT INTO customers_case
    (customer_id, channel, subject, description, status, resolution,
     is_resolved_on_first_contact, opened_at, resolved_at)
SELECT c.first + (g * 7901) %% c.n, ch.channel, 'Where is my order?', '', 'resolved',
       CASE ch.channel WHEN 'web' THEN 'self_service' WHEN 'store' THEN 'store' ELSE 'agent' END,
       g %% 3 > 0, t.at, t.at + (1 + g %% 72) * interval '1 hour'
FROM generate_series(1::bigint, %(cases)s) AS g
CROSS JOIN (SELECT min(id) AS first, count(*) AS n FROM customers_customer) AS c
CROSS JOIN LATERAL (SELECT now() - interval '4 days'
                           - ((%(cases)s - g) * 31000000 / %(cases)s) * interval '1 second'
                           AS at) AS t
CROSS JOIN LATERAL (SELECT (ARRAY['web', 'call_centre', 'call_centre', 'store'])[1 + g %% 4]
                           AS channel) AS ch
"""

_BULK_SENDS_SQL = """
INSERT INTO marketing_campaignsend
    (campaign_id, customer_id, token, status, claimed_at, sent_at, failure, opened_at,
     clicked_at, scanned_at, unsubscribed_at)
SELECT k.id, c.id, 'bench:' || k.id || ':' || c.id,
       CASE WHEN c.id %% 50 = 0 THEN 'failed' ELSE 'sent' END, k.at, k.at, '',
       CASE WHEN c.id %% 3 = 0 THEN k.at + interval '2 hours' END,
       CASE WHEN c.id %% 11 = 0 THEN k.at + interval '3 hours' END, NULL, NULL
FROM (SELECT id, coalesce(started_at, now()) AS at FROM marketing_campaign) AS k
CROSS JOIN LATERAL (SELECT id FROM customers_customer ORDER BY id
                    LIMIT %(sends)s) AS c
ON CONFLICT DO NOTHING
"""
_BULK_FOLLOW_UPS_SQL = """
INSERT INTO marketing_followup
    (kind, status, customer_id, store_id, basket_value, currency, note, created_at, sent_at,
     done_at, recovered_order_id, recovered_revenue, recovered_at)
SELECT f.kind, CASE f.kind WHEN 'email_reminder' THEN 'sent' ELSE 'done' END,
       c.first + (g * 7883) %% c.n,
       CASE WHEN f.kind = 'store_task' THEN s.ids[1 + g %% array_length(s.ids, 1)] END,
       (20 + g %% 180)::numeric(12, 2), 'EUR', '', t.at,
       CASE WHEN f.kind = 'email_reminder' THEN t.at END,
       CASE WHEN f.kind <> 'email_reminder' THEN t.at + interval '1 day' END,
       NULL, CASE WHEN g %% 7 = 0 THEN (20 + g %% 180)::numeric(12, 2) ELSE 0 END,
       CASE WHEN g %% 7 = 0 THEN t.at + interval '2 days' END
FROM generate_series(1::bigint, %(follow_ups)s) AS g
CROSS JOIN (SELECT min(id) AS first, count(*) AS n FROM customers_customer) AS c
CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM catalog_location
            WHERE kind = 'store') AS s
CROSS JOIN LATERAL (SELECT now() - ((%(follow_ups)s - g) * 31536000 / %(follow_ups)s)
                           * interval '1 second' AS at) AS t
CROSS JOIN LATERAL (SELECT (ARRAY['email_reminder', 'email_reminder', 'store_task',
                                  'call_back'])[1 + g %% 4] AS kind) AS f
"""

# The campaign dashboard reads counters that sending keeps; the bulk recipients are added to them.
_BULK_SENDS_STATS_SQL = """
UPDATE marketing_campaignstats AS t
SET sent = t.sent + b.sent, delivered = t.delivered + b.delivered, failed = t.failed + b.failed,
    opened = t.opened + b.opened, clicked = t.clicked + b.clicked
FROM (SELECT campaign_id, count(*) AS sent, count(*) FILTER (WHERE status = 'sent') AS delivered,
             count(*) FILTER (WHERE status = 'failed') AS failed,
             count(opened_at) AS opened, count(clicked_at) AS clicked
      FROM marketing_campaignsend WHERE token LIKE 'bench:%%' GROUP BY campaign_id) AS b
WHERE t.campaign_id = b.campaign_id
"""


def _bulk_history() -> dict[str, Any]:
    """5M events, 500k orders (1M lines), 20k cases, 100k recipients per campaign and 25k
    follow-ups over the last year, then the first rollup build over all of it."""
    from django.db import connection, transaction

    from channels.marketing.rollups import rollups_rebuild_all

    began = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_BULK_EVENTS_SQL, {"events": BULK_EVENTS})
        cursor.execute(_BULK_ORDERS_SQL, {"orders": BULK_ORDERS})
        cursor.execute(_BULK_LINES_SQL, {})
        cursor.execute(_BULK_CASES_SQL, {"cases": BULK_CASES})
        cursor.execute(_BULK_SENDS_SQL, {"sends": BULK_SENDS_PER_CAMPAIGN})
        cursor.execute(_BULK_SENDS_STATS_SQL, {})
        cursor.execute(_BULK_FOLLOW_UPS_SQL, {"follow_ups": BULK_FOLLOW_UPS})
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    written_s = time.perf_counter() - began
    began = time.perf_counter()
    rollups_rebuild_all()
    return {
        "bulk_write_s": round(written_s, 1),
        "first_build_s": round(time.perf_counter() - began, 1),
    }


def _measure_pages() -> dict[str, float]:
    from django.test import Client

    from interaction_platform.accounts.models import User

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username="marketer"))
    timings = {}
    for slug in _slugs():
        took = []
        for _ in range(REQUESTS + 2):
            began = time.perf_counter()
            response = client.get(PAGES[slug])
            took.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, (slug, response.status_code)
        timings[f"{slug}_ms"] = round(statistics.median(took[2:]), 2)
    return timings


def _raw_channel_mix_ms() -> float:
    """The channel mix's orders, revenue and active customers from the raw rows, as a
    dashboard without rollups would have to compute them."""
    from datetime import timedelta

    from django.db.models import Count, Sum
    from django.db.models.functions import TruncDate
    from django.utils import timezone

    from customers.models import TimelineEvent
    from orders.models import Order, OrderStatus

    since = timezone.now() - timedelta(days=365)
    began = time.perf_counter()
    list(
        Order.objects.filter(placed_at__gte=since)
        .exclude(status=OrderStatus.CANCELLED)
        .annotate(day=TruncDate("placed_at"))
        .values("day", "channel")
        .annotate(orders=Count("id"), revenue=Sum("total"))
        .order_by()
    )
    list(
        TimelineEvent.objects.filter(occurred_at__gte=since)
        .annotate(day=TruncDate("occurred_at"))
        .values("day", "channel")
        .annotate(customers=Count("customer_id", distinct=True))
        .order_by()
    )
    return round((time.perf_counter() - began) * 1000, 1)


def _refresh_against_rebuild() -> dict[str, Any]:
    import random
    from datetime import timedelta

    from django.utils import timezone

    from channels.marketing.rollups import rollups_rebuild_all, rollups_refresh
    from customers.models import Customer, TimelineEvent
    from interaction_platform.choices import Channel

    rng = random.Random(6)
    customer_ids = list(Customer.objects.values_list("id", flat=True))
    chosen = rng.sample(customer_ids, min(NEW_EVENT_CUSTOMERS, len(customer_ids)))
    now = timezone.now()
    kinds = [
        (Channel.WEB, "Product Viewed"),
        (Channel.WEB, "Product Added"),
        (Channel.APP, "Product Viewed"),
        (Channel.EMAIL, "Email Opened"),
        (Channel.PRINT, "QR Scanned"),
    ]
    rows = []
    for number in range(int(NEW_EVENTS * SCALE)):
        channel, kind = rng.choice(kinds)
        occurred = now - timedelta(seconds=rng.randrange(86_400))
        rows.append(
            TimelineEvent(
                customer_id=chosen[number % len(chosen)],
                occurred_at=occurred,
                received_at=now,
                channel=channel,
                type=kind,
                source="bench",
                message_id=f"bench-new:{number}",
            )
        )
    TimelineEvent.objects.bulk_create(rows, batch_size=5_000)
    began = time.perf_counter()
    refreshed = rollups_refresh()
    refresh_s = time.perf_counter() - began
    began = time.perf_counter()
    rollups_rebuild_all()
    full_rebuild_s = time.perf_counter() - began
    return {
        "refresh_s": round(refresh_s, 2),
        "refresh_days": refreshed.days,
        "refresh_customer_months": refreshed.customer_months,
        "full_rebuild_s": round(full_rebuild_s, 2),
    }


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
