from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from catalog.models import Category, Location, Price, PriceList, Product, StockLevel, Variant


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent", "position"]
    list_filter = ["parent"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class VariantInline(admin.TabularInline):
    model = Variant
    fields = ["sku", "barcode", "name", "is_published", "position"]
    extra = 0
    show_change_link = True


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "brand", "category", "variant_count", "is_published", "updated_at"]
    list_filter = ["is_published", "category__parent", "category", "brand"]
    search_fields = ["name", "slug", "brand", "variants__sku", "variants__barcode"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["category"]
    inlines = [VariantInline]
    actions = ["publish", "unpublish"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        return super().get_queryset(request).annotate(_variant_count=Count("variants"))

    @admin.display(description="variants", ordering="_variant_count")
    def variant_count(self, product: Product) -> int:
        return product._variant_count  # type: ignore[attr-defined]

    @admin.action(description="Publish the selected products")
    def publish(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        queryset.update(is_published=True)

    @admin.action(description="Unpublish the selected products")
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        queryset.update(is_published=False)


class PriceInline(admin.TabularInline):
    model = Price
    fields = ["price_list", "amount", "compare_at_amount"]
    extra = 0


class StockLevelInline(admin.TabularInline):
    model = StockLevel
    fields = ["location", "on_hand", "reserved"]
    readonly_fields = ["reserved"]
    extra = 0


@admin.register(Variant)
class VariantAdmin(admin.ModelAdmin):
    list_display = ["sku", "barcode", "product", "name", "is_published"]
    list_filter = ["is_published", "product__category"]
    search_fields = ["sku", "barcode", "product__name", "name"]
    list_select_related = ["product"]
    autocomplete_fields = ["product"]
    inlines = [PriceInline, StockLevelInline]


@admin.register(PriceList)
class PriceListAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "currency", "prices_include_tax", "is_active"]
    list_filter = ["channel", "currency", "is_active"]
    search_fields = ["name"]


@admin.register(Price)
class PriceAdmin(admin.ModelAdmin):
    list_display = ["variant", "price_list", "amount", "compare_at_amount"]
    list_filter = ["price_list"]
    search_fields = ["variant__sku", "variant__product__name"]
    list_select_related = ["variant__product", "price_list"]
    autocomplete_fields = ["variant"]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "kind",
        "city",
        "country",
        "offers_click_and_collect",
        "is_active",
    ]
    list_filter = ["kind", "country", "is_active", "offers_click_and_collect"]
    search_fields = ["name", "code", "city", "postcode"]
    prepopulated_fields = {"code": ["name"]}


@admin.register(StockLevel)
class StockLevelAdmin(admin.ModelAdmin):
    list_display = ["variant", "location", "on_hand", "reserved", "available", "updated_at"]
    list_filter = ["location"]
    search_fields = ["variant__sku", "variant__barcode", "variant__product__name"]
    list_select_related = ["variant__product", "location"]
    autocomplete_fields = ["variant"]
    readonly_fields = ["reserved"]
