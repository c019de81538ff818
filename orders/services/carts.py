"""The cart that follows the customer: one open cart per customer, on every channel.

Each write is one transaction that locks the cart first (orders/locks.py), so an edit and a
checkout of the same cart never interleave.

**Merging carts** (an anonymous visitor becomes known): the visitor's open cart is folded into
the customer's open cart. A variant in only one of them is kept as it is; **a variant in both
keeps the larger of the two quantities, never their sum** — the same product in both carts is
nearly always one intention recorded twice (added on the phone before signing in, again on the
laptop after), and doubling it would surprise the customer at the till. The customer's own
voucher wins; the visitor's applies only when the customer's cart has none. The folded cart
keeps its own lines, is marked ``merged`` and points at the cart it went into, so the history
(and an unmerge) loses nothing. When the customer has no open cart, the visitor's becomes theirs
unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import Location, Variant
from customers.models import Customer
from interaction_platform.choices import Channel
from interaction_platform.errors import Conflict, InvalidInput, NotFound
from interaction_platform.permissions import Action, AnyUser, require
from orders import locks
from orders.models import Cart, CartLine, CartStatus, Voucher
from orders.pricing import voucher_check
from orders.services.common import MAX_LINE_QUANTITY, MAX_LINES, quantity_check

VOUCHER_CODE_MAX_LENGTH = 32


def sellable_variant(*, sku: str, field: str = "sku") -> Variant:
    """The published variant (of a published product) with ``sku``, case-insensitive.
    Raises InvalidInput: an unknown SKU in a request body is bad input, not a missing page."""
    if not isinstance(sku, str) or not sku.strip() or "\x00" in sku or len(sku) > 64:
        raise InvalidInput("Send a SKU.", fields={field: ["A SKU of at most 64 characters."]})
    sellable = Variant.objects.filter(is_published=True, product__is_published=True)
    # The exact SKU uses the unique index; a differently-cased one is looked up the slow way.
    variant = (
        sellable.filter(sku=sku.strip()).select_related("product").first()
        or sellable.filter(sku__iexact=sku.strip()).select_related("product").first()
    )
    if variant is None:
        raise InvalidInput(
            f"No product with SKU '{sku.strip()}' is for sale.",
            code="unknown_variant",
            fields={field: ["No product with this SKU is for sale."]},
        )
    return variant


def _editable(cart: Cart) -> Cart:
    """Lock ``cart`` and make sure it can still change."""
    locked = locks.cart_lock(cart_id=cart.pk)
    if locked.status != CartStatus.OPEN:
        raise Conflict(
            f"This cart is {CartStatus(locked.status).label.lower()} and can no longer change.",
            code="cart_closed",
        )
    return locked


def cart_open(
    *,
    actor: AnyUser,
    customer: Customer,
    channel: Channel,
    store: Location | None = None,
) -> tuple[Cart, bool]:
    """The customer's open cart, started on ``channel`` (in ``store`` at the POS) when they
    have none. Returns (cart, created). Two channels opening it at once get the same cart (the
    database allows one open cart per customer)."""
    require(actor, Action.CUSTOMER_VIEW, customer)
    if store is not None:
        require(actor, Action.STORE_ACT, store)
    existing = Cart.objects.filter(customer=customer, status=CartStatus.OPEN).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            cart = Cart.objects.create(
                customer=customer, origin_channel=channel, store=store, currency=customer.currency
            )
    except IntegrityError:
        return Cart.objects.get(customer=customer, status=CartStatus.OPEN), False
    return cart, True


@transaction.atomic
def cart_add_line(
    *, actor: AnyUser, cart: Cart, sku: str, quantity: object, channel: Channel
) -> Cart:
    """Add ``quantity`` units of ``sku``; a variant already in the cart gets more units (up to
    MAX_LINE_QUANTITY per line). Raises InvalidInput, Conflict (cart closed)."""
    require(actor, Action.CART_MANAGE, cart)
    units = quantity_check(quantity)
    variant = sellable_variant(sku=sku)
    cart = _editable(cart)
    line = CartLine.objects.filter(cart=cart, variant=variant).first()
    if line is None:
        if CartLine.objects.filter(cart=cart).count() >= MAX_LINES:
            raise InvalidInput(f"A cart holds at most {MAX_LINES} different products.")
        CartLine.objects.create(cart=cart, variant=variant, quantity=units, added_channel=channel)
    else:
        grown = CartLine.objects.filter(pk=line.pk, quantity__lte=MAX_LINE_QUANTITY - units).update(
            quantity=F("quantity") + units
        )
        if grown != 1:
            raise InvalidInput(
                f"A cart line holds at most {MAX_LINE_QUANTITY} units; it has {line.quantity}.",
                fields={"quantity": [f"At most {MAX_LINE_QUANTITY - line.quantity} more."]},
            )
    cart.save(update_fields=["updated_at"])
    return cart


@transaction.atomic
def cart_set_quantity(
    *, actor: AnyUser, cart: Cart, sku: str, quantity: object, channel: Channel
) -> Cart:
    """Set the units of ``sku`` in the cart (the line must exist). Raises NotFound, InvalidInput."""
    require(actor, Action.CART_MANAGE, cart)
    units = quantity_check(quantity)
    cart = _editable(cart)
    updated = CartLine.objects.filter(cart=cart, variant__sku__iexact=sku).update(
        quantity=units, added_channel=channel
    )
    if updated != 1:
        raise NotFound(f"'{sku}' is not in this cart.")
    cart.save(update_fields=["updated_at"])
    return cart


@transaction.atomic
def cart_remove_line(*, actor: AnyUser, cart: Cart, sku: str) -> Cart:
    require(actor, Action.CART_MANAGE, cart)
    cart = _editable(cart)
    deleted, _ = CartLine.objects.filter(cart=cart, variant__sku__iexact=sku).delete()
    if not deleted:
        raise NotFound(f"'{sku}' is not in this cart.")
    cart.save(update_fields=["updated_at"])
    return cart


def voucher_find(*, code: str) -> Voucher:
    """The voucher with ``code`` (case-insensitive). Raises VoucherNotApplicable-shaped input
    errors for an unknown code."""
    if not isinstance(code, str) or not code.strip() or len(code) > VOUCHER_CODE_MAX_LENGTH:
        raise InvalidInput("Send a voucher code.", fields={"voucher_code": ["A voucher code."]})
    voucher = Voucher.objects.filter(code=code.strip().upper()).first()
    if voucher is None:
        raise InvalidInput(
            f"There is no voucher '{code.strip()}'.",
            code="unknown_voucher",
            fields={"voucher_code": ["No such voucher."]},
        )
    return voucher


@transaction.atomic
def cart_apply_voucher(*, actor: AnyUser, cart: Cart, code: str) -> Cart:
    """Apply one voucher. Vouchers do not stack: a cart that has another one refuses (409)
    until it is removed. The minimum spend is checked at checkout, when the cart is final."""
    require(actor, Action.CART_MANAGE, cart)
    voucher = voucher_find(code=code)
    cart = _editable(cart)
    if cart.voucher_id == voucher.pk:
        return cart
    if cart.voucher_id is not None:
        raise Conflict(
            "Only one voucher can be used per order; remove the one applied first.",
            code="voucher_stacking",
            fields={"voucher_code": ["Another voucher is already applied."]},
        )
    voucher_check(voucher=voucher, goods_amount=None, currency=cart.currency, now=timezone.now())
    cart.voucher = voucher
    cart.save(update_fields=["voucher", "updated_at"])
    return cart


@transaction.atomic
def cart_remove_voucher(*, actor: AnyUser, cart: Cart) -> Cart:
    require(actor, Action.CART_MANAGE, cart)
    cart = _editable(cart)
    cart.voucher = None
    cart.save(update_fields=["voucher", "updated_at"])
    return cart


def _fold(*, source: Cart, target: Cart) -> None:
    """Fold ``source``'s lines into ``target`` (the quantity rule is in the module docstring)
    and mark ``source`` merged. Both carts are locked by the caller."""
    target_lines = {line.variant_id: line for line in CartLine.objects.filter(cart=target)}
    new_lines = []
    for line in CartLine.objects.filter(cart=source).order_by("pk"):
        kept = target_lines.get(line.variant_id)
        if kept is None:
            new_lines.append(
                CartLine(
                    cart=target,
                    variant_id=line.variant_id,
                    quantity=line.quantity,
                    added_channel=line.added_channel,
                )
            )
        elif line.quantity > kept.quantity:
            CartLine.objects.filter(pk=kept.pk).update(quantity=line.quantity)
    CartLine.objects.bulk_create(new_lines)
    if target.voucher_id is None and source.voucher_id is not None:
        target.voucher_id = source.voucher_id
    target.save(update_fields=["voucher", "updated_at"])
    source.status = CartStatus.MERGED
    source.merged_into = target
    source.save(update_fields=["status", "merged_into", "updated_at"])


def _open_cart_of(customer: Customer, carts: Iterable[Cart]) -> Cart | None:
    return next(
        (c for c in carts if c.customer_id == customer.pk and c.status == CartStatus.OPEN), None
    )


def carts_fold_customer(*, absorbed: Customer, survivor: Customer) -> list[int]:
    """The cart side of a customer merge (``Cart.merge_customer_rows``): fold the absorbed
    customer's open cart into the survivor's and attach every cart of the absorbed customer to
    the survivor. Returns those carts' pks. Runs in the caller's (the merge's) transaction;
    locks the carts involved in pk order."""
    with transaction.atomic():
        survivor_open = Cart.objects.filter(customer=survivor, status=CartStatus.OPEN)
        absorbed_carts = Cart.objects.filter(customer=absorbed)
        ids = [
            *absorbed_carts.values_list("pk", flat=True),
            *survivor_open.values_list("pk", flat=True),
        ]
        locked = {cart.pk: cart for cart in locks.carts_lock(cart_ids=ids)}
        source = _open_cart_of(absorbed, locked.values())
        target = _open_cart_of(survivor, locked.values())
        if source is not None and target is not None:
            _fold(source=source, target=target)
        moved = sorted(pk for pk, cart in locked.items() if cart.customer_id == absorbed.pk)
        Cart.objects.filter(pk__in=moved).update(customer=survivor)
        return moved


def cart_merge(*, cart: Cart, customer: Customer) -> Cart:
    """The visitor who owns ``cart`` signed in as ``customer`` (the web store's sign-in): the
    visitor's cart becomes part of the customer's, by the rule in the module docstring, and is
    attached to the customer. Returns the customer's open cart. Idempotent: merging a cart that
    is already merged, or already the customer's open cart, changes nothing. Raises Conflict
    when ``cart`` was already ordered."""
    with transaction.atomic():
        open_ids = Cart.objects.filter(customer=customer, status=CartStatus.OPEN).values_list(
            "pk", flat=True
        )
        locked = {c.pk: c for c in locks.carts_lock(cart_ids=[cart.pk, *open_ids])}
        source = locked[cart.pk]
        target = _open_cart_of(customer, locked.values())
        if source.status == CartStatus.MERGED and source.merged_into_id is not None:
            return target or Cart.objects.get(pk=source.merged_into_id)
        if source.status != CartStatus.OPEN:
            raise Conflict("This cart was already turned into an order.", code="cart_closed")
        if target is None or target.pk == source.pk:
            source.customer = customer
            source.save(update_fields=["customer", "updated_at"])
            return source
        _fold(source=source, target=target)
        Cart.objects.filter(pk=source.pk).update(customer=customer)
        return target


@transaction.atomic
def cart_fold_lines(
    *, actor: AnyUser, cart: Cart, lines: Iterable[tuple[str, int]], channel: Channel
) -> tuple[Cart, list[str]]:
    """Lines a visitor collected before the cart existed for them — the web store keeps an
    anonymous visitor's basket in their session — join ``cart`` by the merge rule of this
    module: a variant in both keeps the **larger** quantity, never the sum; a new variant is
    added. Lines that can no longer be bought (unknown SKU, unpublished, a bad quantity) are
    skipped and their SKUs returned, so the caller can say so. Folding the same lines twice
    changes nothing. Returns (cart, skipped SKUs). Raises Conflict (cart closed)."""
    require(actor, Action.CART_MANAGE, cart)
    cart = _editable(cart)
    kept = {line.variant_id: line for line in CartLine.objects.filter(cart=cart)}
    skipped: list[str] = []
    for sku, quantity in lines:
        try:
            units = quantity_check(quantity)
            variant = sellable_variant(sku=sku)
        except InvalidInput:
            skipped.append(str(sku))
            continue
        line = kept.get(variant.pk)
        if line is None:
            if len(kept) >= MAX_LINES:
                skipped.append(variant.sku)
                continue
            kept[variant.pk] = CartLine.objects.create(
                cart=cart, variant=variant, quantity=units, added_channel=channel
            )
        elif units > line.quantity:
            CartLine.objects.filter(pk=line.pk).update(quantity=units, added_channel=channel)
            line.quantity = units
    cart.save(update_fields=["updated_at"])
    return cart, skipped
