"""``/v1/``: the Segment-spec tracking API (a trailing slash is tolerated)."""

from django.urls import re_path

from channels.ingest import views

app_name = "ingest"
urlpatterns = [
    re_path(r"^batch/?$", views.intake, {"event_type": None}, name="batch"),
    *(
        re_path(rf"^{event_type}/?$", views.intake, {"event_type": event_type}, name=event_type)
        for event_type in ("track", "identify", "page", "screen", "alias")
    ),
]
