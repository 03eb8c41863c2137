"""Account-opening requests (开户预约): the list, a new request (from an opportunity,
a campaign target or the 360 view), one request with its history, its appointment
and its cancellation, and a branch's week of appointments."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views import View

from core.forms import add_service_errors
from core.listing import Sorting, paginate
from core.views import ScopedView
from customers.masking import mask_name
from customers.permissions import access_customer

from .. import openings, suitability
from ..models import OpeningRequest, Product
from ..opening_forms import AppointmentForm, CancelForm, OpeningFilter, OpeningRequestForm
from ..permissions import access_opportunity, access_target
from ..services import openings as services
from ._common import filtered

SORTING = Sorting(
    {
        "customer": ("customer__customer_no",),
        "product": ("product__name",),
        "branch": ("branch__path",),
        "appointment": ("appointment_at",),
        "recorded": ("created_at",),
        "status": ("status",),
        "manager": ("manager__display_name",),
    },
    default="-recorded",
)


def _named(request: OpeningRequest) -> dict[str, str]:
    return {
        "product": request.product.name,
        "customer": f"{request.customer.customer_no} {mask_name(request.customer.name)}",
    }


class OpeningListView(PermissionRequiredMixin, ScopedView):
    permission_required = "marketing.view_openingrequest"
    queryset = OpeningRequest.objects.all()

    def get(self, request):
        today = timezone.localdate()
        rows = openings.opening_list(user=request.user, requests=self.queryset)
        listing = filtered(request, OpeningFilter, openings.with_overdue(rows, today))
        return render(
            request,
            "marketing/openings/opening_list.html",
            {
                "page_obj": paginate(request, SORTING.apply(request, listing.rows)),
                "sort": SORTING.key(request),
                "filter": listing.filter,
                "overdue_days": openings.overdue_days(),
            },
            status=listing.status,
        )


class CustomerNotFound(Exception):
    """The customer number names nobody in the user's scope."""

    def __init__(self, customer_no: str):
        super().__init__(customer_no)
        self.customer_no = customer_no


def _pk(value: str) -> int | None:
    if not value:
        return None
    if not value.isdigit():
        raise Http404
    return int(value)


class OpeningCreateView(PermissionRequiredMixin, View):
    """A new request of one customer (`?customer=<customer number>`), or of the
    customer of an opportunity (`?opportunity=`) or campaign target (`?target=`),
    pre-filled from it; without a customer, the page asks for the number."""

    permission_required = "marketing.add_openingrequest"

    def source(self, request):
        params = request.POST if request.method == "POST" else request.GET

        def value(key: str) -> str:
            return (params.get(key) or request.GET.get(key) or "").strip()

        user = request.user
        opportunity_pk, target_pk = _pk(value("opportunity")), _pk(value("target"))
        # the product only pre-selects one on the form: a value that names none is ignored
        raw_product = request.GET.get("product", "")
        product_pk = int(raw_product) if raw_product.isdigit() else None
        opportunity = access_opportunity(user, opportunity_pk, for_change=False) if opportunity_pk else None
        target = access_target(user, target_pk, for_change=False) if target_pk else None
        customer_no = value("customer")
        if not customer_no and opportunity is not None:
            customer_no = opportunity.customer.customer_no
        if not customer_no and target is not None:
            customer_no = target.customer.customer_no
        customer = None
        if customer_no:
            try:
                customer = access_customer(user, customer_no, for_change=False)
            except Http404:
                raise CustomerNotFound(customer_no) from None
        product = None
        if product_pk:
            product = Product.objects.filter(pk=product_pk).first()
        elif opportunity is not None:
            product = opportunity.product
        elif target is not None:
            product = target.campaign.products.order_by("category", "code").first()
        return customer, product, opportunity, target

    def page(self, request, form, customer, product, opportunity, target, status=200):
        verdict = suitability.check(customer, product) if customer and product else None
        return render(
            request,
            "marketing/openings/opening_form.html",
            {
                "form": form,
                "customer": customer,
                "product": product,
                "opportunity": opportunity,
                "target": target,
                "suitability": verdict,
            },
            status=status,
        )

    def get(self, request):
        try:
            customer, product, opportunity, target = self.source(request)
        except CustomerNotFound as missing:
            # typed into the page's own form: asked again, with the reason
            context = {"form": None, "customer": None, "customer_no": missing.customer_no}
            context["not_found"] = _("No customer with this number in your scope.")
            return render(request, "marketing/openings/opening_form.html", context, status=404)
        form = None
        if customer is not None:
            initial = {
                "product": product.pk if product else None,
                "branch": customer.home_branch_id,
                "expected_amount": opportunity.expected_amount if opportunity else None,
            }
            form = OpeningRequestForm(initial=initial, user=request.user, customer=customer, product=product)
        return self.page(request, form, customer, product, opportunity, target)

    def post(self, request):
        try:
            customer, product, opportunity, target = self.source(request)
        except CustomerNotFound:
            raise Http404 from None
        if customer is None:
            raise Http404
        form = OpeningRequestForm(request.POST, user=request.user, customer=customer, product=product)
        if form.is_valid():
            data = form.cleaned_data
            try:
                opening = services.opening_request(
                    user=request.user,
                    customer=customer,
                    product=data["product"],
                    channel=data["channel"],
                    branch=data["branch"],
                    appointment_at=data["appointment_at"],
                    expected_amount=data["expected_amount"],
                    note=data["note"],
                    opportunity=opportunity,
                    target=target,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request, _("Account opening requested: %(product)s for %(customer)s.") % _named(opening)
                )
                return redirect("marketing:opening_detail", pk=opening.pk)
            product = form.cleaned_data.get("product") or product
        return self.page(request, form, customer, product, opportunity, target, status=400)


class OpeningDetailView(PermissionRequiredMixin, ScopedView):
    """One request: the customer (masked), product, channel, branch, appointment,
    where it came from, what became of it, its history, and the forms to move its
    appointment or cancel it for those who may."""

    permission_required = "marketing.view_openingrequest"
    access = openings.access_opening

    def page(self, request, opening, appoint_form=None, cancel_form=None, status=200):
        user = request.user
        match_url = ""
        if opening.is_open and user.has_perm("marketing.match_openingrequest"):
            try:
                match_url = reverse("marketing:opening_match", args=[opening.pk])
            except NoReverseMatch:  # the manual match page is not installed
                match_url = ""
        local = timezone.localtime(opening.appointment_at) if opening.appointment_at else None
        return render(
            request,
            "marketing/openings/opening_detail.html",
            {
                "r": opening,
                "history": openings.opening_history(opening),
                "overdue": openings.is_overdue(opening, timezone.localdate()),
                "overdue_days": openings.overdue_days(),
                "can_act": opening.is_open and services.may_act_on(opening, user),
                "appoint_form": appoint_form
                or AppointmentForm(
                    initial={
                        "appointment_date": local.date() if local else None,
                        "appointment_time": local.time() if local else None,
                    }
                ),
                "cancel_form": cancel_form or CancelForm(),
                "match_url": match_url,
            },
            status=status,
        )

    def get(self, request, pk):
        return self.page(request, self.get_object(pk, for_change=False))


class OpeningAppointView(OpeningDetailView):
    http_method_names = ["post"]
    permission_required = "marketing.change_openingrequest"

    def post(self, request, pk):
        opening = self.get_object(pk, for_change=True)
        form = AppointmentForm(request.POST)
        if form.is_valid():
            try:
                services.opening_appoint(
                    opening, user=request.user, appointment_at=form.cleaned_data["appointment_at"]
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                moment = timezone.localtime(form.cleaned_data["appointment_at"]).strftime("%Y-%m-%d %H:%M")
                messages.success(
                    request,
                    _("Appointment of %(customer)s for %(product)s set for %(when)s.")
                    % {**_named(opening), "when": moment},
                )
                return redirect("marketing:opening_detail", pk=pk)
        return self.page(request, opening, appoint_form=form, status=400)


class OpeningCancelView(OpeningDetailView):
    http_method_names = ["post"]
    permission_required = "marketing.change_openingrequest"

    def post(self, request, pk):
        opening = self.get_object(pk, for_change=True)
        form = CancelForm(request.POST)
        if form.is_valid():
            try:
                services.opening_cancel(opening, user=request.user, reason=form.cleaned_data["reason"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Request of %(customer)s for %(product)s cancelled.") % _named(opening),
                )
                return redirect("marketing:opening_detail", pk=pk)
        return self.page(request, opening, cancel_form=form, status=400)


class OpeningCalendarView(PermissionRequiredMixin, ScopedView):
    """A branch's appointments (with the branches below it) for a week, by day:
    `?branch=<branch code>&week=<any day of the week>`; by default the user's own
    branch (or the first of their scope) this week."""

    permission_required = "marketing.view_openingrequest"
    queryset = OpeningRequest.objects.all()

    def get(self, request):
        user = request.user
        branches = list(openings.calendar_branches(user))
        errors = []
        code = request.GET.get("branch", "").strip()
        if code:
            branch = next((b for b in branches if b.code == code), None)
            if branch is None:
                errors.append(_("This branch is not in your scope: choose one of the list."))
        else:
            branch = next((b for b in branches if b.pk == user.branch_id), branches[0] if branches else None)
        raw_week = request.GET.get("week", "").strip()
        try:
            day = parse_date(raw_week) if raw_week else timezone.localdate()
        except ValueError:
            day = None
        if day is None:
            errors.append(_("The week must be a date (YYYY-MM-DD)."))
            day = timezone.localdate()
        monday = openings.week_start(day)
        days = []
        if branch is not None and not errors:
            days = openings.branch_week(user=user, branch=branch, monday=monday, requests=self.queryset)
        return render(
            request,
            "marketing/openings/opening_calendar.html",
            {
                "branches": branches,
                "branch": branch,
                "monday": monday,
                "sunday": monday + datetime.timedelta(days=6),
                "previous": (monday - datetime.timedelta(days=7)).isoformat(),
                "next": (monday + datetime.timedelta(days=7)).isoformat(),
                "this_week": openings.week_start(timezone.localdate()).isoformat(),
                "days": days,
                "today": timezone.localdate(),
                "errors": errors,
            },
            status=400 if errors else 200,
        )
