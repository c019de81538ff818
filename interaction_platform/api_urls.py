"""``/api/v1/``: the REST API for apps, devices and integrations."""

from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from catalog import api as catalog_api
from channels.systems import api as systems_api
from customers import api as customers_api
from integrations.api import webhooks as webhooks_api
from interaction_platform.accounts import api as accounts_api
from orders import api as orders_api

router = SimpleRouter()
router.register("products", catalog_api.ProductViewSet, basename="product")
router.register("variants", catalog_api.VariantViewSet, basename="variant")
router.register("stores", catalog_api.StoreViewSet, basename="store")

# Order numbers and SKUs in paths: what they can be, so nothing else reaches a query.
_ORDER = r"(?P<number>[A-Z0-9]{1,20})"
_SKU = r"(?P<sku>[A-Za-z0-9._\-]{1,64})"

app_name = "api"
urlpatterns = [
    path("auth/tokens/", accounts_api.TokenListView.as_view(), name="tokens"),
    path("auth/tokens/<int:token_id>/", accounts_api.TokenDetailView.as_view(), name="token"),
    path("me/", customers_api.MeView.as_view(), name="me"),
    path("customers/lookup/", customers_api.CustomerLookupView.as_view(), name="customer-lookup"),
    path("sync/stock/", systems_api.StockSyncView.as_view(), name="sync-stock"),
    path("sync/prices/", systems_api.PriceSyncView.as_view(), name="sync-prices"),
    path("exports/orders/", systems_api.OrderExportView.as_view(), name="export-orders"),
    path("exports/customers/", systems_api.CustomerExportView.as_view(), name="export-customers"),
    path("exports/timeline/", systems_api.TimelineExportView.as_view(), name="export-timeline"),
    path("webhooks/endpoints/", webhooks_api.EndpointListView.as_view(), name="webhook-endpoints"),
    path(
        "webhooks/endpoints/<int:endpoint_id>/",
        webhooks_api.EndpointDetailView.as_view(),
        name="webhook-endpoint",
    ),
    path(
        "webhooks/endpoints/<int:endpoint_id>/rotate-secret/",
        webhooks_api.EndpointRotateSecretView.as_view(),
        name="webhook-endpoint-rotate-secret",
    ),
    path(
        "webhooks/endpoints/<int:endpoint_id>/deliveries/",
        webhooks_api.EndpointDeliveryListView.as_view(),
        name="webhook-endpoint-deliveries",
    ),
    path(
        "webhooks/deliveries/<int:delivery_id>/replay/",
        webhooks_api.DeliveryReplayView.as_view(),
        name="webhook-delivery-replay",
    ),
    path(
        "customers/<uuid:public_id>/", customers_api.CustomerDetailView.as_view(), name="customer"
    ),
    path(
        "customers/<uuid:public_id>/timeline/",
        customers_api.CustomerTimelineView.as_view(),
        name="customer-timeline",
    ),
    path("me/timeline/", customers_api.MeTimelineView.as_view(), name="me-timeline"),
    path("merge-reviews/", customers_api.MergeReviewListView.as_view(), name="merge-reviews"),
    path(
        "merge-reviews/<int:review_id>/resolve/",
        customers_api.MergeReviewResolveView.as_view(),
        name="merge-review-resolve",
    ),
    path("merges/<int:merge_id>/undo/", customers_api.MergeUndoView.as_view(), name="merge-undo"),
    *[
        path("carts/", orders_api.CartOpenView.as_view(), name="carts"),
        path("carts/<int:cart_id>/", orders_api.CartDetailView.as_view(), name="cart"),
        path("carts/<int:cart_id>/lines/", orders_api.CartLinesView.as_view(), name="cart-lines"),
        re_path(
            rf"^carts/(?P<cart_id>[0-9]+)/lines/{_SKU}/$",
            orders_api.CartLineView.as_view(),
            name="cart-line",
        ),
        path(
            "carts/<int:cart_id>/voucher/",
            orders_api.CartVoucherView.as_view(),
            name="cart-voucher",
        ),
        path("orders/", orders_api.OrderListView.as_view(), name="orders"),
        re_path(rf"^orders/{_ORDER}/$", orders_api.OrderDetailView.as_view(), name="order"),
        *[
            re_path(rf"^orders/{_ORDER}/{step}/$", view.as_view(), name=f"order-{step}")
            for step, view in [
                ("cancel", orders_api.OrderCancelView),
                ("ready", orders_api.OrderReadyView),
                ("collect", orders_api.OrderCollectView),
                ("ship", orders_api.OrderShipView),
                ("deliver", orders_api.OrderDeliverView),
                ("payments", orders_api.OrderPaymentsView),
                ("refunds", orders_api.OrderRefundsView),
            ]
        ],
        path("returns/", orders_api.ReturnListView.as_view(), name="returns"),
        path("returns/<int:return_id>/", orders_api.ReturnDetailView.as_view(), name="return"),
        path(
            "returns/<int:return_id>/receive/",
            orders_api.ReturnReceiveView.as_view(),
            name="return-receive",
        ),
    ],
    path("", include(router.urls)),
]
