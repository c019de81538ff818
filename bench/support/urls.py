"""The project's URLs plus the bare views the benchmarks compare with, each serving its page the
fastest way Django can (no authentication, permission check, audit row, serializer or
template): ``/bench/bare/<id>/`` the timeline page the API serves (``bench/timeline.py``), and
``/bench/bare/products/`` a page of 24 products (``bench/pages.py``). Used only by the
benchmarks' own servers."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.utils.dateparse import parse_datetime

from catalog.models import Product
from customers.models import Customer, TimelineEvent

PAGE = 50


def bare_timeline(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    customer_id = Customer.objects.filter(public_id=public_id).values_list("pk", flat=True).get()
    events = TimelineEvent.objects.filter(customer_id=customer_id)
    before_at = (
        parse_datetime(request.GET.get("before_at", "")) if "before_at" in request.GET else None
    )
    if before_at is not None:
        events = events.filter(occurred_at__lte=before_at).exclude(
            occurred_at=before_at, id__gte=int(request.GET["before_id"])
        )
    rows = list(
        events.order_by("-occurred_at", "-id").values(
            "message_id", "occurred_at", "received_at", "channel", "type", "source", "properties"
        )[:PAGE]
    )
    return JsonResponse({"results": rows})


def bare_products(request: HttpRequest) -> JsonResponse:
    rows = list(
        Product.objects.filter(is_published=True)
        .order_by("name", "id")
        .values("slug", "name", "brand")[:24]
    )
    return JsonResponse({"results": rows})


urlpatterns = [
    path("bench/bare/products/", bare_products),
    path("bench/bare/<uuid:public_id>/", bare_timeline),
    path("", include("interaction_platform.urls")),
]
