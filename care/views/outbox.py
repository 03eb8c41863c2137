"""Pages of the outbox (the messages to a manager's customers, a branch head's
subtree) and of a customer's service subscriptions. Thin: the forms check what is
typed, the services write (and check the scope again), the selectors read from
`visible_to(user)`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views import View

from core.forms import add_service_errors
from core.listing import Sorting, paginate
from core.views import ScopedView
from customers.masking import mask_name
from customers.permissions import access_customer

from ..choices import ServiceKind, SubscriptionChannel
from ..forms.outbox import CancelSubscriptionForm, OutboxFilterForm, SubscriptionForm
from ..models import Message
from ..selectors import outbox as selectors
from ..services import subscriptions as services

PAGE = 50
SORTING = Sorting(
    {
        "queued": ("created_at",),
        "customer": ("customer__customer_no", "-created_at"),
        "channel": ("channel", "-created_at"),
        "status": ("status", "-created_at"),
    },
    default="-queued",
)


class OutboxView(PermissionRequiredMixin, ScopedView):
    """Messages to the user's customers, newest first, with their status, what
    held them (until when) or why they were refused; filters by status, channel
    and the day they were queued."""

    permission_required = "care.view_message"
    queryset = Message.objects.all()

    def get(self, request):
        form = OutboxFilterForm(request.GET or None)
        status = 200
        filters: dict = {}
        if form.is_bound:
            if form.is_valid():
                filters = form.cleaned_data
            else:
                status = 400
        rows = selectors.outbox_messages(user=request.user, messages=self.queryset, **filters)
        if status == 400:
            rows = rows.none()
        page = paginate(request, SORTING.apply(request, rows), default_size=PAGE)
        return render(
            request,
            "care/outbox/outbox.html",
            {"form": form, "page_obj": page, "sort": SORTING.key(request)},
            status=status,
        )


class CustomerServicesView(PermissionRequiredMixin, View):
    """A customer's service subscriptions, and the form to record one."""

    permission_required = "care.view_servicesubscription"

    def get(self, request, customer_no, form=None, status=200):
        customer = access_customer(request.user, customer_no, for_change=False)
        can_change = request.user.has_perm("care.add_servicesubscription")
        return render(
            request,
            "care/outbox/services.html",
            {
                "customer": customer,
                "subscriptions": selectors.customer_subscriptions(user=request.user, customer=customer),
                "form": (form or SubscriptionForm()) if can_change else None,
                "cancel_form": CancelSubscriptionForm(),
                "can_change": can_change,
                "can_cancel": request.user.has_perm("care.change_servicesubscription"),
            },
            status=status,
        )

    def post(self, request, customer_no):
        if not request.user.has_perm("care.add_servicesubscription"):
            return self.handle_no_permission()
        customer = access_customer(request.user, customer_no, for_change=False)
        form = SubscriptionForm(request.POST)
        if form.is_valid():
            try:
                services.subscription_add(customer=customer, user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("%(service)s by %(channel)s recorded for %(name)s (%(no)s), with consent of %(date)s.")
                    % {
                        "service": ServiceKind(form.cleaned_data["service"]).label,
                        "channel": SubscriptionChannel(form.cleaned_data["channel"]).label,
                        "name": mask_name(customer.name),
                        "no": customer.customer_no,
                        "date": form.cleaned_data["consent_date"].isoformat(),
                    },
                )
                return redirect("care:customer_services", customer_no=customer.customer_no)
        return self.get(request, customer_no, form=form, status=400)


class SubscriptionCancelView(PermissionRequiredMixin, View):
    permission_required = "care.change_servicesubscription"

    def post(self, request, pk):
        subscription = selectors.access_subscription(request.user, pk, for_change=True)
        form = CancelSubscriptionForm(request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        services.subscription_cancel(subscription=subscription, user=request.user, note=note)
        customer = subscription.customer
        messages.success(
            request,
            _("%(service)s of %(name)s (%(no)s) cancelled: no more messages of it are sent.")
            % {
                "service": subscription.get_service_display(),
                "name": mask_name(customer.name),
                "no": customer.customer_no,
            },
        )
        return redirect("care:customer_services", customer_no=subscription.customer.customer_no)


urlpatterns = [
    path("outbox/", OutboxView.as_view(), name="outbox"),
    path("customers/<str:customer_no>/services/", CustomerServicesView.as_view(), name="customer_services"),
    path("services/<int:pk>/cancel/", SubscriptionCancelView.as_view(), name="service_cancel"),
]
