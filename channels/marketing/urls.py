from django.urls import include, path

from channels.marketing import dashboard_views, views

app_name = "marketing"
urlpatterns = [
    path("", views.home, name="home"),
    path("dashboards/<slug:slug>/", dashboard_views.dashboard_page, name="dashboard"),
    path("dashboards/<slug:slug>.csv", dashboard_views.dashboard_csv, name="dashboard_csv"),
    path("", include("channels.marketing.campaign_urls")),
]
