"""Where an order's units come from.

* **Carry-out** (POS): the selling store.
* **Click & collect**: the store the customer collects at (reserve and collect: its own shelf).
* **Delivery**: a warehouse that holds every line; if none does, the order is shipped from a
  store (below) and its method becomes ship-from-store.
* **Ship-from-store**: an active store in the delivery country that holds every line.

Among several locations that could serve the order, the one with the **most units to spare**
wins: for each candidate, take the smallest ``available - quantity`` over the order's lines, and
pick the candidate where that is largest (ties: the location code, alphabetically). This keeps
the last units of a store on its shelf for the customers who walk in, and an order is never
split over locations. The availability read here is only a ranking: the reservation itself is
the conditional update, and when a race empties the first choice the next one is tried.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import F

from catalog.models import Location, LocationKind, StockLevel
from orders.models import FulfilmentMethod

# How many candidates a checkout tries before it reports the goods out of stock.
MAX_ALLOCATION_ATTEMPTS = 3


@dataclass(frozen=True)
class Allocation:
    location: Location
    method: FulfilmentMethod


def _ranked(locations: list[Location], quantities: Mapping[int, int]) -> list[Location]:
    """``locations`` that hold every line, the most to spare first."""
    available: dict[int, dict[int, int]] = defaultdict(dict)
    levels = StockLevel.objects.filter(
        location__in=locations, variant_id__in=quantities
    ).values_list("location_id", "variant_id", F("on_hand") - F("reserved"))
    for location_id, variant_id, units in levels:
        available[location_id][variant_id] = units
    spare_by_location = {}
    for location in locations:
        here = available.get(location.pk, {})
        spare = min(here.get(variant, 0) - quantity for variant, quantity in quantities.items())
        if spare >= 0:
            spare_by_location[location.pk] = spare
    holding = [location for location in locations if location.pk in spare_by_location]
    return sorted(holding, key=lambda loc: (-spare_by_location[loc.pk], loc.code))


def _active(kind: LocationKind, country: str | None = None) -> list[Location]:
    locations = Location.objects.filter(kind=kind, is_active=True)
    if country:
        locations = locations.filter(country=country)
    return list(locations.order_by("code"))


def allocation_candidates(
    *,
    method: FulfilmentMethod,
    quantities: Mapping[int, int],
    store: Location | None,
    pickup_store: Location | None,
    country: str,
) -> list[Allocation]:
    """The locations to try, best first (see the module's rule). ``quantities`` maps variant
    ids to units. An empty answer means no location can serve every line."""
    if method == FulfilmentMethod.CARRY_OUT:
        assert store is not None
        return [Allocation(store, method)]
    if method == FulfilmentMethod.CLICK_AND_COLLECT:
        assert pickup_store is not None
        return [Allocation(pickup_store, method)]
    from_stores = [
        Allocation(location, FulfilmentMethod.SHIP_FROM_STORE)
        for location in _ranked(_active(LocationKind.STORE, country), quantities)
    ]
    if method == FulfilmentMethod.SHIP_FROM_STORE:
        return from_stores[:MAX_ALLOCATION_ATTEMPTS]
    from_warehouses = [
        Allocation(location, FulfilmentMethod.DELIVERY)
        for location in _ranked(_active(LocationKind.WAREHOUSE), quantities)
    ]
    return [*from_warehouses, *from_stores][:MAX_ALLOCATION_ATTEMPTS]
