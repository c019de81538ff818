"""``/api/v1/``: the REST API for apps, devices and integrations."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from catalog import api as catalog_api
from channels.systems import api as systems_api
from customers import api as customers_api
from integrations.api import webhooks as webhooks_api
from interaction_platform.accounts import api as accounts_api

router = SimpleRouter()
router.register("products", catalog_api.ProductViewSet, basename="product")
router.register("variants", catalog_api.VariantViewSet, basename="variant")
router.register("stores", catalog_api.StoreViewSet, basename="store")

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
    path("", include(router.urls)),
]
