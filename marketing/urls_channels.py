"""The URLs of the channels pages (included by marketing/urls.py)."""

from django.urls import path

from .views import channels

urlpatterns: list = [
    path("channels/", channels.ChannelListView.as_view(), name="channel_list"),
    path("channels/new/", channels.ChannelEditView.as_view(), name="channel_create"),
    path("channels/<int:pk>/", channels.ChannelEditView.as_view(), name="channel_edit"),
    path("channels/<int:pk>/switch/", channels.ChannelSwitchView.as_view(), name="channel_switch"),
]
