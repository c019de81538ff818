"""Merging two customers moves every row that points at the absorbed one (and records it);
unmerging moves exactly those rows back. Agents decide the conflicts in the review queue."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from customers import services
from customers.merging import customer_relations
from customers.models import (
    AccessAction,
    AccessLog,
    Case,
    ConsentRecord,
    Customer,
    Identity,
    Merge,
    MergeReason,
    MergeReview,
    TimelineEvent,
)
from interaction_platform.errors import Conflict, InvalidInput
from orders.models import Cart, CartStatus, Order, VoucherRedemption
from tests import factories

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _event(customer: Customer, message_id: str, *, hours_ago: int, channel: str) -> TimelineEvent:
    return TimelineEvent.objects.create(
        customer=customer,
        occurred_at=NOW - timedelta(hours=hours_ago),
        received_at=NOW,
        channel=channel,
        type="Page Viewed",
        source="test",
        message_id=message_id,
    )


@pytest.fixture
def known() -> Customer:
    customer = factories.CustomerFactory(
        first_seen_at=NOW - timedelta(hours=5),
        last_seen_at=NOW - timedelta(hours=5),
        channels_used=["store"],
        channel_count=1,
        order_count=1,
        lifetime_revenue=Decimal("10.00"),
    )
    _event(customer, "known-1", hours_ago=5, channel="store")
    return customer


@pytest.fixture
def visitor(agent: Any) -> Customer:
    """An anonymous visitor with a history in every table that points at customers."""
    customer = factories.CustomerFactory(
        first_name="",
        last_name="",
        email="",
        phone="",
        is_identified=False,
        identities=False,
        first_seen_at=NOW - timedelta(hours=9),
        last_seen_at=NOW - timedelta(hours=2),
        channels_used=["web"],
        channel_count=1,
        order_count=2,
        lifetime_revenue=Decimal("99.90"),
    )
    Identity.objects.create(customer=customer, kind="anonymous_id", value="a-1")
    _event(customer, "visitor-1", hours_ago=9, channel="web")
    _event(customer, "visitor-2", hours_ago=2, channel="web")
    factories.CartFactory(customer=customer)
    factories.OrderFactory(customer=customer)
    Case.objects.create(customer=customer, channel="web", subject="Where is my parcel?")
    ConsentRecord.objects.create(
        customer=customer, purpose="analytics", is_granted=True, channel="web", occurred_at=NOW
    )
    services.access_log_record(
        actor=agent, customers=[customer], action=AccessAction.VIEW, via="test"
    )
    return customer


def _owners(model: Any) -> list[int]:
    return sorted(model.objects.values_list("customer_id", flat=True))


class TestMerge:
    def test_every_row_moves_except_the_access_log_and_the_move_is_recorded(
        self, known: Customer, visitor: Customer
    ) -> None:
        # when
        merge = services.customer_merge(survivor=known, absorbed=visitor)
        # then: everything of the visitor is the known customer's now
        for model in (Identity, TimelineEvent, Cart, Order, Case, ConsentRecord):
            assert set(_owners(model)) == {known.pk}, model
        assert _owners(AccessLog) == [visitor.pk]  # evidence stays where it was written
        assert merge.moved == {
            "customers.case": list(Case.objects.values_list("pk", flat=True)),
            "customers.consentrecord": list(ConsentRecord.objects.values_list("pk", flat=True)),
            "customers.identity": [Identity.objects.get(value="a-1").pk],
            "customers.timelineevent": sorted(
                TimelineEvent.objects.filter(message_id__startswith="visitor").values_list(
                    "pk", flat=True
                )
            ),
            "orders.cart": list(Cart.objects.values_list("pk", flat=True)),
            "orders.order": list(Order.objects.values_list("pk", flat=True)),
        }
        visitor.refresh_from_db()
        known.refresh_from_db()
        assert (visitor.merged_into_id, visitor.order_count, visitor.lifetime_revenue) == (
            known.pk,
            0,
            Decimal("0.00"),
        )
        assert (known.first_seen_at, known.last_seen_at) == (
            NOW - timedelta(hours=9),
            NOW - timedelta(hours=2),
        )
        assert (known.channels_used, known.channel_count, known.is_identified) == (
            ["store", "web"],
            2,
            True,
        )
        assert (known.order_count, known.lifetime_revenue) == (3, Decimal("109.90"))
        assert (merge.order_count_moved, merge.revenue_moved, merge.reason) == (
            2,
            Decimal("99.90"),
            "review",
        )

    def test_earlier_merges_into_the_absorbed_profile_follow_it(
        self, known: Customer, visitor: Customer
    ) -> None:
        older = factories.CustomerFactory(is_identified=False, identities=False)
        first = services.customer_merge(survivor=visitor, absorbed=older)
        second = services.customer_merge(survivor=known, absorbed=visitor)
        older.refresh_from_db()
        assert older.merged_into_id == known.pk
        assert second.moved["customers.customer"] == [older.pk]
        # undoing the later merge puts the chain back as it was
        services.customer_unmerge(merge=second)
        older.refresh_from_db()
        assert older.merged_into_id == visitor.pk
        assert first.pk != second.pk

    @pytest.mark.parametrize(
        ("case", "error", "message"),
        [
            ("same", InvalidInput, "A customer cannot be merged into itself."),
            ("merged", Conflict, "was merged already."),
            ("erased", Conflict, "An erased customer cannot be merged."),
            ("login", Conflict, "The profile with a login must be the one that stays."),
            ("two_logins", Conflict, "Both profiles have a login; they cannot be merged."),
        ],
    )
    def test_refused_merges_change_nothing(
        self, known: Customer, visitor: Customer, case: str, error: type, message: str
    ) -> None:
        # given
        survivor, absorbed = known, visitor
        if case == "same":
            absorbed = known
        elif case == "merged":
            other = factories.CustomerFactory()
            Customer.objects.filter(pk=visitor.pk).update(merged_into=other)
        elif case == "erased":
            Customer.objects.filter(pk=visitor.pk).update(erased_at=NOW)
        elif case in ("login", "two_logins"):
            Customer.objects.filter(pk=visitor.pk).update(user=factories.UserFactory())
            if case == "two_logins":
                Customer.objects.filter(pk=known.pk).update(user=factories.UserFactory())
        before = (list(Customer.objects.order_by("pk").values()), _owners(TimelineEvent))
        # when / then
        with pytest.raises(error, match=message):
            services.customer_merge(survivor=survivor, absorbed=absorbed)
        assert (list(Customer.objects.order_by("pk").values()), _owners(TimelineEvent)) == before
        assert Merge.objects.count() == 0

    def test_two_open_carts_are_folded_by_the_cart_hook(
        self, known: Customer, visitor: Customer
    ) -> None:
        # the orders app's Cart.merge_customer_rows folds the visitor's open cart into the
        # survivor's: one open cart remains, and the merge records the folded one
        survivor_cart = factories.CartFactory(customer=known)
        merge = services.customer_merge(survivor=known, absorbed=visitor)
        assert list(Cart.objects.filter(customer=known, status="open")) == [survivor_cart]
        assert Cart.objects.filter(customer=visitor).count() == 0
        assert "orders.cart" in merge.moved

    def test_a_merge_another_app_refuses_is_a_conflict_and_changes_nothing(
        self, known: Customer, visitor: Customer
    ) -> None:
        # both used a "one per customer" voucher: one person cannot have used it twice
        voucher = factories.VoucherFactory()
        for customer in (known, visitor):
            VoucherRedemption.objects.create(
                voucher=voucher,
                customer=customer,
                order=factories.OrderFactory(customer=customer),
                use_number=1,
            )
        with pytest.raises(Conflict) as refused:
            services.customer_merge(survivor=known, absorbed=visitor)
        assert refused.value.code == "merge_refused"
        assert VoucherRedemption.objects.filter(customer=visitor).count() == 1
        assert Merge.objects.count() == 0


class TestMergeProtocol:
    """The contract with the apps whose rows point at customers (orders' carts first)."""

    def test_a_model_hook_replaces_the_generic_move(
        self, known: Customer, visitor: Customer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given: a cart hook that folds the visitor's open cart into the survivor's
        survivor_cart = factories.CartFactory(customer=known)
        visitor_cart = Cart.objects.get(customer=visitor)
        calls: list[tuple[int, int, bool]] = []

        def merge_customer_rows(cls: type[Cart], *, absorbed: Any, survivor: Any) -> list[int]:
            calls.append((absorbed.pk, survivor.pk, connection.in_atomic_block))
            cls.objects.filter(customer=absorbed, status=CartStatus.OPEN).update(
                status=CartStatus.MERGED
            )
            return [survivor_cart.pk]

        monkeypatch.setattr(
            Cart, "merge_customer_rows", classmethod(merge_customer_rows), raising=False
        )
        # when
        merge = services.customer_merge(survivor=known, absorbed=visitor)
        # then: the hook ran inside the merge's transaction and its answer was recorded
        assert calls == [(visitor.pk, known.pk, True)]
        assert merge.moved["orders.cart"] == [survivor_cart.pk]
        visitor_cart.refresh_from_db()
        assert (visitor_cart.customer_id, visitor_cart.status) == (visitor.pk, "merged")

    def test_every_relation_to_customer_is_known_and_unambiguous(self) -> None:
        assert [(model._meta.label_lower, key) for model, key in customer_relations()] == [
            ("customers.case", "customer"),
            ("customers.consentrecord", "customer"),
            ("customers.customer", "merged_into"),
            ("customers.identity", "customer"),
            ("customers.timelineevent", "customer"),
            ("marketing.campaignsend", "customer"),
            ("marketing.customermonth", "customer"),
            ("marketing.followup", "customer"),
            ("marketing.qrscan", "customer"),
            ("orders.cart", "customer"),
            ("orders.order", "customer"),
            ("orders.voucherredemption", "customer"),
        ]


class TestUnmerge:
    def test_unmerge_restores_identities_events_carts_orders_and_statistics(
        self, known: Customer, visitor: Customer
    ) -> None:
        # given: a merge, and an event that arrived for the survivor afterwards
        def snapshot() -> dict[str, Any]:
            return {
                model.__name__: sorted(model.objects.values_list("pk", "customer_id"))
                for model in (Identity, TimelineEvent, Cart, Order, Case, ConsentRecord)
            }

        rows_before = snapshot()
        customers_before = {
            customer.pk: (
                customer.first_seen_at,
                customer.last_seen_at,
                customer.channels_used,
                customer.order_count,
                customer.lifetime_revenue,
                customer.is_identified,
            )
            for customer in Customer.objects.all()
        }
        merge = services.customer_merge(survivor=known, absorbed=visitor)
        after_merge = _event(known, "after-merge", hours_ago=1, channel="app")
        # when
        services.customer_unmerge(merge=merge)
        # then: every recorded row is back; the later event stays with the survivor
        rows_now = snapshot()
        rows_now["TimelineEvent"].remove((after_merge.pk, known.pk))
        assert rows_now == rows_before
        visitor.refresh_from_db()
        known.refresh_from_db()
        assert visitor.merged_into_id is None
        assert (
            visitor.first_seen_at,
            visitor.last_seen_at,
            visitor.channels_used,
            visitor.order_count,
            visitor.lifetime_revenue,
            visitor.is_identified,
        ) == customers_before[visitor.pk]
        assert (known.channels_used, known.order_count, known.lifetime_revenue) == (
            ["app", "store"],
            1,
            Decimal("10.00"),
        )
        merge.refresh_from_db()
        assert merge.unmerged_at is not None

    def test_unmerge_twice_is_refused(self, known: Customer, visitor: Customer) -> None:
        merge = services.customer_merge(survivor=known, absorbed=visitor)
        services.customer_unmerge(merge=merge)
        with pytest.raises(Conflict, match="undone already"):
            services.customer_unmerge(merge=merge)

    def test_a_survivor_merged_again_must_be_unmerged_first(
        self, known: Customer, visitor: Customer
    ) -> None:
        merge = services.customer_merge(survivor=known, absorbed=visitor)
        other = factories.CustomerFactory()
        later = services.customer_merge(survivor=other, absorbed=known)
        before = sorted(TimelineEvent.objects.values_list("pk", "customer_id"))
        with pytest.raises(Conflict, match="undo the later merge first"):
            services.customer_unmerge(merge=merge)
        assert sorted(TimelineEvent.objects.values_list("pk", "customer_id")) == before
        services.customer_unmerge(merge=later)
        services.customer_unmerge(merge=merge)
        assert set(_owners(TimelineEvent)) == {known.pk, visitor.pk}


class TestReviews:
    @pytest.fixture
    def review(self, known: Customer) -> MergeReview:
        other = factories.CustomerFactory()
        first, second = sorted([known, other], key=lambda c: c.pk)
        return MergeReview.objects.create(
            first_customer=first,
            second_customer=second,
            identifiers=[{"kind": "email", "value": "x@example.com"}],
            message_id="m-1",
            source="web-store",
            created_at=NOW,
            last_seen_at=NOW,
        )

    def test_an_agent_merges_keeping_the_profile_with_a_login(
        self, review: MergeReview, agent: Any
    ) -> None:
        Customer.objects.filter(pk=review.second_customer_id).update(user=factories.UserFactory())
        resolved = services.merge_review_resolve(
            review=review, decision=services.ReviewDecision.MERGE, actor=agent
        )
        assert (resolved.status, resolved.resolved_by, resolved.merge is not None) == (
            "merged",
            agent,
            True,
        )
        assert resolved.merge is not None
        assert (
            resolved.merge.survivor_id,
            resolved.merge.absorbed_id,
            resolved.merge.reason,
            resolved.merge.merged_by,
        ) == (review.second_customer_id, review.first_customer_id, MergeReason.REVIEW, agent)

    def test_keeping_apart_merges_nothing(self, review: MergeReview, agent: Any) -> None:
        resolved = services.merge_review_resolve(
            review=review, decision=services.ReviewDecision.KEEP_APART, actor=agent
        )
        assert (resolved.status, resolved.merge) == ("kept_apart", None)
        assert Merge.objects.count() == 0

    def test_a_resolved_review_cannot_be_resolved_again(
        self, review: MergeReview, agent: Any
    ) -> None:
        services.merge_review_resolve(
            review=review, decision=services.ReviewDecision.KEEP_APART, actor=agent
        )
        with pytest.raises(Conflict, match="resolved already"):
            services.merge_review_resolve(
                review=review, decision=services.ReviewDecision.MERGE, actor=agent
            )
        assert Merge.objects.count() == 0

    def test_the_survivor_must_be_one_of_the_two(self, review: MergeReview, agent: Any) -> None:
        with pytest.raises(InvalidInput, match="one of the two"):
            services.merge_review_resolve(
                review=review,
                decision=services.ReviewDecision.MERGE,
                actor=agent,
                survivor=factories.CustomerFactory(),
            )
        review.refresh_from_db()
        assert review.status == "open"

    def test_undoing_a_reviewed_merge_reopens_the_review(
        self, review: MergeReview, agent: Any
    ) -> None:
        resolved = services.merge_review_resolve(
            review=review, decision=services.ReviewDecision.MERGE, actor=agent
        )
        assert resolved.merge is not None
        services.customer_unmerge(merge=resolved.merge, actor=agent)
        review.refresh_from_db()
        assert (review.status, review.resolved_at, review.merge) == ("open", None, None)


def test_a_merge_is_one_transaction(known: Customer, visitor: Customer) -> None:
    def caller_failing_after_the_merge() -> None:
        with transaction.atomic():
            services.customer_merge(survivor=known, absorbed=visitor)
            raise RuntimeError("the caller failed after merging")

    with pytest.raises(RuntimeError):
        caller_failing_after_the_merge()
    assert set(_owners(TimelineEvent)) == {known.pk, visitor.pk}
    assert Merge.objects.count() == 0
