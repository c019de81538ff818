from django.contrib.sitemaps.views import sitemap
from django.urls import path

from channels.web import account, basket, checkout, help, orders, views
from channels.web.sitemaps import SITEMAPS

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("c/<slug:slug>/", views.category, name="category"),
    path("p/<slug:slug>/", views.product, name="product"),
    path("search", views.search, name="search"),
    path("account/", account.account, name="account"),
    path("account/signup/", account.signup, name="signup"),
    path("account/profile/", account.account_profile, name="account-profile"),
    path("account/consent/", account.account_consent, name="account-consent"),
    path("account/data/", account.account_data, name="account-data"),
    path("account/erasure/", account.account_erasure, name="account-erasure"),
    path("consent/", account.cookie_consent, name="cookie-consent"),
    path("robots.txt", views.robots_txt, name="robots"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("pay/<str:token>/", views.pay, name="pay"),
    path("basket/", basket.basket, name="basket"),
    path("basket/add/", basket.basket_add, name="basket-add"),
    path("basket/update/", basket.basket_update, name="basket-update"),
    path("basket/remove/", basket.basket_remove, name="basket-remove"),
    path("basket/voucher/", basket.basket_voucher, name="basket-voucher"),
    path("checkout/", checkout.checkout, name="checkout"),
    path("checkout/done/<str:number>/", checkout.checkout_done, name="checkout-done"),
    path("account/orders/", orders.order_list, name="orders"),
    path("account/orders/<str:number>/", orders.order_detail, name="order-detail"),
    path("account/orders/<str:number>/return/", orders.order_return, name="order-return"),
    path("account/orders/<str:number>/ask/", orders.order_ask, name="order-ask"),
    path("help/contact/", help.contact, name="contact"),
]
