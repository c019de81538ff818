from django.contrib.sitemaps.views import sitemap
from django.urls import path

from channels.web import account, views
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
]
