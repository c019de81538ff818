"""Deterministic demo data: stores, a catalog with channel prices and stock everywhere,
customers with identities and consent, and one login per role.

The same ``size`` always produces the same rows (one seeded random generator), so screenshots,
walkthroughs and benchmarks see the same shop every time. Rows are written in bulk.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

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
from channels.marketing import demo_history
from channels.marketing.demo_campaigns import seed_campaigns
from channels.marketing.rollups import rollups_rebuild_all
from customers.models import ConsentPurpose, ConsentRecord, Customer, Identity, IdentityKind
from interaction_platform.accounts.models import Role, User
from interaction_platform.choices import Channel
from orders.models import Voucher, VoucherKind

DEMO_PASSWORD = "demo1234"  # printed for people to sign in with; demo data only
MARKER_STORE_CODE = "ams-kalverstraat"
BATCH_SIZE = 2000


@dataclass(frozen=True)
class DemoLogin:
    role: Role
    username: str
    where: str
    note: str

    @property
    def password(self) -> str:
        return DEMO_PASSWORD


DEMO_LOGINS = [
    DemoLogin(Role.SHOPPER, "shopper", "/", "Sam Jansen, a loyalty member with an account"),
    DemoLogin(Role.STORE_STAFF, "staff", "/pos/", "works at the Amsterdam Kalverstraat store"),
    DemoLogin(Role.AGENT, "agent", "/console/", "call-centre agent"),
    DemoLogin(Role.MARKETER, "marketer", "/marketing/", "sees aggregates, not people"),
    DemoLogin(Role.ADMIN, "admin", "/admin/", "back office: catalog, stores, users"),
]


@dataclass(frozen=True)
class Size:
    products: int
    variants_per_product: int
    customers: int


#: How busy the demo year of history is (see channels/marketing/demo_history.py), and for how
#: many customers: simulating 100,000 customers' year would make the large seed take far
#: longer than the benchmarks that use it. bench/dashboards.py adds its own 5M events.
HISTORY_INTENSITY = {"small": 1.3, "large": 1.3}
HISTORY_CUSTOMERS = {"small": 600, "large": 5_000}
SIZES = {
    "small": Size(products=240, variants_per_product=3, customers=600),
    "large": Size(products=10_000, variants_per_product=3, customers=100_000),
}

_STORES = [
    # code, name, street, postcode, city, lat, lng
    (
        MARKER_STORE_CODE,
        "Amsterdam Kalverstraat",
        "Kalverstraat 112",
        "1012 PK",
        "Amsterdam",
        "52.36860",
        "4.89170",
    ),
    (
        "rtm-lijnbaan",
        "Rotterdam Lijnbaan",
        "Lijnbaan 45",
        "3012 EL",
        "Rotterdam",
        "51.91960",
        "4.47640",
    ),
    (
        "utr-oudegracht",
        "Utrecht Oudegracht",
        "Oudegracht 160",
        "3511 AZ",
        "Utrecht",
        "52.09010",
        "5.12080",
    ),
]
_WAREHOUSE = (
    "tlb-dc",
    "Tilburg distribution centre",
    "Kraaivenstraat 21",
    "5048 AB",
    "Tilburg",
    "51.58480",
    "5.07010",
)
_OPENING_HOURS = {
    "mon": ["12:00", "18:00"],
    "tue": ["10:00", "18:00"],
    "wed": ["10:00", "18:00"],
    "thu": ["10:00", "21:00"],
    "fri": ["10:00", "18:00"],
    "sat": ["10:00", "18:00"],
    "sun": ["12:00", "17:00"],
}
_CATEGORIES = {
    "Women": ["Jackets", "Knitwear", "Dresses", "Trousers"],
    "Men": ["Jackets", "Knitwear", "Shirts", "Trousers"],
    "Shoes": ["Sneakers", "Boots"],
    "Outdoor": ["Backpacks", "Rainwear", "Camping"],
    "Home": ["Blankets", "Kitchen", "Candles"],
}
_ADJECTIVES = [
    "Harbour",
    "Nordic",
    "Dune",
    "Polder",
    "Canal",
    "Tulip",
    "Windmill",
    "Beacon",
    "Delta",
    "Meadow",
    "Storm",
    "Lantern",
    "Willow",
    "Amber",
    "Tidal",
    "Heather",
]
_MATERIALS = [
    "Merino",
    "Cotton",
    "Linen",
    "Wool",
    "Recycled",
    "Organic",
    "Waxed",
    "Cashmere",
    "Canvas",
    "Leather",
    "Denim",
    "Fleece",
]
_NOUNS = {
    "Jackets": ["Parka", "Bomber", "Field Jacket", "Blazer"],
    "Knitwear": ["Crew Sweater", "Cardigan", "Roll Neck", "Vest"],
    "Dresses": ["Wrap Dress", "Shirt Dress", "Midi Dress"],
    "Trousers": ["Chinos", "Wide Trousers", "Jeans", "Joggers"],
    "Shirts": ["Oxford Shirt", "Overshirt", "Polo", "Tee"],
    "Sneakers": ["Court Sneaker", "Runner", "Low Top"],
    "Boots": ["Chelsea Boot", "Hiking Boot", "Work Boot"],
    "Backpacks": ["Daypack", "Rolltop Pack", "Travel Pack"],
    "Rainwear": ["Rain Jacket", "Poncho", "Rain Trousers"],
    "Camping": ["Tent", "Sleeping Bag", "Camp Stool"],
    "Blankets": ["Throw", "Blanket", "Cushion"],
    "Kitchen": ["Mug", "Apron", "Tea Towel"],
    "Candles": ["Candle", "Diffuser"],
}
_SIZED = {"Jackets", "Knitwear", "Dresses", "Trousers", "Shirts", "Rainwear"}
_SIZES = ["S", "M", "L", "XL"]
_SHOE_SIZES = ["39", "40", "41", "42", "43", "44"]
_COLOURS = ["Navy", "Sand", "Forest", "Charcoal", "Rust", "Ecru", "Ochre", "Slate"]
_BRANDS = ["Northwind", "Polder & Co", "Dune Supply", "Windmill Works", "Beacon Outdoor"]
_FIRST_NAMES = [
    "Emma",
    "Noah",
    "Julia",
    "Lucas",
    "Mila",
    "Sem",
    "Tess",
    "Finn",
    "Sophie",
    "Daan",
    "Zoë",
    "Levi",
    "Sara",
    "Milan",
    "Eva",
    "Luuk",
    "Anna",
    "Bram",
    "Lotte",
    "Jesse",
    "Fatima",
    "Mohamed",
    "Yara",
    "Adam",
    "Nina",
    "Thijs",
    "Fleur",
    "Ruben",
    "Iris",
    "Stijn",
]
_LAST_NAMES = [
    "de Jong",
    "Jansen",
    "de Vries",
    "van den Berg",
    "van Dijk",
    "Bakker",
    "Janssen",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Brouwer",
    "El Amrani",
    "Yilmaz",
    "Kaya",
    "Nguyen",
    "Wouters",
]
_STREETS = [
    "Prinsengracht",
    "Herengracht",
    "Coolsingel",
    "Biltstraat",
    "Damrak",
    "Witte de Withstraat",
    "Nachtegaalstraat",
    "Vondelstraat",
    "Stationsweg",
    "Markt",
]
_CITIES = [
    ("Amsterdam", "10"),
    ("Rotterdam", "30"),
    ("Utrecht", "35"),
    ("Haarlem", "20"),
    ("Leiden", "23"),
    ("Den Haag", "25"),
    ("Eindhoven", "56"),
    ("Tilburg", "50"),
]

T = TypeVar("T")
Progress = Callable[[str, int], Callable[[int], None]]


def _no_progress(label: str, total: int) -> Callable[[int], None]:
    return lambda done: None


def _batches(items: Sequence[T], size: int = BATCH_SIZE) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _bulk(model: Any, rows: Sequence[Any], label: str, progress: Progress) -> list[Any]:
    advance = progress(label, len(rows))
    created: list[Any] = []
    for batch in _batches(rows):
        created.extend(model.objects.bulk_create(batch))
        advance(len(batch))
    return created


def is_seeded() -> bool:
    return Location.objects.filter(code=MARKER_STORE_CODE).exists()


def _ean13(number: int) -> str:
    """A valid EAN-13 in the GS1 range reserved for in-store numbering (prefix 20-29)."""
    body = f"20{number:010d}"
    checksum = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body)) % 10) % 10
    return body + str(checksum)


def seed(*, size: str = "small", progress: Progress = _no_progress) -> dict[str, int]:
    """Create the demo shop. Returns how many rows of each kind were made."""
    shape = SIZES[size]
    rng = random.Random(f"interaction-platform-{size}")
    with transaction.atomic():
        locations = _seed_locations()
        products, variants = _seed_catalog(rng, shape, progress)
        price_count = _seed_prices(rng, variants, progress)
        stock_count = _seed_stock(rng, variants, locations, progress)
        customers = _seed_customers(rng, shape, locations, progress)
        _seed_logins(locations, customers[0])
        _seed_vouchers()
        history = demo_history.seed_history(
            rng=random.Random(f"interaction-platform-history-{size}"),
            customers=customers[: HISTORY_CUSTOMERS[size]],
            progress=progress,
            intensity=HISTORY_INTENSITY[size],
        )
        seed_campaigns()
    _statistics_refresh()
    rollups_rebuild_all()
    return {
        "locations": len(locations),
        "products": len(products),
        "variants": len(variants),
        "prices": price_count,
        "stock_levels": stock_count,
        "customers": len(customers),
        "vouchers": 1,
        **history,
    }


def _statistics_refresh() -> None:
    """Tell PostgreSQL's planner what was just loaded. Without fresh statistics it still
    believes the tables are nearly empty and, for one, scans every product for a search instead
    of reading the full-text index (370 ms instead of 11 ms on the large shop); autovacuum
    would catch up only minutes later."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _seed_locations() -> list[Location]:
    rows = []
    for code, name, street, postcode, city, lat, lng in [*_STORES, _WAREHOUSE]:
        is_store = code != _WAREHOUSE[0]
        rows.append(
            Location(
                code=code,
                name=name,
                kind=LocationKind.STORE if is_store else LocationKind.WAREHOUSE,
                address_line1=street,
                postcode=postcode,
                city=city,
                country="NL",
                latitude=Decimal(lat),
                longitude=Decimal(lng),
                phone="+31201234567" if is_store else "",
                email=f"{code}@northwind.example" if is_store else "",
                opening_hours=_OPENING_HOURS if is_store else {},
                offers_click_and_collect=is_store,
            )
        )
    return Location.objects.bulk_create(rows)


def _seed_catalog(
    rng: random.Random, shape: Size, progress: Progress
) -> tuple[list[Product], list[Variant]]:
    leaves: list[Category] = []
    for position, (parent_name, children) in enumerate(_CATEGORIES.items()):
        parent = Category.objects.create(
            name=parent_name, slug=slugify(parent_name), position=position
        )
        for child_position, child in enumerate(children):
            leaves.append(
                Category.objects.create(
                    name=child,
                    slug=slugify(f"{parent_name}-{child}"),
                    parent=parent,
                    position=child_position,
                )
            )
    product_rows = []
    for number in range(shape.products):
        category = leaves[number % len(leaves)]
        noun = rng.choice(_NOUNS[category.name])
        name = f"{rng.choice(_ADJECTIVES)} {rng.choice(_MATERIALS)} {noun}"
        product_rows.append(
            Product(
                name=name,
                slug=f"{slugify(name)}-{number + 1}",
                category=category,
                brand=rng.choice(_BRANDS),
                description=(
                    f"The {name.lower()} from our {category.name.lower()} range: made to last, "
                    "easy to care for, and covered by our two-year repair promise."
                ),
            )
        )
    products = _bulk(Product, product_rows, "products", progress)
    variant_rows: list[Variant] = []
    for product in products:
        options = _variant_options(rng, product.category.name, shape.variants_per_product)
        for position, (label, attributes) in enumerate(options):
            number = len(variant_rows) + 1
            variant_rows.append(
                Variant(
                    product=product,
                    sku=f"NW-{number:06d}",
                    barcode=_ean13(number),
                    name=label,
                    attributes=attributes,
                    position=position,
                )
            )
    variants = _bulk(Variant, variant_rows, "variants", progress)
    return products, variants


def _variant_options(
    rng: random.Random, category_name: str, count: int
) -> list[tuple[str, dict[str, str]]]:
    colour = rng.choice(_COLOURS)
    if category_name in _SIZED:
        start = rng.randrange(len(_SIZES) - count + 1)
        return [
            (f"{colour} / {size}", {"colour": colour, "size": size})
            for size in _SIZES[start : start + count]
        ]
    if category_name in {"Sneakers", "Boots"}:
        start = rng.randrange(len(_SHOE_SIZES) - count + 1)
        return [
            (f"{colour} / EU {size}", {"colour": colour, "size": size})
            for size in _SHOE_SIZES[start : start + count]
        ]
    colours = rng.sample(_COLOURS, count)
    return [(c, {"colour": c}) for c in colours]


def _seed_prices(rng: random.Random, variants: list[Variant], progress: Progress) -> int:
    price_lists = {
        channel: PriceList.objects.create(
            name=f"{channel.label} EUR", channel=channel, currency="EUR"
        )
        for channel in Channel.selling()
    }
    rows = []
    # Per product: a list price, and whether the web and app run it at 20% off.
    pricing_by_product: dict[int, tuple[Decimal, bool]] = {}
    for variant in variants:
        if variant.product_id not in pricing_by_product:
            base_price = Decimal(rng.randrange(10, 250)) + Decimal("0.95")
            pricing_by_product[variant.product_id] = (base_price, rng.random() < 0.12)
        base, on_sale = pricing_by_product[variant.product_id]
        for channel, price_list in price_lists.items():
            # The app gets the web price; stores and the call centre sell at list price.
            amount = base
            compare_at = None
            if on_sale and channel in (Channel.WEB, Channel.APP):
                compare_at = base
                amount = (base * Decimal("0.8")).quantize(Decimal("1")) - Decimal("0.05")
            rows.append(
                Price(
                    price_list=price_list,
                    variant=variant,
                    amount=amount,
                    compare_at_amount=compare_at,
                )
            )
    return len(_bulk(Price, rows, "prices", progress))


def _seed_stock(
    rng: random.Random, variants: list[Variant], locations: list[Location], progress: Progress
) -> int:
    rows = []
    for variant in variants:
        for location in locations:
            is_warehouse = location.kind == LocationKind.WAREHOUSE
            on_hand = rng.randrange(20, 200) if is_warehouse else rng.choice([0, 1, 2, 3, 5, 8, 12])
            rows.append(StockLevel(variant=variant, location=location, on_hand=on_hand))
    return len(_bulk(StockLevel, rows, "stock", progress))


def _seed_customers(
    rng: random.Random, shape: Size, locations: list[Location], progress: Progress
) -> list[Customer]:
    stores = [location for location in locations if location.kind == LocationKind.STORE]
    now = timezone.now()
    customer_rows = []
    for number in range(shape.customers):
        first = "Sam" if number == 0 else rng.choice(_FIRST_NAMES)
        last = "Jansen" if number == 0 else rng.choice(_LAST_NAMES)
        city, postcode_prefix = rng.choice(_CITIES)
        has_loyalty = number == 0 or rng.random() < 0.6
        created = now - timedelta(days=rng.randrange(1, 730), minutes=rng.randrange(1440))
        consents = {
            purpose: number == 0 or rng.random() < chance
            for purpose, chance in (
                (ConsentPurpose.ANALYTICS, 0.7),
                (ConsentPurpose.EMAIL, 0.55),
                (ConsentPurpose.SMS, 0.2),
                (ConsentPurpose.DIRECT_MAIL, 0.3),
            )
        }
        customer_rows.append(
            Customer(
                first_name=first,
                last_name=last,
                email=f"{slugify(first)}.{slugify(last)}.{number + 1}@example.com".replace("-", ""),
                phone=f"+316{10_000_000 + number * 7:08d}",
                loyalty_number=f"NW{number + 1:08d}" if has_loyalty else None,
                home_store=rng.choice(stores),
                address_line1=f"{rng.choice(_STREETS)} {rng.randrange(1, 300)}",
                postcode=f"{postcode_prefix}{rng.randrange(10, 99)} {rng.choice('ABCDEFGHJK')}"
                f"{rng.choice('LMNPRSTVWX')}",
                city=city,
                country="NL",
                is_identified=True,
                first_seen_at=created,
                last_seen_at=created,
                **{f"{purpose.value}_consent": granted for purpose, granted in consents.items()},
                **{
                    f"{purpose.value}_consent_at": created if granted else None
                    for purpose, granted in consents.items()
                },
            )
        )
    customers = _bulk(Customer, customer_rows, "customers", progress)
    identity_rows = []
    consent_rows = []
    for customer in customers:
        identity_rows.append(
            Identity(
                customer=customer, kind=IdentityKind.EMAIL, value=customer.email, source="demo"
            )
        )
        identity_rows.append(
            Identity(
                customer=customer, kind=IdentityKind.PHONE, value=customer.phone, source="demo"
            )
        )
        if customer.loyalty_number:
            identity_rows.append(
                Identity(
                    customer=customer,
                    kind=IdentityKind.LOYALTY,
                    value=customer.loyalty_number,
                    source="demo",
                )
            )
        for purpose in ConsentPurpose:
            if customer.has_consent(purpose):
                consent_rows.append(
                    ConsentRecord(
                        customer=customer,
                        purpose=purpose,
                        is_granted=True,
                        channel=Channel.WEB,
                        source="demo sign-up form",
                        occurred_at=customer.first_seen_at,
                    )
                )
    _bulk(Identity, identity_rows, "identities", progress)
    _bulk(ConsentRecord, consent_rows, "consent", progress)
    return customers


# A voucher to try in the basket: 10% off, once per customer.
DEMO_VOUCHER = "WELCOME10"


def _seed_vouchers() -> None:
    Voucher.objects.get_or_create(
        code=DEMO_VOUCHER,
        defaults={
            "kind": VoucherKind.PERCENTAGE,
            "value": Decimal("10"),
            "usage_limit_per_customer": 1,
        },
    )


def _seed_logins(locations: list[Location], shopper_customer: Customer) -> None:
    for login in DEMO_LOGINS:
        user = User(
            username=login.username,
            email=f"{login.username}@northwind.example",
            role=login.role,
            first_name=login.username.title(),
            is_staff=login.role == Role.ADMIN,
            is_superuser=login.role == Role.ADMIN,
        )
        if login.role == Role.SHOPPER:
            user.email = shopper_customer.email
            user.first_name = shopper_customer.first_name
            user.last_name = shopper_customer.last_name
        user.set_password(DEMO_PASSWORD)
        user.save()
        if login.role == Role.STORE_STAFF:
            user.stores.set(
                [location for location in locations if location.code == MARKER_STORE_CODE]
            )
        if login.role == Role.SHOPPER:
            Customer.objects.filter(pk=shopper_customer.pk).update(user=user)
            Identity.objects.create(
                customer=shopper_customer,
                kind=IdentityKind.USER_ID,
                value=str(user.pk),
                source="demo",
            )
