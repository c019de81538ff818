from django.urls import path

from channels.pos import collect, followups, receipts, returns, sales, views

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
    path("sale/", sales.sale, name="sale"),
    path("sale/items/", sales.sale_item, name="sale-item"),
    path("sales/", sales.sales, name="sales"),
    path("sales/<str:number>/", sales.receipt, name="receipt"),
    path("sales/<str:number>/email/", receipts.email_receipt, name="email-receipt"),
    path("collect/", collect.collect_list, name="collect"),
    path("collect/<str:number>/ready/", collect.collect_ready, name="collect-ready"),
    path("collect/<str:number>/hand-over/", collect.collect_hand_over, name="collect-hand-over"),
    path("returns/", returns.return_find, name="returns"),
    path("returns/orders/<str:number>/", returns.return_order, name="return-order"),
    path("returns/<int:return_id>/", returns.return_receipt, name="return-receipt"),
    path("offline/", views.offline, name="offline"),
    path("sw.js", views.service_worker, name="service-worker"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
]
