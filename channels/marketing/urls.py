from django.urls import include, path

from channels.marketing import views

app_name = "marketing"
urlpatterns = [
    path("", views.home, name="home"),
    path("", include("channels.marketing.campaign_urls")),
]
