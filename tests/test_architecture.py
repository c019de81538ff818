"""Dependencies point one way: channels → orders → catalog, channels → customers,
orders → customers. The core never imports a channel or an API module, so a change to an
edge can never break a rule, and the core can be reused by any new channel."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE_APPS = ("customers", "catalog", "orders", "integrations")

# What each core app may not import, besides any channel and any API module.
FORBIDDEN_CORE_IMPORTS = {
    "catalog": ("customers", "orders"),
    "customers": ("catalog", "orders"),
    "orders": (),
    # Webhooks, API keys, idempotency and the import machinery: every core app may use them,
    # so they may use none of the core apps.
    "integrations": ("customers", "catalog", "orders"),
}
# Modules that speak HTTP: the core's domain code must not depend on them.
API_MODULES = (
    "rest_framework",
    "drf_spectacular",
    "interaction_platform.api",
    "interaction_platform.api_schema",
    "interaction_platform.api_urls",
    "interaction_platform.urls",
    "interaction_platform.pages",
)


def _imported_modules(source: str) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def _is_api_module(relative_path: str) -> bool:
    parts = relative_path.split("/")
    return parts[-1] == "api.py" or "api" in parts[1:-1]


def _violations(app: str, relative_path: str, source: str) -> list[str]:
    problems = []
    is_api = _is_api_module(relative_path)
    for line, module in _imported_modules(source):
        top = module.split(".")[0]
        where = f"{relative_path}:{line} imports {module}"
        if top == "channels":
            problems.append(f"{where}: the core never imports a channel")
        if top in FORBIDDEN_CORE_IMPORTS[app]:
            problems.append(f"{where}: {app} must not depend on {top}")
        if not is_api and (
            module.startswith(API_MODULES) or module.endswith(".api") or ".api." in module
        ):
            problems.append(f"{where}: domain code must not import an API module")
    return problems


def test_an_api_module_may_use_drf() -> None:
    assert _violations("catalog", "catalog/api.py", "from rest_framework import serializers") == []


def core_files() -> list[tuple[str, Path]]:
    return [
        (app, path)
        for app in CORE_APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def test_the_core_has_files_to_check() -> None:
    # Guard against the check passing because it looked in the wrong place.
    assert {app for app, _ in core_files()} == set(CORE_APPS)
    assert any(path.name == "models.py" for _, path in core_files())


@pytest.mark.parametrize(("app", "path"), core_files(), ids=lambda v: str(v))
def test_core_module_imports_point_one_way(app: str, path: Path) -> None:
    assert _violations(app, str(path.relative_to(ROOT)), path.read_text()) == []


def test_the_checker_catches_a_channel_import() -> None:
    source = "from channels.web import views\nfrom catalog.api import ProductViewSet\n"
    problems = _violations("orders", "orders/_architecture_probe.py", source)
    assert problems == [
        "orders/_architecture_probe.py:1 imports channels.web: the core never imports a channel",
        "orders/_architecture_probe.py:1 imports channels.web.views: the core never imports a "
        "channel",
        "orders/_architecture_probe.py:2 imports catalog.api: domain code must not import an "
        "API module",
        "orders/_architecture_probe.py:2 imports catalog.api.ProductViewSet: domain code must "
        "not import an API module",
    ]


def test_customers_may_not_import_orders() -> None:
    problems = _violations(
        "customers", "customers/_architecture_probe.py", "import orders.services\n"
    )
    assert problems == [
        "customers/_architecture_probe.py:1 imports orders.services: customers must not depend "
        "on orders"
    ]


def test_integrations_may_not_import_the_core_apps() -> None:
    source = "from catalog.models import Variant\nimport customers.identity\n"
    problems = _violations("integrations", "integrations/_architecture_probe.py", source)
    assert problems == [
        "integrations/_architecture_probe.py:1 imports catalog.models: integrations must not "
        "depend on catalog",
        "integrations/_architecture_probe.py:1 imports catalog.models.Variant: integrations "
        "must not depend on catalog",
        "integrations/_architecture_probe.py:2 imports customers.identity: integrations must "
        "not depend on customers",
    ]
