from django.urls import path

from channels.marketing import public_views

urlpatterns = [
    path("m/c/<str:token>", public_views.email_click, name="email-click"),
    path("m/o/<str:token>.gif", public_views.email_open, name="email-open"),
    path("m/u/<str:token>", public_views.email_unsubscribe, name="email-unsubscribe"),
    path("m/q/<str:token>", public_views.direct_mail_scan, name="direct-mail-scan"),
    path("q/<str:code>", public_views.qr_scan, name="qr-scan"),
]
