"""Campaigns: the list, the draft's form, the dashboard and each step of the flow."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.listing import Sorting, paginate
from core.views import ScopedView

from .. import exports, selectors, services
from ..choices import CampaignStatus
from ..filters import CampaignFilter
from ..forms import CampaignForm, CommentForm, EvaluateForm
from ..models import Campaign
from ..permissions import access_campaign
from ..segment_words import describe, rule_names
from ._common import filtered, show_errors

SORTING = Sorting(
    {
        "name": ("name",),
        "status": ("status",),
        "dates": ("start_date", "end_date"),
        "targets": ("target_count",),
        "budget": ("budget",),
    },
    default="-dates",
)


class CampaignListView(PermissionRequiredMixin, ScopedView):
    permission_required = "marketing.view_campaign"
    queryset = Campaign.objects.all()

    def get(self, request):
        listing = filtered(
            request, CampaignFilter, selectors.campaign_list(user=request.user, campaigns=self.queryset)
        )
        return render(
            request,
            "marketing/campaign_list.html",
            {
                "page_obj": paginate(request, SORTING.apply(request, listing.rows)),
                "sort": SORTING.key(request),
                "statuses": CampaignStatus.choices,
                "status": listing.value("status"),
                "filter": listing.filter,
            },
            status=listing.status,
        )


class CampaignEditView(PermissionRequiredMixin, ScopedView):
    permission_required = "marketing.add_campaign"
    access = access_campaign

    def _form(self, request, data=None, initial=None, campaign=None):
        return CampaignForm(
            data,
            initial=initial,
            segments=selectors.segment_list(user=request.user),
            kept_channels=campaign.channels if campaign else [],
        )

    def get(self, request, pk=None):
        campaign = self.get_object(pk, for_change=True) if pk else None
        initial = None
        if campaign:
            initial = {f: getattr(campaign, f) for f in services.EDITABLE_CAMPAIGN_FIELDS}
            initial["products"] = list(campaign.products.all())
        return render(
            request,
            "marketing/campaign_form.html",
            {"form": self._form(request, initial=initial, campaign=campaign), "campaign": campaign},
        )

    def post(self, request, pk=None):
        campaign = self.get_object(pk, for_change=True) if pk else None
        form = self._form(request, request.POST, campaign=campaign)
        if form.is_valid():
            data = dict(form.cleaned_data)
            products = data.pop("products")
            try:
                if campaign:
                    campaign = services.campaign_update(
                        campaign=campaign, user=request.user, products=products, **data
                    )
                else:
                    campaign = services.campaign_create(user=request.user, products=products, **data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Campaign “%(name)s” saved.") % {"name": campaign.name})
                return redirect("marketing:campaign_detail", pk=campaign.pk)
        return render(
            request, "marketing/campaign_form.html", {"form": form, "campaign": campaign}, status=400
        )


class CampaignDetailView(PermissionRequiredMixin, ScopedView):
    permission_required = "marketing.view_campaign"
    access = access_campaign

    def get(self, request, pk):
        campaign = self.get_object(pk, for_change=False)
        funnel = selectors.campaign_funnel(campaign, user=request.user)
        # the rules its targets were chosen by (frozen at the start), else its segment's
        rules = campaign.frozen_rules or (campaign.segment.rules if campaign.segment else None)
        return render(
            request,
            "marketing/campaign_detail.html",
            {
                "c": campaign,
                "funnel": funnel,
                "comment_form": CommentForm(),
                "evaluate_form": EvaluateForm(),
                "by_branch": selectors.campaign_breakdown(campaign, user=request.user, by="branch"),
                "by_manager": selectors.campaign_breakdown(campaign, user=request.user, by="manager"),
                "chart": exports.funnel_chart(funnel),
                "segment_words": describe(rules, rule_names([rules])) if rules is not None else "",
            },
        )


# What each step of the flow did, said of the campaign it did it to.
ACTION_DONE = {
    "submit": gettext_lazy(
        "Campaign “%(name)s” submitted for approval; waiting for another business manager to decide."
    ),
    "approve": gettext_lazy("Campaign “%(name)s” approved: it can start from %(start)s."),
    "reject": gettext_lazy("Campaign “%(name)s” rejected and sent back to %(proposer)s."),
    "revise": gettext_lazy("Campaign “%(name)s” is a draft again: change it and submit it anew."),
    "start": gettext_lazy(
        "Campaign “%(name)s” started: %(targets)s customers to contact, %(excluded)s excluded."
    ),
    "close": gettext_lazy("Campaign “%(name)s” closed: it takes no more contacts."),
    "evaluate": gettext_lazy("Campaign “%(name)s” evaluated: its results are kept."),
}


def action_done(action: str, campaign: Campaign) -> str:
    """The message saying what `action` did to `campaign`."""
    proposer = campaign.proposed_by
    return ACTION_DONE[action] % {
        "name": campaign.name,
        "start": campaign.start_date.isoformat(),
        "proposer": proposer.get_full_name() if proposer else "—",
        "targets": campaign.target_count,
        "excluded": campaign.excluded_count,
    }


class CampaignActionView(PermissionRequiredMixin, ScopedView):
    """One step of the flow; the service decides whether it is allowed now."""

    permission_required = "marketing.view_campaign"
    access = access_campaign
    ACTIONS = {
        "submit": lambda c, u, f: services.campaign_submit(campaign=c, user=u),
        "approve": lambda c, u, f: services.campaign_approve(
            campaign=c, user=u, comment=f.get("comment", "")
        ),
        "reject": lambda c, u, f: services.campaign_reject(campaign=c, user=u, comment=f.get("comment", "")),
        "revise": lambda c, u, f: services.campaign_revise(campaign=c, user=u),
        "start": lambda c, u, f: services.campaign_start(campaign=c, user=u),
        "close": lambda c, u, f: services.campaign_close(campaign=c, user=u),
        "evaluate": lambda c, u, f: services.campaign_evaluate(
            campaign=c, user=u, evaluation=f.get("evaluation", ""), actual_cost=f.get("actual_cost")
        ),
    }

    def post(self, request, pk, action):
        if action not in self.ACTIONS:
            raise Http404
        campaign = self.get_object(pk, for_change=True)
        form = EvaluateForm(request.POST) if action == "evaluate" else CommentForm(request.POST)
        data = form.cleaned_data if form.is_valid() else {}
        if action == "evaluate" and not form.is_valid():
            for errors in form.errors.values():
                for e in errors:
                    messages.error(request, e)
            return redirect("marketing:campaign_detail", pk=campaign.pk)
        try:
            campaign = self.ACTIONS[action](campaign, request.user, data)
        except ValidationError as exc:
            show_errors(request, exc)
        else:
            messages.success(request, action_done(action, campaign))
        return redirect("marketing:campaign_detail", pk=campaign.pk)
