"""/customers/employers/...: included by customers/urls.py (namespace "customers")."""

from django.urls import path

from . import employer_views

urlpatterns = [
    path("", employer_views.EmployerListView.as_view(), name="employer_list"),
    path("new/", employer_views.EmployerCreateView.as_view(), name="employer_create"),
    path("<int:pk>/", employer_views.EmployerDetailView.as_view(), name="employer_detail"),
    path("<int:pk>/edit/", employer_views.EmployerEditView.as_view(), name="employer_edit"),
    path("<int:pk>/employees/", employer_views.PayrollLinkView.as_view(), name="payroll_link"),
    path("payroll/<int:pk>/end/", employer_views.PayrollEndView.as_view(), name="payroll_end"),
]
