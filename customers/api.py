"""Customer API: the signed-in shopper's own profile, and staff lookup (audited)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from customers import selectors, services
from customers.models import AccessAction, Customer, IdentityKind
from interaction_platform.api import ActionPermission, StrictCharField, StrictRegexField
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
