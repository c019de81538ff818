"""Every write of the orders app, used by every channel (``from orders import services``).

Each service is one short transaction (or a few, with the payment gateway called between them,
never inside one), raises domain errors only, and takes keyword arguments. The modules:

* ``carts`` — the cart that follows the customer, and cart merging;
* ``checkout`` — :func:`order_place`, the one checkout of every channel;
* ``payments`` — settling online payments, payment links, refunds, the payment sweep;
* ``fulfilment`` — ready/collect, ship/deliver, cancel, the payment-link sweep;
* ``returns`` — returns anywhere.
"""

from orders.services.carts import (
    cart_add_line,
    cart_apply_voucher,
    cart_fold_lines,
    cart_merge,
    cart_open,
    cart_remove_line,
    cart_remove_voucher,
    cart_set_quantity,
    carts_fold_customer,
)
from orders.services.checkout import LineRequest, PaymentRequest, PlacedOrder, order_place
from orders.services.fulfilment import (
    order_cancel,
    order_collect,
    order_mark_delivered,
    order_mark_ready,
    order_ship,
    payment_links_expire,
)
from orders.services.payments import (
    order_refund,
    payment_link_open,
    payment_link_path,
    payment_link_pay,
    payment_settle,
    payments_reconcile,
)
from orders.services.returns import (
    ReturnLineRequest,
    ReturnResult,
    return_create,
    return_receive,
)

__all__ = [
    "LineRequest",
    "PaymentRequest",
    "PlacedOrder",
    "ReturnLineRequest",
    "ReturnResult",
    "cart_add_line",
    "cart_apply_voucher",
    "cart_fold_lines",
    "cart_merge",
    "cart_open",
    "cart_remove_line",
    "cart_remove_voucher",
    "cart_set_quantity",
    "carts_fold_customer",
    "order_cancel",
    "order_collect",
    "order_mark_delivered",
    "order_mark_ready",
    "order_place",
    "order_refund",
    "order_ship",
    "payment_link_open",
    "payment_link_path",
    "payment_link_pay",
    "payment_links_expire",
    "payment_settle",
    "payments_reconcile",
    "return_create",
    "return_receive",
]
