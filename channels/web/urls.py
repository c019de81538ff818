from django.urls import path

from channels.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("pay/<str:token>/", views.pay, name="pay"),
]
