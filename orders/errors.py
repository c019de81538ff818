"""Domain errors of checkout, payments, fulfilment and returns (the family and its HTTP mapping
are in :mod:`interaction_platform.errors`)."""

from __future__ import annotations

from catalog.errors import OutOfStock
from interaction_platform.errors import Conflict, DomainError, InvalidInput, NotFound

__all__ = [
    "CardNumberRefused",
    "IdempotencyKeyReused",
    "InvalidTransition",
    "OutOfStock",
    "PaymentDeclined",
    "PaymentFailed",
    "PaymentLinkExpired",
    "PaymentLinkInvalid",
    "PaymentPending",
    "RefundTooLarge",
    "VoucherNotApplicable",
]


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    default_message = (
        "This Idempotency-Key was already used for a different request. Use a new key for a new "
        "request; repeat a request only with exactly the same content."
    )


class InvalidTransition(Conflict):
    code = "invalid_transition"
    default_message = "The order is not in a state that allows this."


class PaymentDeclined(Conflict):
    code = "payment_declined"
    default_message = "The payment was declined. Nothing was charged; try another card."


class PaymentFailed(Conflict):
    code = "payment_failed"
    default_message = "The payment provider failed. Nothing was charged; please try again."


class PaymentPending(Conflict):
    """The provider did not answer in time: the outcome is unknown, the order keeps its stock.
    Repeating the request with the same Idempotency-Key settles it and never charges twice."""

    code = "payment_pending"
    default_message = (
        "The payment provider did not answer in time. Repeat the request with the same "
        "Idempotency-Key to finish; you will not be charged twice."
    )


class RefundTooLarge(Conflict):
    code = "refund_too_large"
    default_message = "That is more than is left to refund on this order."


class VoucherNotApplicable(InvalidInput):
    code = "voucher_not_applicable"
    default_message = "This voucher cannot be used here."


class CardNumberRefused(InvalidInput):
    code = "card_number_refused"
    default_message = (
        "Card numbers are never accepted. Send the token your payment form received from the "
        "payment provider instead."
    )


class PaymentLinkInvalid(NotFound):
    code = "payment_link_invalid"
    default_message = "This payment link is not valid. Ask us for a new one."


class PaymentLinkExpired(DomainError):
    code = "payment_link_expired"
    http_status = 410
    default_message = "This payment link has expired. Ask us for a new one."
