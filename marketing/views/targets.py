"""Campaign targets: a campaign's list, a manager's own open targets, and working
one target (contacts under the policy, opportunities)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.listing import Sorting, paginate
from core.views import ScopedView

from .. import selectors, services, suitability
from ..choices import CampaignStatus, TargetStatus
from ..filters import ON, CampaignTargetFilter, MyTargetFilter
from ..forms import ContactForm, OpportunityForm
from ..models import CampaignTarget
from ..permissions import access_campaign, access_target
from ._common import filtered, opportunity_created

TARGET_SORTING = Sorting(
    {
        "customer_no": ("customer__customer_no",),
        "name": ("customer__name",),
        "branch": ("branch__path", "manager_id"),
        "manager": ("manager__display_name",),
        "status": ("status",),
        "contacts": ("contact_count",),
        "last_contact": ("last_contacted_at",),
    },
    default="branch",
)
MY_TARGET_SORTING = Sorting(
    {
        "campaign": ("campaign__name",),
        "until": ("campaign__end_date", "status"),
        "customer": ("customer__name",),
        "status": ("status",),
        "contacts": ("contact_count",),
    },
    default="until",
)


class TargetListView(PermissionRequiredMixin, ScopedView):
    """A campaign's target list (or its excluded members, with the reason), within
    the user's scope; mobiles masked."""

    permission_required = "marketing.view_campaigntarget"
    queryset = CampaignTarget.objects.all()
    access = access_campaign

    def get(self, request, pk):
        campaign = self.get_object(pk, for_change=False)
        listing = filtered(
            request,
            CampaignTargetFilter,
            selectors.campaign_targets(campaign, user=request.user, targets=self.queryset),
        )
        return render(
            request,
            "marketing/target_list.html",
            {
                "c": campaign,
                "page_obj": paginate(request, TARGET_SORTING.apply(request, listing.rows)),
                "sort": TARGET_SORTING.key(request),
                "excluded": listing.value("excluded") == ON,
                "statuses": TargetStatus.choices,
                "status": listing.value("status"),
                "filter": listing.filter,
            },
            status=listing.status,
        )


class MyTargetsView(PermissionRequiredMixin, ScopedView):
    permission_required = "marketing.add_marketingcontact"
    queryset = CampaignTarget.objects.all()

    def get(self, request):
        targets = selectors.open_targets(user=request.user, targets=self.queryset).select_related(
            "campaign", "customer"
        )
        listing = filtered(request, MyTargetFilter, targets)
        return render(
            request,
            "marketing/my_targets.html",
            {
                "page_obj": paginate(request, MY_TARGET_SORTING.apply(request, listing.rows)),
                "sort": MY_TARGET_SORTING.key(request),
                "filter": listing.filter,
            },
            status=listing.status,
        )


class TargetDetailView(PermissionRequiredMixin, ScopedView):
    """Working a target: the customer (masked), whether each campaign product may be
    offered (and why not), the contact form under the policy, the contact history and
    an opportunity form."""

    permission_required = "marketing.view_campaigntarget"
    access = access_target

    def context(self, request, target, contact_form=None, opportunity_form=None):
        campaign = target.campaign
        products = campaign.products.all()
        return {
            "t": target,
            "c": campaign,
            "customer": target.customer,
            "suitability": [(p, suitability.check(target.customer, p)) for p in products],
            "contacts": selectors.target_contacts(target),
            "contact_form": contact_form or ContactForm(channels=campaign.channels),
            "opportunity_form": opportunity_form or OpportunityForm(products=products),
            "can_work": request.user.has_perm("marketing.add_marketingcontact")
            and campaign.status == CampaignStatus.RUNNING
            and not target.excluded_reason,
        }

    def get(self, request, pk):
        target = self.get_object(pk, for_change=False)
        return render(request, "marketing/target_detail.html", self.context(request, target))


class ContactLogView(TargetDetailView):
    permission_required = "marketing.add_marketingcontact"

    def post(self, request, pk):
        target = self.get_object(pk, for_change=True)
        form = ContactForm(request.POST, channels=target.campaign.channels)
        if form.is_valid():
            try:
                services.contact_log(
                    user=request.user,
                    target=target,
                    channel=form.cleaned_data["channel"],
                    outcome=form.cleaned_data["outcome"],
                    occurred_at=form.cleaned_data["occurred_at"],
                    notes=form.cleaned_data["notes"],
                )
            except ValidationError as exc:
                # refused by the policy (or the flow): the reason is shown, nothing is saved
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    _("Contact with %(name)s logged for campaign “%(campaign)s”.")
                    % {"name": target.customer.name, "campaign": target.campaign.name},
                )
                return redirect("marketing:target_detail", pk=target.pk)
        target = self.get_object(pk, for_change=True)
        return render(
            request,
            "marketing/target_detail.html",
            self.context(request, target, contact_form=form),
            status=400,
        )


class TargetOpportunityView(TargetDetailView):
    permission_required = "marketing.add_opportunity"

    def post(self, request, pk):
        target = self.get_object(pk, for_change=True)
        form = OpportunityForm(request.POST, products=target.campaign.products.all())
        if form.is_valid():
            try:
                opportunity = services.opportunity_create(
                    user=request.user, target=target, **form.cleaned_data
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, opportunity_created(opportunity))
                return redirect("marketing:opportunity_detail", pk=opportunity.pk)
        return render(
            request,
            "marketing/target_detail.html",
            self.context(request, target, opportunity_form=form),
            status=400,
        )
