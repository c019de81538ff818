"""Checkout benchmark: orders placed over HTTP through gunicorn on PostgreSQL, beside the same
transaction shape done in raw SQL (the floor). Prints one JSON line.

What one order is, on both sides (the app's checkout with a sandbox card, click & collect):

1. transaction: insert the order, its line and a pending payment; write the ``Checkout
   Started`` touchpoint to the inbox; reserve the unit with the conditional ``UPDATE … WHERE
   on_hand - reserved >= 1`` (0 rows: out of stock, roll back); commit;
2. the payment gateway (the sandbox: one ledger row to authorise, one to capture, each in its
   own transaction that does not wait for the disk, as a remote provider's would not);
3. transaction: payment captured, order paid, the customer's statistics, ``Order Completed``.

Scenarios: (a) every client buys the same hot SKU, whose stock is 90% of each round's attempts,
so every round also sells it out — oversold units must be 0; (b) clients buy at random among
1,000 SKUs. HTTP: 32 client threads against gunicorn (2 sync workers unless ``--workers``,
persistent database connections); raw SQL: 32 threads with a psycopg2 connection each. Rounds
alternate HTTP and raw SQL, so load from elsewhere on the machine weighs on both alike.

The benchmark creates and drops its own database (``ip_bench_checkout``), uses Redis database
13 only for the touchpoint wake-ups (and deletes its queue afterwards), and starts and stops its
own gunicorn by the pid in its pidfile. Run: ``.venv/bin/python bench/checkout.py``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "ip_bench_checkout"
SERVER = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
REDIS_URL = "redis://127.0.0.1:6379/13"
CLIENTS = 32
SPREAD_SKUS = 1000
HOT_SKU = "HOT-0001"
STORE = "bench-store"
PRICE = Decimal("49.95")
REQUEST_TIMEOUT_S = 30
SETTINGS_ENV = {
    "DATABASE_URL": DATABASE_URL,
    "DATABASE_CONN_MAX_AGE": "600",
    "REDIS_URL": REDIS_URL,
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "LOG_LEVEL": "ERROR",
    "DJANGO_SETTINGS_MODULE": "interaction_platform.settings",
}


# --- the database and the shop --------------------------------------------------------------


def _admin(sql: str) -> None:
    connection = psycopg2.connect(dbname="postgres", **SERVER)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(sql)
    connection.close()


def database_create() -> None:
    _admin(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    _admin(f"CREATE DATABASE {DATABASE}")


def database_drop() -> None:
    _admin(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def migrate() -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env={**os.environ, **SETTINGS_ENV},
        check=True,
        timeout=600,
    )


@dataclass
class Shop:
    store_id: int
    hot_variant_id: int
    spread_variant_ids: list[int]
    tokens: list[str]
    customer_ids: list[int]


def seed(*, hot_stock: int, spread_stock: int) -> Shop:
    """The shop, through the ORM (this process is set up as a Django client of the bench DB)."""
    from catalog.models import (
        Category,
        Location,
        LocationKind,
        Price,
        PriceList,
        Product,
        StockLevel,
        Variant,
    )
    from customers.models import Customer
    from interaction_platform.accounts.models import Role, User
    from interaction_platform.accounts.services import api_token_create
    from interaction_platform.choices import Channel

    store = Location.objects.create(
        code=STORE,
        name="Bench store",
        kind=LocationKind.STORE,
        address_line1="Damrak 1",
        postcode="1012 LG",
        city="Amsterdam",
        country="NL",
    )
    category = Category.objects.create(name="Bench", slug="bench")
    products = Product.objects.bulk_create(
        Product(name=f"Bench product {n}", slug=f"bench-{n}", category=category)
        for n in range(SPREAD_SKUS + 1)
    )
    skus = [HOT_SKU] + [f"SKU-{n:04d}" for n in range(1, SPREAD_SKUS + 1)]
    variants = Variant.objects.bulk_create(
        Variant(product=product, sku=sku, barcode=f"{9000000000000 + n}", name="One size")
        for n, (product, sku) in enumerate(zip(products, skus, strict=True))
    )
    price_list = PriceList.objects.create(name="App", channel=Channel.APP, currency="EUR")
    Price.objects.bulk_create(
        Price(price_list=price_list, variant=v, amount=PRICE) for v in variants
    )
    StockLevel.objects.bulk_create(
        StockLevel(
            variant=variant,
            location=store,
            on_hand=hot_stock if variant.sku == HOT_SKU else spread_stock,
        )
        for variant in variants
    )
    tokens, customer_ids = [], []
    for number in range(CLIENTS):
        user = User.objects.create(username=f"bench{number}", role=Role.SHOPPER)
        customer = Customer.objects.create(user=user, email=f"bench{number}@example.com")
        tokens.append(api_token_create(user=user, name="bench")[1])
        customer_ids.append(customer.pk)
    return Shop(
        store_id=store.pk,
        hot_variant_id=variants[0].pk,
        spread_variant_ids=[v.pk for v in variants[1:]],
        tokens=tokens,
        customer_ids=customer_ids,
    )


def stock_reset(*, variant_ids: list[int], on_hand: int) -> None:
    from catalog.models import StockLevel

    StockLevel.objects.filter(variant_id__in=variant_ids).update(on_hand=on_hand, reserved=0)


def sold_units(*, variant_ids: list[int], since_order_id: int) -> int:
    from django.db.models import Sum

    from orders.models import OrderLine

    lines = OrderLine.objects.filter(
        variant_id__in=variant_ids,
        order_id__gt=since_order_id,
        order__status__in=["paid", "pending_payment", "completed"],
    )
    return lines.aggregate(units=Sum("quantity"))["units"] or 0


def last_order_id() -> int:
    from orders.models import Order

    return Order.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def stock_is_sound() -> bool:
    from django.db.models import F, Q

    from catalog.models import StockLevel

    return not StockLevel.objects.filter(
        Q(reserved__gt=F("on_hand")) | Q(reserved__lt=0) | Q(on_hand__lt=0)
    ).exists()


# --- gunicorn ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Gunicorn:
    port: int
    pidfile: Path
    workers: int = 2
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                "interaction_platform.wsgi:application",
                "--workers",
                str(self.workers),
                "--worker-class",
                "sync",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--pid",
                str(self.pidfile),
                "--timeout",
                str(REQUEST_TIMEOUT_S),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env={**os.environ, **SETTINGS_ENV},
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                status, _ = _request(self.port, "GET", "/healthz", None, {})
                if status == 200 and self.pidfile.exists():
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not come up within 30 s")

    def stop(self) -> None:
        if self.pidfile.exists():
            os.kill(int(self.pidfile.read_text().strip()), signal.SIGTERM)
        if self.process is not None:
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None


def _request(
    port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# --- load -------------------------------------------------------------------------------------


@dataclass
class Outcome:
    elapsed_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)


def _run(clients: list[Callable[[], tuple[str, float] | None]]) -> Outcome:
    """Each callable is one client: called until it returns None, each call one attempt."""
    outcome = Outcome()
    lock = threading.Lock()
    barrier = threading.Barrier(len(clients) + 1)

    def client(attempt: Callable[[], tuple[str, float] | None]) -> None:
        barrier.wait(timeout=60)
        while (result := attempt()) is not None:
            kind, latency_ms = result
            with lock:
                outcome.kinds[kind] += 1
                if kind == "order":
                    outcome.latencies_ms.append(latency_ms)

    threads = [threading.Thread(target=client, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=60)
    started = time.perf_counter()
    for thread in threads:
        thread.join(timeout=600)
    outcome.elapsed_s = time.perf_counter() - started
    return outcome


def http_client(
    port: int, token: str, skus: list[str], attempts: int, seed: int
) -> Callable[[], tuple[str, float] | None]:
    rng = random.Random(seed)
    left = [attempts]

    def attempt() -> tuple[str, float] | None:
        if left[0] == 0:
            return None
        left[0] -= 1
        body = json.dumps(
            {
                "lines": [{"sku": rng.choice(skus), "quantity": 1}],
                "fulfilment_method": "click_and_collect",
                "pickup_store": STORE,
                "payment": {"method": "card_online", "token": "tok_sandbox_approve"},
            }
        ).encode()
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": str(uuid.uuid4()),
        }
        started = time.perf_counter()
        status, payload = _request(port, "POST", "/api/v1/orders/", body, headers)
        latency_ms = (time.perf_counter() - started) * 1000
        if status == 201:
            return "order", latency_ms
        if status == 409 and json.loads(payload)["error"] == "out_of_stock":
            return "out_of_stock", latency_ms
        return f"http_{status}", latency_ms

    return attempt


# --- the floor: the same work in raw SQL ------------------------------------------------------

_INSERT_ORDER = """
INSERT INTO orders_order (number, customer_id, channel, origin_channel, store_id,
    fulfilment_location_id, status, fulfilment_method, pickup_code, tracking_reference, email,
    phone, delivery_address, billing_address, currency, prices_include_tax, tax_country,
    subtotal, discount_total, shipping_total, tax_total, total, paid_total, refunded_total,
    idempotency_key, request_fingerprint, placed_at, cancel_reason, updated_at)
VALUES (%(number)s, %(customer)s, 'app', 'app', %(store)s, %(store)s, 'pending_payment',
    'click_and_collect', '123456', '', 'bench@example.com', '', '{}', '{}', 'EUR', true, 'NL',
    41.28, 0, 0, 8.67, 49.95, 0, 0, %(key)s, %(key)s, now(), '', now())
RETURNING id"""
_INSERT_LINE = """
INSERT INTO orders_orderline (order_id, variant_id, sku, product_name, quantity, unit_price,
    tax_rate, discount, tax_amount, line_total, returned_quantity)
VALUES (%s, %s, 'SKU', 'Bench product', 1, 49.95, 0.21, 0, 8.67, 49.95, 0)"""
_INSERT_PAYMENT = """
INSERT INTO orders_payment (order_id, gateway, method, status, currency, amount,
    captured_amount, refunded_amount, gateway_reference, token, idempotency_key,
    failure_message, created_at, updated_at)
VALUES (%s, 'sandbox', 'card_online', 'pending', 'EUR', 49.95, 0, 0, '', 'tok_sandbox_approve',
    %s, '', now(), now())
RETURNING id"""
_RESERVE = """
UPDATE catalog_stocklevel SET reserved = reserved + 1, updated_at = now()
WHERE variant_id = %s AND location_id = %s AND on_hand >= reserved + 1"""
_INSERT_INBOX = """
INSERT INTO customers_inboxevent (message_id, source, channel, is_shared_device, payload,
    received_at, status, attempts, error)
VALUES (%s, 'orders', 'app', false, %s, now(), 'pending', 0, '')"""
_INSERT_LEDGER = """
INSERT INTO orders_sandboxgatewayentry (operation, idempotency_key, reference, parent_reference,
    token, amount, currency, is_approved, message, created_at)
VALUES (%s, %s, %s, %s, 'tok_sandbox_approve', 49.95, 'EUR', true, '', now())"""
_ASYNC_COMMIT = "SET LOCAL synchronous_commit TO OFF"
_CAPTURED = """
UPDATE orders_payment SET status = 'captured', captured_amount = amount, gateway_reference = %s,
    updated_at = now() WHERE id = %s AND status = 'pending'"""
_PAID = """
UPDATE orders_order SET status = 'paid', paid_total = total, updated_at = now()
WHERE id = %s AND status = 'pending_payment'"""
_STATS = """
UPDATE customers_customer SET order_count = order_count + 1,
    lifetime_revenue = lifetime_revenue + 49.95 WHERE id = %s"""


def raw_client(
    shop: Shop, number: int, variant_ids: list[int], attempts: int, seed: int
) -> Callable[[], tuple[str, float] | None]:
    rng = random.Random(seed)
    connection = psycopg2.connect(dbname=DATABASE, **SERVER)
    left = [attempts]

    def attempt() -> tuple[str, float] | None:
        if left[0] == 0:
            connection.close()
            return None
        left[0] -= 1
        key = f"raw-{uuid.uuid4()}"
        payload = json.dumps({"event": "Checkout Started", "properties": {"order_id": key}})
        variant_id = rng.choice(variant_ids)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                _INSERT_ORDER,
                {
                    "number": key[4:24],
                    "customer": shop.customer_ids[number],
                    "store": shop.store_id,
                    "key": key[:64],
                },
            )
            order_id = cursor.fetchone()[0]
            cursor.execute(_INSERT_LINE, (order_id, variant_id))
            cursor.execute(_INSERT_PAYMENT, (order_id, f"{key}:p"))
            payment_id = cursor.fetchone()[0]
            cursor.execute(_INSERT_INBOX, (f"checkout-started:{key}", payload))
            cursor.execute(_RESERVE, (variant_id, shop.store_id))  # the hot row last
            if cursor.rowcount != 1:
                connection.rollback()
                return "out_of_stock", (time.perf_counter() - started) * 1000
            connection.commit()
            reference = f"sbx_{uuid.uuid4().hex[:24]}"
            cursor.execute(_ASYNC_COMMIT)  # as the sandbox does for its own ledger
            cursor.execute(_INSERT_LEDGER, ("authorize", f"{key}:a", reference, ""))
            connection.commit()
            cursor.execute(_ASYNC_COMMIT)
            cursor.execute(_INSERT_LEDGER, ("capture", f"{key}:c", f"c{reference}", reference))
            connection.commit()
            cursor.execute(_CAPTURED, (reference, payment_id))
            cursor.execute(_PAID, (order_id,))
            cursor.execute(_STATS, (shop.customer_ids[number],))
            cursor.execute(_INSERT_INBOX, (f"order-completed:{key}", payload))
            connection.commit()
        return "order", (time.perf_counter() - started) * 1000

    return attempt


# --- the run ----------------------------------------------------------------------------------


def _figures(outcomes: list[Outcome], *, oversold: int, sold: int) -> dict[str, Any]:
    kinds: Counter[str] = sum((o.kinds for o in outcomes), Counter())
    latencies = sorted(latency for o in outcomes for latency in o.latencies_ms)
    elapsed_s = sum(o.elapsed_s for o in outcomes)

    def percentile(share: float) -> float:
        if not latencies:
            return 0.0
        return round(latencies[min(len(latencies) - 1, int(share * len(latencies)))], 1)

    return {
        "attempts": sum(kinds.values()),
        "orders": kinds["order"],
        "out_of_stock": kinds["out_of_stock"],
        "errors": sum(n for kind, n in kinds.items() if kind.startswith("http_")),
        "orders_per_s": round(kinds["order"] / elapsed_s, 1),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else 0.0,
        "p99_ms": percentile(0.99),
        "orders_per_s_by_round": [round(o.kinds["order"] / o.elapsed_s, 1) for o in outcomes],
        "oversold_units": oversold,
        "orders_in_database": sold,
        "stock_sound": stock_is_sound(),
    }


@dataclass
class Side:
    """One way of placing orders (over HTTP, or in raw SQL), accumulated over rounds."""

    make: Callable[[int, int], Callable[[], Any]]  # (client number, round) -> client
    outcomes: list[Outcome] = field(default_factory=list)
    sold: int = 0
    oversold: int = 0

    def run_round(self, number: int, *, variant_ids: list[int], stock: int) -> None:
        stock_reset(variant_ids=variant_ids, on_hand=stock)
        since = last_order_id()
        self.outcomes.append(_run([self.make(client, number) for client in range(CLIENTS)]))
        sold = sold_units(variant_ids=variant_ids, since_order_id=since)
        self.sold += sold
        self.oversold += max(0, sold - stock * len(variant_ids))

    def figures(self) -> dict[str, Any]:
        return _figures(self.outcomes, oversold=self.oversold, sold=self.sold)


def _scenario(sides: tuple[Side, Side], *, rounds: int, variant_ids: list[int], stock: int) -> None:
    """Alternate the two sides round by round, so a machine that is busier at one moment than
    another weighs on both alike (the ratio is what the benchmark is about)."""
    for number in range(rounds):
        for side in sides:
            side.run_round(number, variant_ids=variant_ids, stock=stock)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests-per-client", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn sync workers (production ships 2)"
    )
    options = parser.parse_args()
    rounds = options.rounds
    per_round = max(1, options.requests_per_client // rounds)
    hot_stock = int(CLIENTS * per_round * 0.9)  # sold out near the end of every round
    spread_stock = CLIENTS * per_round  # never runs out
    os.environ.update(SETTINGS_ENV)
    sys.path.insert(0, str(ROOT))
    server = Gunicorn(
        port=_free_port(),
        pidfile=Path(tempfile.gettempdir()) / f"bench-checkout-{os.getpid()}.pid",
        workers=options.workers,
    )
    database_create()
    try:
        migrate()
        import django

        django.setup()
        shop = seed(hot_stock=hot_stock, spread_stock=spread_stock)
        skus = [f"SKU-{n:04d}" for n in range(1, SPREAD_SKUS + 1)]
        server.start()
        _run([http_client(server.port, t, skus, 3, n) for n, t in enumerate(shop.tokens[:4])])
        hot = Side(
            lambda n, r: http_client(server.port, shop.tokens[n], [HOT_SKU], per_round, r * 100 + n)
        )
        raw_hot = Side(
            lambda n, r: raw_client(shop, n, [shop.hot_variant_id], per_round, r * 100 + n)
        )
        _scenario((hot, raw_hot), rounds=rounds, variant_ids=[shop.hot_variant_id], stock=hot_stock)
        spread = Side(
            lambda n, r: http_client(server.port, shop.tokens[n], skus, per_round, r * 100 + n)
        )
        raw_spread = Side(
            lambda n, r: raw_client(shop, n, shop.spread_variant_ids, per_round, r * 100 + n)
        )
        _scenario(
            (spread, raw_spread),
            rounds=rounds,
            variant_ids=shop.spread_variant_ids,
            stock=spread_stock,
        )
        figures = {
            "hot_sku": hot.figures(),
            "spread_1000_skus": spread.figures(),
            "raw_sql_hot_sku": raw_hot.figures(),
            "raw_sql_spread_1000_skus": raw_spread.figures(),
        }
    finally:
        server.stop()
        from django.db import connections

        connections.close_all()
        database_drop()
        _redis_cleanup()
    hot_ratio = figures["hot_sku"]["orders_per_s"] / figures["raw_sql_hot_sku"]["orders_per_s"]
    spread_ratio = (
        figures["spread_1000_skus"]["orders_per_s"]
        / figures["raw_sql_spread_1000_skus"]["orders_per_s"]
    )
    result = {
        "benchmark": "checkout",
        "clients": CLIENTS,
        "gunicorn_workers": options.workers,
        "rounds": rounds,
        "order": "app checkout, sandbox card, click & collect, 1 unit",
        **figures,
        "hot_ratio_to_raw": round(hot_ratio, 3),
        "spread_ratio_to_raw": round(spread_ratio, 3),
        "target_hot_ratio": 0.2,
        "target_met": hot_ratio >= 0.2
        and all(f["oversold_units"] == 0 and f["errors"] == 0 for f in figures.values()),
        "machine_load_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result))


def _redis_cleanup() -> None:
    """The touchpoint wake-ups queued for a worker that never ran: delete that queue and its
    binding only (database 13 is this project's test and benchmark database)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.delete("celery", "_kombu.binding.celery", "_kombu.binding_permanent.celery")
    client.close()


if __name__ == "__main__":
    main()
