from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from interaction_platform import health

# Swagger UI sets inline style attributes; on this page only, and for styles only (never
# scripts), the content security policy allows them.
api_docs_view = csp_update({"style-src": [UNSAFE_INLINE]})(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)

admin.site.site_header = "Interaction Platform back office"
admin.site.site_title = "Back office"
admin.site.index_title = "Catalog, stores, customers and orders"

urlpatterns = [
    path("healthz", health.liveness, name="healthz"),
    path("readyz", health.readiness, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("interaction_platform.accounts.urls")),
    path("v1/", include("channels.ingest.urls")),
    path("api/v1/", include("interaction_platform.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs_view, name="api-docs"),
    path("pos/", include("channels.pos.urls")),
    path("console/", include("channels.console.urls")),
    path("marketing/", include("channels.marketing.urls")),
    path("", include("channels.marketing.public_urls")),
    path("", include("channels.web.urls")),
]

handler400 = "interaction_platform.error_views.bad_request"
handler403 = "interaction_platform.error_views.permission_denied"
handler404 = "interaction_platform.error_views.page_not_found"
handler500 = "interaction_platform.error_views.server_error"
