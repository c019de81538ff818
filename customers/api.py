"""Customer API: the signed-in shopper's own profile and timeline; for staff the lookup, a
customer's profile and unified timeline (every read audited), and the merge review queue."""

from __future__ import annotations

import uuid
from typing import Any

from django.core import signing
from django.db.models import QuerySet, prefetch_related_objects
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from customers import selectors, services
from customers.models import (
    AccessAction,
    Customer,
    IdentityKind,
    Merge,
    MergeReview,
    MergeReviewStatus,
)
from interaction_platform.api import ActionPermission, StrictCharField, StrictRegexField
from interaction_platform.choices import Channel
from interaction_platform.errors import InvalidInput, NotFound
from interaction_platform.permissions import Action, require


class ProfileSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    home_store: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    consent = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = [
            "id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "loyalty_number",
            "home_store",
            "address_line1",
            "address_line2",
            "postcode",
            "city",
            "country",
            "consent",
            "first_seen_at",
            "last_seen_at",
            "channels_used",
            "order_count",
            "lifetime_revenue",
            "currency",
        ]
        read_only_fields = fields

    def get_consent(self, customer: Customer) -> dict[str, bool]:
        return {
            "analytics": customer.analytics_consent,
            "email": customer.email_consent,
            "sms": customer.sms_consent,
            "direct_mail": customer.direct_mail_consent,
        }


class ProfileUpdateSerializer(serializers.Serializer):
    first_name = StrictCharField(max_length=100, required=False, allow_blank=True)
    last_name = StrictCharField(max_length=100, required=False, allow_blank=True)
    phone = StrictCharField(max_length=32, required=False, allow_blank=True)
    address_line1 = StrictCharField(max_length=200, required=False, allow_blank=True)
    address_line2 = StrictCharField(max_length=200, required=False, allow_blank=True)
    postcode = StrictCharField(max_length=16, required=False, allow_blank=True)
    city = StrictCharField(max_length=100, required=False, allow_blank=True)
    country = StrictRegexField(r"^[A-Z]{2}$", required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError(
                {name: ["This field cannot be changed here."] for name in sorted(unknown)}
            )
        if not attrs:
            raise serializers.ValidationError("Send at least one field to change.")
        return attrs


class StaffCustomerSerializer(ProfileSerializer):
    identities = serializers.SerializerMethodField()

    class Meta(ProfileSerializer.Meta):
        fields = [*ProfileSerializer.Meta.fields, "is_identified", "identities"]
        read_only_fields = fields

    def get_identities(self, customer: Customer) -> list[dict[str, str]]:
        return [{"kind": row.kind, "value": row.value} for row in customer.identities.all()]


class LookupQuerySerializer(serializers.Serializer):
    email = serializers.CharField(required=False, max_length=254)
    phone = serializers.CharField(required=False, max_length=32)
    loyalty = serializers.CharField(required=False, max_length=40)
    reason = serializers.CharField(
        required=False, max_length=300, help_text="Why you look this customer up (audited)."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [name for name in ("email", "phone", "loyalty") if attrs.get(name)]
        if len(given) != 1:
            raise serializers.ValidationError("Give exactly one of email, phone or loyalty.")
        return attrs


_LOOKUP_KINDS = {
    "email": IdentityKind.EMAIL,
    "phone": IdentityKind.PHONE,
    "loyalty": IdentityKind.LOYALTY,
}


class MeView(APIView):
    permission_classes = [ActionPermission]
    permission_action = Action.OWN_PROFILE
    extra_error_codes = (409,)  # the new phone number belongs to someone else

    def _customer(self, request: Request) -> Customer:
        assert request.user.pk is not None  # the permission check let only signed-in users in
        customer = selectors.customer_for_user(user_id=request.user.pk)
        if customer is None:
            raise NotFound("Your login has no customer profile.")
        return customer

    @extend_schema(summary="Your customer profile", responses=ProfileSerializer)
    def get(self, request: Request) -> Response:
        return Response(ProfileSerializer(self._customer(request)).data)

    @extend_schema(
        summary="Change your name, phone or address",
        request=ProfileUpdateSerializer,
        responses={200: ProfileSerializer},
    )
    def patch(self, request: Request) -> Response:
        customer = self._customer(request)
        changes = ProfileUpdateSerializer(data=request.data)
        changes.is_valid(raise_exception=True)
        customer = services.customer_update_profile(customer=customer, **changes.validated_data)
        return Response(ProfileSerializer(customer).data)


class CustomerLookupView(APIView):
    """Staff find a customer by e-mail, phone or loyalty number. Every customer returned is
    written to the access log with the reason given."""

    permission_classes = [ActionPermission]
    permission_action = Action.CUSTOMER_LOOKUP
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "lookup"

    @extend_schema(
        summary="Find a customer (staff; audited)",
        parameters=[LookupQuerySerializer],
        responses=StaffCustomerSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        query = LookupQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        name = next(key for key in _LOOKUP_KINDS if query.validated_data.get(key))
        try:
            customer = selectors.customer_find_by_identity(
                kind=_LOOKUP_KINDS[name], value=query.validated_data[name]
            )
        except InvalidInput as error:
            raise InvalidInput(error.message, fields={name: error.fields.popitem()[1]}) from error
        found = [customer] if customer is not None else []
        for match in found:
            require(request.user, Action.CUSTOMER_VIEW, match)
        services.access_log_record(
            actor=request.user,
            customers=found,
            action=AccessAction.LOOKUP,
            via="GET /api/v1/customers/lookup/",
            reason=query.validated_data.get("reason", f"lookup by {name}"),
        )
        customers = selectors.customer_list_with_identities().filter(pk__in=[c.pk for c in found])
        return Response(StaffCustomerSerializer(customers, many=True).data)


# --- one customer, and their timeline ------------------------------------------------------------


class CustomerDetailSerializer(StaffCustomerSerializer):
    class Meta(StaffCustomerSerializer.Meta):
        fields = [*StaffCustomerSerializer.Meta.fields, "channel_count", "created_at"]
        read_only_fields = fields


def _staff_customer(request: Request, public_id: uuid.UUID, action: Action) -> Customer:
    customer = selectors.customer_get_live(public_id=public_id)
    if customer is None:
        raise NotFound("No such customer.")
    require(request.user, action, customer)
    return customer


class CustomerDetailView(APIView):
    """A customer's profile with identities and statistics. Staff reads are audited; an id of
    a merged profile leads to the profile it was merged into."""

    permission_classes = [ActionPermission]
    permission_action = Action.CUSTOMER_VIEW

    @extend_schema(
        summary="A customer with identities and statistics (audited)",
        responses=CustomerDetailSerializer,
    )
    def get(self, request: Request, public_id: uuid.UUID) -> Response:
        customer = _staff_customer(request, public_id, Action.CUSTOMER_VIEW)
        prefetch_related_objects([customer], "identities")
        if getattr(request.user, "is_staff_member", False):
            services.access_log_record(
                actor=request.user,
                customers=[customer],
                action=AccessAction.VIEW,
                via="GET /api/v1/customers/{id}/",
            )
        return Response(CustomerDetailSerializer(customer).data)


_datetime_field = serializers.DateTimeField()


class TimelineEventSerializer(serializers.Serializer):
    """One touchpoint. Rendered from plain rows: this serializer documents the shape."""

    id = serializers.CharField(help_text="The event's message id (its idempotency key).")
    occurred_at = serializers.DateTimeField()
    received_at = serializers.DateTimeField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    type = serializers.CharField(help_text="Event name, e.g. 'Order Completed'.")
    store = serializers.CharField(allow_null=True, help_text="Store code, when in a store.")
    order = serializers.CharField(allow_null=True, help_text="Order number, when about one.")
    properties = serializers.DictField(help_text="Event properties (see the tracking plan).")

    def get_fields(self) -> dict[str, serializers.Field]:
        # 'source' is also an attribute of every DRF field, so it cannot be declared above
        fields = super().get_fields()
        fields["source"] = serializers.CharField(help_text="The source or service that sent it.")
        return fields


class TimelinePageSerializer(serializers.Serializer):
    results = TimelineEventSerializer(many=True)
    next_cursor = serializers.CharField(
        allow_null=True, help_text="Pass as `cursor` for the next (older) page; null at the end."
    )


class _QueryParameters(serializers.Serializer):
    """Query parameters: DRF quietly ignores a parameter sent empty (``?since=``); here it is
    refused, like any other value that does not fit."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        empty = sorted(
            str(name)
            for name in self.initial_data
            if name in self.fields and not self.initial_data[name]
        )
        if empty:
            raise serializers.ValidationError(
                {name: ["Give a value, or leave the parameter out."] for name in empty}
            )
        return attrs


class TimelineQuerySerializer(_QueryParameters):
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    type = serializers.CharField(required=False, max_length=100, help_text="Exact event name.")
    since = serializers.DateTimeField(required=False, help_text="Events at or after this time.")
    until = serializers.DateTimeField(required=False, help_text="Events before this time.")
    cursor = serializers.CharField(required=False, max_length=400)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100, default=50)

    def validate_cursor(self, value: str) -> selectors.TimelinePosition:
        try:
            return selectors.timeline_cursor_decode(value)
        except (signing.BadSignature, TypeError, ValueError) as error:
            raise serializers.ValidationError(
                "Not a cursor this API gave out; pass next_cursor unchanged."
            ) from error

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        since, until = attrs.get("since"), attrs.get("until")
        if since is not None and until is not None and since >= until:
            raise serializers.ValidationError({"until": ["Must be later than since."]})
        return attrs


def _timeline_page(request: Request, customer: Customer) -> Response:
    query = TimelineQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    options = query.validated_data
    size = options["page_size"]
    rows = selectors.timeline_list(
        customer=customer,
        after=options.get("cursor"),
        channel=options.get("channel"),
        event_type=options.get("type"),
        since=options.get("since"),
        until=options.get("until"),
        limit=size + 1,
    )
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = selectors.timeline_cursor_encode(
            selectors.TimelinePosition(occurred_at=last["occurred_at"], event_id=last["id"])
        )
    results = [
        {
            "id": row["message_id"],
            "occurred_at": _datetime_field.to_representation(row["occurred_at"]),
            "received_at": _datetime_field.to_representation(row["received_at"]),
            "channel": row["channel"],
            "type": row["type"],
            "source": row["source"],
            "store": row["store__code"],
            "order": row["order__number"],
            "properties": row["properties"],
        }
        for row in rows
    ]
    return Response({"results": results, "next_cursor": next_cursor})


class CustomerTimelineView(APIView):
    """A customer's unified timeline across every channel, newest first (agents; audited)."""

    permission_classes = [ActionPermission]
    permission_action = Action.CUSTOMER_TIMELINE

    @extend_schema(
        summary="A customer's unified timeline (agents; audited)",
        parameters=[TimelineQuerySerializer],
        responses=TimelinePageSerializer,
    )
    def get(self, request: Request, public_id: uuid.UUID) -> Response:
        customer = _staff_customer(request, public_id, Action.CUSTOMER_TIMELINE)
        response = _timeline_page(request, customer)
        services.access_log_record(
            actor=request.user,
            customers=[customer],
            action=AccessAction.TIMELINE,
            via="GET /api/v1/customers/{id}/timeline/",
        )
        return response


class MeTimelineView(APIView):
    """The signed-in shopper's own timeline, newest first."""

    permission_classes = [ActionPermission]
    permission_action = Action.OWN_PROFILE

    @extend_schema(
        summary="Your timeline",
        parameters=[TimelineQuerySerializer],
        responses=TimelinePageSerializer,
    )
    def get(self, request: Request) -> Response:
        assert request.user.pk is not None  # the permission check let only signed-in users in
        customer = selectors.customer_for_user(user_id=request.user.pk)
        if customer is None:
            raise NotFound("Your login has no customer profile.")
        return _timeline_page(request, customer)


# --- merges and their review queue ---------------------------------------------------------------


class IdentityEntrySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=IdentityKind.choices)
    value = serializers.CharField()


class ReviewCustomerSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    display_name = serializers.CharField()
    identities = IdentityEntrySerializer(many=True)


class MergeReviewSerializer(serializers.ModelSerializer):
    customers = serializers.SerializerMethodField()
    identifiers = IdentityEntrySerializer(many=True, read_only=True)
    merge: serializers.PrimaryKeyRelatedField[Merge] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )

    class Meta:
        model = MergeReview
        fields = [
            "id",
            "status",
            "customers",
            "identifiers",
            "message_id",
            "source",
            "occurrences",
            "created_at",
            "last_seen_at",
            "resolved_at",
            "merge",
        ]
        read_only_fields = fields

    @extend_schema_field(ReviewCustomerSerializer(many=True))
    def get_customers(self, review: MergeReview) -> list[dict[str, Any]]:
        pair = [review.first_customer, review.second_customer]
        return [dict(item) for item in ReviewCustomerSerializer(pair, many=True).data]


class MergeReviewQuerySerializer(_QueryParameters):
    status = serializers.ChoiceField(
        choices=MergeReviewStatus.choices, required=False, help_text="Default: open."
    )


@extend_schema_view(
    get=extend_schema(
        summary="The merge review queue (agents; audited)",
        parameters=[MergeReviewQuerySerializer],
    )
)
class MergeReviewListView(generics.ListAPIView):
    """The queue of people whose identifiers met but who are never merged automatically.
    Listing shows their identities, so every customer shown is written to the access log."""

    permission_classes = [ActionPermission]
    permission_action = Action.MERGE_REVIEW
    serializer_class = MergeReviewSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[MergeReview]:
        query = MergeReviewQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        status = query.validated_data.get("status", MergeReviewStatus.OPEN)
        return selectors.merge_review_list(status=MergeReviewStatus(status))

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None  # the view always paginates
        services.access_log_record(
            actor=request.user,
            customers=[
                c for review in page for c in (review.first_customer, review.second_customer)
            ],
            action=AccessAction.VIEW,
            via="GET /api/v1/merge-reviews/",
            reason="merge review",
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class MergeReviewDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=[(d.value, d.value) for d in services.ReviewDecision]
    )
    survivor = serializers.UUIDField(
        required=False,
        help_text="For a merge: the customer who stays (default: the one with a login, else "
        "the older profile).",
    )


class MergeReviewResolveView(APIView):
    permission_classes = [ActionPermission]
    permission_action = Action.MERGE_REVIEW
    extra_error_codes = (409,)  # resolved already, or the merge is refused

    @extend_schema(
        summary="Merge the two people, or keep them apart",
        request=MergeReviewDecisionSerializer,
        responses={200: MergeReviewSerializer},
    )
    def post(self, request: Request, review_id: int) -> Response:
        review = MergeReview.objects.filter(pk=review_id).first()
        if review is None:
            raise NotFound("No such review.")
        body = MergeReviewDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        survivor = None
        if "survivor" in body.validated_data:
            survivor = Customer.objects.filter(public_id=body.validated_data["survivor"]).first()
            if survivor is None:
                raise InvalidInput(
                    "No such customer.", fields={"survivor": ["Not one of the two customers."]}
                )
        review = services.merge_review_resolve(
            review=review,
            decision=services.ReviewDecision(body.validated_data["decision"]),
            actor=request.user,
            survivor=survivor,
        )
        review = selectors.merge_review_list().get(pk=review.pk)
        return Response(MergeReviewSerializer(review).data)


class MergeSerializer(serializers.ModelSerializer):
    survivor = serializers.UUIDField(source="survivor.public_id")
    absorbed = serializers.UUIDField(source="absorbed.public_id")
    moved = serializers.DictField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="Per model label, the rows that moved to the survivor.",
    )

    class Meta:
        model = Merge
        fields = [
            "id",
            "survivor",
            "absorbed",
            "reason",
            "message_id",
            "moved",
            "merged_at",
            "unmerged_at",
        ]
        read_only_fields = fields


class MergeUndoView(APIView):
    """Undo a merge: the rows it moved go back to the absorbed customer."""

    permission_classes = [ActionPermission]
    permission_action = Action.MERGE_REVIEW
    extra_error_codes = (409,)  # undone already, or merged again since

    @extend_schema(summary="Undo a merge", request=None, responses={200: MergeSerializer})
    def post(self, request: Request, merge_id: int) -> Response:
        merge = Merge.objects.filter(pk=merge_id).first()
        if merge is None:
            raise NotFound("No such merge.")
        merge = services.customer_unmerge(merge=merge, actor=request.user)
        merge = Merge.objects.select_related("survivor", "absorbed").get(pk=merge.pk)
        return Response(MergeSerializer(merge).data)
