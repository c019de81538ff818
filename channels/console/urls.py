from django.urls import path

from channels.console import views

app_name = "console"
urlpatterns = [
    path("", views.home, name="home"),
    path("search", views.search, name="search"),
    path("call", views.screen_pop, name="screen-pop"),
    path("customers/<uuid:public_id>/", views.customer, name="customer"),
    path("customers/<uuid:public_id>/call/", views.log_call, name="log-call"),
    path("customers/<uuid:public_id>/cases/", views.open_case, name="open-case"),
    path("customers/<uuid:public_id>/erase/", views.erase_customer, name="erase-customer"),
    path("cases/<int:case_id>/resolve/", views.resolve_case, name="resolve-case"),
]
