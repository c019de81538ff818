"""``/api/v1/``: the REST API for apps, devices and integrations."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from catalog import api as catalog_api
from customers import api as customers_api
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
