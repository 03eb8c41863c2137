from django.urls import path

from .views.save_list import SaveListView

urlpatterns = [
    path("save-list/", SaveListView.as_view(), name="save_list"),
]
