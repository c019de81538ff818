from django.urls import path

from channels.marketing import campaign_views

urlpatterns = [
    path("segments/", campaign_views.segment_builder, name="segments"),
    path("segments/count", campaign_views.segment_count, name="segment-count"),
    path("campaigns/", campaign_views.campaign_dashboard, name="campaigns"),
    path("campaigns/new/", campaign_views.campaign_new, name="campaign-new"),
    path("campaigns/<int:campaign_id>/", campaign_views.campaign_detail, name="campaign"),
    path(
        "campaigns/<int:campaign_id>/start/", campaign_views.campaign_start, name="campaign-start"
    ),
    path(
        "campaigns/<int:campaign_id>/mailing.csv",
        campaign_views.campaign_mailing_file,
        name="campaign-mailing-file",
    ),
    path("qr/", campaign_views.qr_codes, name="qr-codes"),
    path("qr/<str:code>.svg", campaign_views.qr_code_svg, name="qr-code-svg"),
    path("follow-up/", campaign_views.follow_up_dashboard, name="follow-up"),
]
