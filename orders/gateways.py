"""Payment gateways: one interface (authorize, capture, void, refund), one built-in sandbox.

Every call carries an idempotency key; a gateway answers a repeated key with its first answer,
so a retry after a timeout never moves money twice. Calls are network calls: they are refused
inside a database transaction (a lock held while waiting on a provider stalls every checkout
behind it), and the services call them between their own short transactions.

Sandbox test tokens (documented in docs/commerce.md):

==============================  ===========================================================
``tok_sandbox_approve``         authorised and captured
``tok_sandbox_decline``         declined by the issuer (nothing charged)
``tok_sandbox_error``           the provider fails (HTTP 5xx): nothing charged, retry later
``tok_sandbox_timeout``         authorised, but the first answer is lost (a timeout); the
                                retry with the same key gets the authorisation: charged once
``tok_sandbox_refund_error``    authorised and captured, but every refund fails
==============================  ===========================================================
"""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from interaction_platform.db import insert_unless_known
from orders.models import SandboxGatewayEntry, SandboxOperation

SANDBOX_APPROVE = "tok_sandbox_approve"
SANDBOX_DECLINE = "tok_sandbox_decline"
SANDBOX_ERROR = "tok_sandbox_error"
SANDBOX_TIMEOUT = "tok_sandbox_timeout"
SANDBOX_REFUND_ERROR = "tok_sandbox_refund_error"
SANDBOX_TOKENS = (
    SANDBOX_APPROVE,
    SANDBOX_DECLINE,
    SANDBOX_ERROR,
    SANDBOX_TIMEOUT,
    SANDBOX_REFUND_ERROR,
)


class GatewayTimeout(Exception):
    """No answer in time: the operation may or may not have happened. Retry with the same key."""


class GatewayError(Exception):
    """The provider failed; the operation did not happen."""


@dataclass(frozen=True)
class GatewayResult:
    is_approved: bool
    reference: str
    message: str = ""


def _refuse_inside_a_transaction() -> None:
    # A test case's own wrapping transaction is not one of ours; any other block is.
    if any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks):
        raise RuntimeError("a payment gateway is called inside a database transaction")


class PaymentGateway(ABC):
    """The interface every provider adapter implements (the ``_`` methods)."""

    name: str

    def authorize(
        self, *, amount: Decimal, currency: str, token: str, idempotency_key: str
    ) -> GatewayResult:
        _refuse_inside_a_transaction()
        return self._authorize(
            amount=amount, currency=currency, token=token, idempotency_key=idempotency_key
        )

    def capture(
        self, *, authorization: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> GatewayResult:
        _refuse_inside_a_transaction()
        return self._capture(
            authorization=authorization,
            amount=amount,
            currency=currency,
            idempotency_key=idempotency_key,
        )

    def void(self, *, authorization: str, idempotency_key: str) -> GatewayResult:
        _refuse_inside_a_transaction()
        return self._void(authorization=authorization, idempotency_key=idempotency_key)

    def refund(
        self, *, authorization: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> GatewayResult:
        _refuse_inside_a_transaction()
        return self._refund(
            authorization=authorization,
            amount=amount,
            currency=currency,
            idempotency_key=idempotency_key,
        )

    @abstractmethod
    def _authorize(
        self, *, amount: Decimal, currency: str, token: str, idempotency_key: str
    ) -> GatewayResult: ...

    @abstractmethod
    def _capture(
        self, *, authorization: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> GatewayResult: ...

    @abstractmethod
    def _void(self, *, authorization: str, idempotency_key: str) -> GatewayResult: ...

    @abstractmethod
    def _refund(
        self, *, authorization: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> GatewayResult: ...


class SandboxGateway(PaymentGateway):
    """A provider simulated on our own database (its ledger is ``SandboxGatewayEntry``), so it
    behaves the same across processes: idempotent per key, amounts checked against what was
    authorised and captured, and the failure modes of the test tokens."""

    name = "sandbox"

    def _authorize(
        self, *, amount: Decimal, currency: str, token: str, idempotency_key: str
    ) -> GatewayResult:
        if token == SANDBOX_ERROR:
            raise GatewayError("sandbox: the provider is unavailable")
        known = token in SANDBOX_TOKENS
        entry, created = self._record(
            operation=SandboxOperation.AUTHORIZE,
            idempotency_key=idempotency_key,
            token=token,
            amount=amount,
            currency=currency,
            is_approved=known and token != SANDBOX_DECLINE,
            message="" if known else "sandbox: unknown test token",
        )
        if created and token == SANDBOX_TIMEOUT:
            raise GatewayTimeout("sandbox: the authorisation answer was lost")
        if not entry.is_approved and not entry.message:
            return GatewayResult(False, entry.reference, "Declined by the card issuer.")
        return GatewayResult(entry.is_approved, entry.reference, entry.message)

    def _capture(
        self, *, authorization: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> GatewayResult:
        ledger = self._ledger(authorization)
        is_approved = (
            ledger.authorized is not None
            and not ledger.is_voided
            and ledger.captured + amount <= ledger.authorized
        )
        entry, _created = self._record(
            operation=SandboxOperation.CAPTURE,
            idempotency_key=idempotency_key,
            parent_reference=authorization,
            amount=amount,
            currency=currency,
            is_approved=is_approved,
            message="" if is_approved else "sandbox: nothing left to capture",
        )
        return GatewayResult(entry.is_approved, entry.reference, entry.message)

    def _void(self, *, authorization: str, idempotency_key: str) -> GatewayResult:
        ledger = self._ledger(authorization)
        is_approved = ledger.authorized is not None and ledger.captured == 0
        entry, _created = self._record(
            operation=SandboxOperation.VOID,
            idempotency_key=idempotency_key,
            parent_reference=authorization,
            amount=ledger.authorized or Decimal("0"),
            currency=ledger.currency,
            is_approved=is_approved,
            message="" if is_approved else "sandbox: cannot void a captured payment",
        )
        return GatewayResult(entry.is_approved, entry.reference, entry.message)

    def _refund(
        self, *, authorization: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> GatewayResult:
        ledger = self._ledger(authorization)
        if ledger.token == SANDBOX_REFUND_ERROR:
            raise GatewayError("sandbox: refunds fail for this card")
        is_approved = ledger.authorized is not None and amount <= ledger.captured - ledger.refunded
        entry, _created = self._record(
            operation=SandboxOperation.REFUND,
            idempotency_key=idempotency_key,
            parent_reference=authorization,
            amount=amount,
            currency=currency,
            is_approved=is_approved,
            message="" if is_approved else "sandbox: more than was captured",
        )
        return GatewayResult(entry.is_approved, entry.reference, entry.message)

    # --- the ledger ---------------------------------------------------------------------------

    @staticmethod
    def _ledger(authorization: str) -> _Ledger:
        """What happened to an authorisation so far, in one query."""
        ledger = _Ledger()
        entries = SandboxGatewayEntry.objects.filter(
            Q(reference=authorization, operation=SandboxOperation.AUTHORIZE)
            | Q(parent_reference=authorization),
            is_approved=True,
        ).values_list("operation", "amount", "currency", "token")
        for operation, amount, currency, token in entries:
            if operation == SandboxOperation.AUTHORIZE:
                ledger.authorized, ledger.currency, ledger.token = amount, currency, token
            elif operation == SandboxOperation.CAPTURE:
                ledger.captured += amount
            elif operation == SandboxOperation.REFUND:
                ledger.refunded += amount
            else:
                ledger.is_voided = True
        return ledger

    @staticmethod
    def _record(*, idempotency_key: str, **fields: Any) -> tuple[SandboxGatewayEntry, bool]:
        """The entry for ``idempotency_key``: a new one, or the first one recorded for it."""
        entry = SandboxGatewayEntry(
            idempotency_key=idempotency_key,
            reference=f"sbx_{secrets.token_hex(12)}",
            created_at=timezone.now(),
            **fields,
        )
        with transaction.atomic():
            _without_waiting_for_the_disk()
            entry.pk = insert_unless_known(entry, unique="idempotency_key")
        if entry.pk is None:
            return SandboxGatewayEntry.objects.get(idempotency_key=idempotency_key), False
        return entry, True


def _without_waiting_for_the_disk() -> None:
    """The sandbox's ledger stands in for a remote provider's: its commits need not wait for
    the disk (``synchronous_commit`` off for this transaction only — a crash could lose the
    last few sandbox entries, never an order or a payment of ours)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


@dataclass
class _Ledger:
    authorized: Decimal | None = None
    currency: str = ""
    token: str = ""
    captured: Decimal = Decimal("0")
    refunded: Decimal = Decimal("0")
    is_voided: bool = False


_GATEWAYS: dict[str, type[PaymentGateway]] = {SandboxGateway.name: SandboxGateway}


def gateway_get(name: str | None = None) -> PaymentGateway:
    """The gateway called ``name`` (default: the ``PAYMENT_GATEWAY`` setting)."""
    chosen = name or settings.PAYMENT_GATEWAY
    try:
        return _GATEWAYS[chosen]()
    except KeyError as error:
        raise RuntimeError(f"no payment gateway called {chosen!r}") from error
