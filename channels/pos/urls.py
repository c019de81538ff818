from django.urls import path

from channels.pos import followups, views

app_name = "pos"
urlpatterns = [
    path("", views.home, name="home"),
    path("store/", views.switch_store, name="switch-store"),
    path("lookup/", views.lookup, name="lookup"),
    path("products/<str:sku>/", views.variant, name="variant"),
    path("customers/identify/", views.identify_customer, name="identify-customer"),
    path("customers/done/", views.finish_customer, name="finish-customer"),
    path("customers/<uuid:public_id>/", views.customer, name="customer"),
    path("follow-ups/", followups.follow_ups, name="follow-ups"),
    path("follow-ups/<int:follow_up_id>/done/", followups.follow_up_done, name="follow-up-done"),
    path("offline/", views.offline, name="offline"),
    path("sw.js", views.service_worker, name="service-worker"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
]
