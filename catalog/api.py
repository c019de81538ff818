"""Catalog API: products, variants, stock by location, price per channel, stores. Read-only and
open to everyone, apps and anonymous visitors alike."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from catalog import selectors
from catalog.models import Category, Location, Price, Product, StockLevel, Variant
from interaction_platform.api import ActionPermission
from interaction_platform.choices import Channel
from interaction_platform.permissions import Action


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["slug", "name"]


class VariantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Variant
        fields = ["sku", "barcode", "name", "attributes"]


class ProductSerializer(serializers.ModelSerializer):
    category = CategorySerializer()
    variants = VariantSerializer(many=True)

    class Meta:
        model = Product
        fields = ["slug", "name", "brand", "description", "category", "variants"]


class VariantDetailSerializer(serializers.ModelSerializer):
    product: serializers.SlugRelatedField[Product] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    product_name = serializers.CharField(source="product.name")

    class Meta:
        model = Variant
        fields = ["sku", "barcode", "name", "attributes", "product", "product_name"]


class LocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Location
        fields = [
            "code",
            "name",
            "kind",
            "address_line1",
            "address_line2",
            "postcode",
            "city",
            "country",
            "latitude",
            "longitude",
            "phone",
            "email",
            "opening_hours",
            "offers_click_and_collect",
        ]


class StockLevelSerializer(serializers.ModelSerializer):
    location = serializers.CharField(source="location.code")
    location_name = serializers.CharField(source="location.name")
    location_kind = serializers.CharField(source="location.kind")
    available = serializers.IntegerField()

    class Meta:
        model = StockLevel
        fields = ["location", "location_name", "location_kind", "on_hand", "reserved", "available"]


class PriceSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="variant.sku")
    channel = serializers.ChoiceField(source="price_list.channel", choices=Channel.choices)
    currency = serializers.CharField(source="price_list.currency")
    includes_tax = serializers.BooleanField(source="price_list.prices_include_tax")

    class Meta:
        model = Price
        fields = ["sku", "channel", "currency", "amount", "compare_at_amount", "includes_tax"]


class ProductFilterSerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=100)
    category = serializers.SlugField(required=False, allow_blank=True)


class VariantFilterSerializer(serializers.Serializer):
    sku = serializers.CharField(required=False, allow_blank=True, max_length=64)
    barcode = serializers.RegexField(
        r"^\d{8,14}$",
        required=False,
        allow_blank=True,
        error_messages={"invalid": "8 to 14 digits."},
    )


class PriceQuerySerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.selling())
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False)


class CatalogViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [ActionPermission]
    permission_action = Action.CATALOG_VIEW


@extend_schema_view(
    list=extend_schema(
        summary="List and search products",
        parameters=[
            OpenApiParameter("q", str, description="Name, brand, SKU or barcode."),
            OpenApiParameter("category", str, description="Category slug (includes children)."),
        ],
    ),
    retrieve=extend_schema(summary="A product with its variants"),
)
class ProductViewSet(CatalogViewSet):
    serializer_class = ProductSerializer
    lookup_field = "slug"

    def get_queryset(self) -> Any:
        if self.action == "list":
            filters = ProductFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            return selectors.product_list(
                query=filters.validated_data.get("q", "").strip(),
                category_slug=filters.validated_data.get("category", ""),
            )
        return selectors.product_list()

    def get_object(self) -> Product:
        return selectors.product_get(slug=self.kwargs["slug"])


@extend_schema_view(
    list=extend_schema(
        summary="Find variants by SKU or barcode",
        parameters=[
            OpenApiParameter("sku", str, description="Exact SKU, case-insensitive."),
            OpenApiParameter("barcode", str, description="EAN/UPC/GTIN, 8 to 14 digits."),
        ],
    ),
    retrieve=extend_schema(summary="A variant by SKU"),
)
class VariantViewSet(CatalogViewSet):
    serializer_class = VariantDetailSerializer
    lookup_field = "sku"
    lookup_value_regex = r"[^/]+"

    def get_queryset(self) -> Any:
        if self.action == "list":
            filters = VariantFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            return selectors.variant_list(
                sku=filters.validated_data.get("sku", "").strip(),
                barcode=filters.validated_data.get("barcode", ""),
            )
        return selectors.variant_list()

    def get_object(self) -> Variant:
        return selectors.variant_get(sku=self.kwargs["sku"])

    @extend_schema(
        summary="Stock of a variant at every store and warehouse",
        responses=StockLevelSerializer(many=True),
    )
    @action(detail=True, pagination_class=None)
    def stock(self, request: Request, sku: str) -> Response:
        levels = selectors.variant_stock(variant=self.get_object())
        return Response(StockLevelSerializer(levels, many=True).data)

    @extend_schema(
        summary="Price of a variant on a channel",
        parameters=[PriceQuerySerializer],
        responses=PriceSerializer,
    )
    @action(detail=True, pagination_class=None)
    def price(self, request: Request, sku: str) -> Response:
        query = PriceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        price = selectors.variant_price(
            variant=self.get_object(),
            channel=query.validated_data["channel"],
            currency=query.validated_data.get("currency", settings.DEFAULT_CURRENCY),
        )
        return Response(PriceSerializer(price).data)


@extend_schema_view(
    list=extend_schema(summary="Stores (for click & collect, returns and stock)"),
    retrieve=extend_schema(summary="A store by code"),
)
class StoreViewSet(CatalogViewSet):
    serializer_class = LocationSerializer
    lookup_field = "code"
    pagination_class = None

    def get_queryset(self) -> Any:
        return selectors.store_list()

    def get_object(self) -> Location:
        return selectors.store_get(code=self.kwargs["code"])
