from django.urls import path

from channels.console import callbacks, orders, reviews, views

app_name = "console"
urlpatterns = [
    path("", views.home, name="home"),
    path("search", views.search, name="search"),
    path("call", views.screen_pop, name="screen-pop"),
    path("customers/<uuid:public_id>/", views.customer, name="customer"),
    path("customers/<uuid:public_id>/call/", views.log_call, name="log-call"),
    path("customers/<uuid:public_id>/cases/", views.open_case, name="open-case"),
    path("customers/<uuid:public_id>/erase/", views.erase_customer, name="erase-customer"),
    path("customers/<uuid:public_id>/timeline/", views.timeline, name="timeline"),
    path("customers/<uuid:public_id>/order/", orders.place_order, name="place-order"),
    path("orders/<str:number>/cancel/", orders.cancel_order, name="cancel-order"),
    path("orders/<str:number>/return/", orders.return_by_post, name="return-order"),
    path("reviews/", reviews.queue, name="reviews"),
    path("call-backs/", callbacks.call_backs, name="call-backs"),
    path("call-backs/<int:follow_up_id>/done/", callbacks.call_back_done, name="call-back-done"),
    path("reviews/<int:review_id>/decide/", reviews.decide, name="decide-review"),
    path("merges/<int:merge_id>/undo/", reviews.undo, name="undo-merge"),
    path("cases/<int:case_id>/resolve/", views.resolve_case, name="resolve-case"),
]
