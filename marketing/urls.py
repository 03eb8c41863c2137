from django.urls import path

from . import urls_channel_report, urls_channels, urls_opening_reports, urls_openings, views

app_name = "marketing"

urlpatterns = [
    path("", views.CampaignListView.as_view(), name="campaign_list"),
    path("campaigns/new/", views.CampaignEditView.as_view(), name="campaign_create"),
    path("campaigns/<int:pk>/", views.CampaignDetailView.as_view(), name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", views.CampaignEditView.as_view(), name="campaign_edit"),
    path("campaigns/<int:pk>/targets/", views.TargetListView.as_view(), name="target_list"),
    path("campaigns/<int:pk>/export/", views.CampaignExportView.as_view(), name="campaign_export"),
    path("campaigns/<int:pk>/<slug:action>/", views.CampaignActionView.as_view(), name="campaign_action"),
    path("targets/", views.MyTargetsView.as_view(), name="my_targets"),
    path("targets/<int:pk>/", views.TargetDetailView.as_view(), name="target_detail"),
    path("targets/<int:pk>/contact/", views.ContactLogView.as_view(), name="log_contact"),
    path("targets/<int:pk>/opportunity/", views.TargetOpportunityView.as_view(), name="target_opportunity"),
    path("segments/", views.SegmentListView.as_view(), name="segment_list"),
    path("segments/new/", views.SegmentEditView.as_view(), name="segment_create"),
    path("segments/preview/", views.SegmentPreviewView.as_view(), name="segment_preview"),
    path("segments/<int:pk>/", views.SegmentEditView.as_view(), name="segment_edit"),
    path("products/", views.ProductListView.as_view(), name="product_list"),
    path("opportunities/", views.OpportunityListView.as_view(), name="opportunity_list"),
    path("opportunities/new/", views.LeadCreateView.as_view(), name="lead_create"),
    path("opportunities/<int:pk>/", views.OpportunityDetailView.as_view(), name="opportunity_detail"),
    path("tasks/", views.TaskListView.as_view(), name="task_list"),
    path("tasks/new/", views.TaskCreateView.as_view(), name="task_create"),
    path("tasks/<int:pk>/", views.TaskDetailView.as_view(), name="task_detail"),
    path("tasks/<int:pk>/issue/", views.TaskIssueView.as_view(), name="task_issue"),
    path("tasks/<int:pk>/export/", views.TaskExportView.as_view(), name="task_export"),
    path("indicators/", views.IndicatorListView.as_view(), name="indicator_list"),
    path("indicators/new/", views.IndicatorEditView.as_view(), name="indicator_create"),
    path("indicators/<int:pk>/", views.IndicatorEditView.as_view(), name="indicator_edit"),
    path("allocations/<int:pk>/decompose/", views.DecomposeView.as_view(), name="decompose"),
    path("allocations/<int:pk>/respond/", views.RespondView.as_view(), name="respond"),
]
urlpatterns += (
    urls_channels.urlpatterns
    + urls_channel_report.urlpatterns
    + urls_openings.urlpatterns
    + urls_opening_reports.urlpatterns
)
