"""Page benchmark: the channels' busiest pages on the large demo shop (10,000 products, 100,000
customers), beside a bare Django view on the same gunicorn.

Requests per second and p50/p99 latency of the web store's category page (the product list),
search, a product page, the POS lookup (staff signed in) and the console's customer view (an
agent signed in; each view writes its access-log row, as in production). The bare view answers
a page of 24 products the fastest way Django can (no template, no middleware work of ours).
Prints one JSON line. Target on 2 cores: every page at least 25% of the bare view's requests
per second. Each page's query count is fixed; the tests assert it.

Starts (and stops, through its id) its own gunicorn (2 workers); creates and drops its own
database ``ip_bench_pages``. Run: ``.venv/bin/python bench/pages.py`` (about 4 minutes, most of
it seeding the large shop).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "ip_bench_pages"
CLIENT_THREADS = 4
ROUNDS = 4
SECONDS_PER_ROUND = 2.0
TARGET_VS_BARE = 0.25


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from bench.support.common import LoadResult, bench_database, fixed, hammer, setup_django
    from tests.processes import process_env, start_gunicorn

    env = process_env(
        database_name=DATABASE,
        redis_port=None,
        DJANGO_SETTINGS_MODULE="bench.support.settings",
        # pages link their CSS; without a collectstatic the manifest storage cannot name it
        STATICFILES_STORAGE="django.contrib.staticfiles.storage.StaticFilesStorage",
    )
    with (
        tempfile.TemporaryDirectory(prefix="ip-bench-pages-") as scratch,
        bench_database(DATABASE, env),
    ):
        subprocess.run(
            [sys.executable, "manage.py", "seed_demo", "--size", "large", "--allow-production"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=900,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        setup_django(env)
        targets = _targets()
        gunicorn = start_gunicorn(env, Path(scratch), workers=2)
        try:
            results: dict[str, LoadResult] = {}
            for _ in range(ROUNDS):
                for name, path, headers in targets:
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
        "benchmark": "pages",
        "products": 10_000,
        "customers": 100_000,
        "client_threads": CLIENT_THREADS,
        "seconds_per_page": ROUNDS * SECONDS_PER_ROUND,
        "gunicorn_workers": 2,
    }
    for name, result in results.items():
        summary.update(result.summary(name))
    bare = results["bare"].per_second
    ratios = {
        f"{name}_vs_bare": round(result.per_second / bare, 3)
        for name, result in results.items()
        if name != "bare"
    }
    summary.update(ratios)
    summary["target_vs_bare"] = TARGET_VS_BARE
    summary["target_met"] = all(ratio >= TARGET_VS_BARE for ratio in ratios.values())
    print(json.dumps(summary))


def _targets() -> list[tuple[str, str, dict[str, str]]]:
    """The pages to measure, with a session cookie for the staff pages."""
    from catalog.models import Category, Product
    from customers.models import Customer
    from interaction_platform.accounts.models import User

    category = Category.objects.filter(parent__isnull=True).order_by("position").first()
    product = Product.objects.order_by("id")[5000]
    customer = Customer.objects.filter(loyalty_number__isnull=False).order_by("id")[50_000]
    assert category is not None
    staff = {"Cookie": f"sessionid={_session_for(User.objects.get(username='staff'))}"}
    agent = {"Cookie": f"sessionid={_session_for(User.objects.get(username='agent'))}"}
    return [
        ("bare", "/bench/bare/products/", {}),
        ("product_list", f"/c/{category.slug}/", {}),
        ("search", "/search?q=merino+parka", {}),
        ("product_page", f"/p/{product.slug}/", {}),
        ("pos_lookup", "/pos/lookup/?q=merino+parka", staff),
        ("console_customer", f"/console/customers/{customer.public_id}/", agent),
    ]


def _session_for(user: Any) -> str:
    """A signed-in session for ``user``, made the way the sign-in view makes one."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return str(session.session_key)


if __name__ == "__main__":
    main()
