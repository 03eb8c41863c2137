"""Marketing pages. Thin: forms validate input, services write, selectors read.
Every page is a `core.views.ScopedView`: it fetches one object through an
`access_<thing>` (`marketing.permissions`, `access_customer`) or narrows its list to
`visible_to(user)`; an object outside the user's scope is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from accounts.audit import Action, audit, client_ip
from core.views import ScopedView
from customers.permissions import access_customer

from . import exports, selectors, services, suitability
from .choices import CampaignStatus, TargetStatus
from .forms import (
    CampaignForm,
    CommentForm,
    ContactForm,
    DecomposeForm,
    EvaluateForm,
    LeadForm,
    OpportunityForm,
    RespondForm,
    SegmentForm,
    SegmentPreviewForm,
    StageForm,
    TaskForm,
    WinForm,
)
from .models import Campaign, CampaignTarget, MarketingTask, Opportunity, Segment
from .permissions import (
    access_allocation,
    access_campaign,
    access_opportunity,
    access_segment,
    access_target,
    access_task,
)
from .progress import is_amount, task_progress

PAGE = 50


def _errors(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _page(request, queryset):
    return Paginator(queryset, PAGE).get_page(request.GET.get("page"))


# --- products -------------------------------------------------------------------------------


class ProductListView(PermissionRequiredMixin, View):
    permission_required = "marketing.view_product"

    def get(self, request):
        on_sale = request.GET.get("on_sale") == "1"
        return render(
            request,
            "marketing/product_list.html",
            {
                "products": selectors.product_list(on_sale_only=on_sale),
                "on_sale": on_sale,
                "today": timezone.localdate(),
            },
        )


# --- segments -------------------------------------------------------------------------------


class SegmentListView(PermissionRequiredMixin, ScopedView):
    permission_required = "marketing.view_segment"
    queryset = Segment.objects.all()

    def get(self, request):
        segments = selectors.segment_list(user=request.user, segments=self.queryset)
        return render(request, "marketing/segment_list.html", {"segments": segments})


class SegmentEditView(PermissionRequiredMixin, ScopedView):
    """Build or change a segment; the count and a sample update live (htmx) as the
    rules change."""

    permission_required = "marketing.add_segment"
    access = access_segment

    def get(self, request, pk=None):
        segment = self.get_object(pk, for_change=False) if pk is not None else None
        form = SegmentForm(initial=SegmentForm.initial_for(segment) if segment else None)
        preview = selectors.segment_preview(segment.rules, user=request.user) if segment else None
        return render(
            request, "marketing/segment_form.html", {"form": form, "segment": segment, "preview": preview}
        )

    def post(self, request, pk=None):
        segment = self.get_object(pk, for_change=True) if pk is not None else None
        form = SegmentForm(request.POST)
        if form.is_valid():
            segment = services.segment_save(
                user=request.user,
                segment=segment,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                rules=form.rules(),
            )
            messages.success(request, _("Segment saved."))
            return redirect("marketing:segment_edit", pk=segment.pk)
        return render(request, "marketing/segment_form.html", {"form": form, "segment": segment}, status=400)


class SegmentPreviewView(PermissionRequiredMixin, View):
    """The live count and sample of the rules being edited (an htmx partial)."""

    permission_required = "marketing.view_segment"

    def post(self, request):
        form = SegmentPreviewForm(request.POST)
        if not form.is_valid():
            return render(request, "marketing/partials/_segment_preview.html", {"form": form}, status=400)
        preview = selectors.segment_preview(form.rules(), user=request.user)
        return render(request, "marketing/partials/_segment_preview.html", {"preview": preview})


# --- campaigns ------------------------------------------------------------------------------


class CampaignListView(PermissionRequiredMixin, ScopedView):
    permission_required = "marketing.view_campaign"
    queryset = Campaign.objects.all()

    def get(self, request):
        status = request.GET.get("status", "")
        campaigns = selectors.campaign_list(
            user=request.user,
            status=status if status in CampaignStatus.values else "",
            campaigns=self.queryset,
        )
        return render(
            request,
            "marketing/campaign_list.html",
            {"page_obj": _page(request, campaigns), "statuses": CampaignStatus.choices, "status": status},
        )


class CampaignEditView(PermissionRequiredMixin, ScopedView):
    permission_required = "marketing.add_campaign"
    access = access_campaign

    def _form(self, request, data=None, initial=None):
        return CampaignForm(data, initial=initial, segments=selectors.segment_list(user=request.user))

    def get(self, request, pk=None):
        campaign = self.get_object(pk, for_change=True) if pk else None
        initial = None
        if campaign:
            initial = {f: getattr(campaign, f) for f in services.EDITABLE_CAMPAIGN_FIELDS}
            initial["products"] = list(campaign.products.all())
        return render(
            request,
            "marketing/campaign_form.html",
            {"form": self._form(request, initial=initial), "campaign": campaign},
        )

    def post(self, request, pk=None):
        campaign = self.get_object(pk, for_change=True) if pk else None
        form = self._form(request, request.POST)
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
                messages.success(request, _("Campaign saved."))
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
            },
        )


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
            self.ACTIONS[action](campaign, request.user, data)
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("Done."))
        return redirect("marketing:campaign_detail", pk=campaign.pk)


class TargetListView(PermissionRequiredMixin, ScopedView):
    """A campaign's target list (or its excluded members, with the reason), within
    the user's scope; mobiles masked."""

    permission_required = "marketing.view_campaigntarget"
    queryset = CampaignTarget.objects.all()
    access = access_campaign

    def get(self, request, pk):
        campaign = self.get_object(pk, for_change=False)
        excluded = request.GET.get("excluded") == "1"
        status = request.GET.get("status", "")
        targets = selectors.campaign_targets(
            campaign,
            user=request.user,
            excluded=excluded,
            status=status if status in TargetStatus.values else "",
            targets=self.queryset,
        )
        return render(
            request,
            "marketing/target_list.html",
            {
                "c": campaign,
                "page_obj": _page(request, targets),
                "excluded": excluded,
                "statuses": TargetStatus.choices,
                "status": status,
            },
        )


class MyTargetsView(PermissionRequiredMixin, ScopedView):
    permission_required = "marketing.add_marketingcontact"
    queryset = CampaignTarget.objects.all()

    def get(self, request):
        targets = (
            selectors.open_targets(user=request.user, targets=self.queryset)
            .select_related("campaign", "customer")
            .order_by("campaign__end_date", "status", "id")
        )
        return render(request, "marketing/my_targets.html", {"page_obj": _page(request, targets)})


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
                messages.success(request, _("Contact logged."))
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
                messages.success(request, _("Opportunity created."))
                return redirect("marketing:opportunity_detail", pk=opportunity.pk)
        return render(
            request,
            "marketing/target_detail.html",
            self.context(request, target, opportunity_form=form),
            status=400,
        )


class CampaignExportView(PermissionRequiredMixin, ScopedView):
    permission_required = "marketing.export_marketing"
    access = access_campaign

    def get(self, request, pk):
        campaign = self.get_object(pk, for_change=False)
        data = exports.campaign_workbook(campaign, user=request.user)
        audit(
            Action.EXPORT,
            actor=request.user,
            ip=client_ip(request),
            target=campaign,
            details={"export": "campaign_dashboard", "campaign": campaign.pk},
        )
        return _xlsx(data, f"campaign-{campaign.pk}.xlsx")


def _xlsx(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=exports.XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- opportunities --------------------------------------------------------------------------


class OpportunityListView(PermissionRequiredMixin, ScopedView):
    permission_required = "marketing.view_opportunity"
    queryset = Opportunity.objects.all()

    def get(self, request):
        open_only = request.GET.get("all") != "1"
        opportunities = selectors.opportunity_list(
            user=request.user, open_only=open_only, opportunities=self.queryset
        )
        return render(
            request,
            "marketing/opportunity_list.html",
            {"page_obj": _page(request, opportunities), "open_only": open_only},
        )


class LeadCreateView(PermissionRequiredMixin, View):
    permission_required = "marketing.add_opportunity"

    def get(self, request):
        return render(request, "marketing/lead_form.html", {"form": LeadForm(initial=request.GET or None)})

    def post(self, request):
        form = LeadForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                customer = access_customer(request.user, data.pop("customer_no"), for_change=True)
                opportunity = services.opportunity_create(user=request.user, customer=customer, **data)
            except Http404:
                form.add_error("customer_no", _("No customer with this number in your scope."))
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Opportunity created."))
                return redirect("marketing:opportunity_detail", pk=opportunity.pk)
        return render(request, "marketing/lead_form.html", {"form": form}, status=400)


class OpportunityDetailView(PermissionRequiredMixin, ScopedView):
    permission_required = "marketing.view_opportunity"
    access = access_opportunity

    def get(self, request, pk, stage_form=None, win_form=None, status=200):
        opportunity = self.get_object(pk, for_change=False)
        return render(
            request,
            "marketing/opportunity_detail.html",
            {
                "o": opportunity,
                "suitability": suitability.check(opportunity.customer, opportunity.product),
                "stage_form": stage_form or StageForm(initial={"stage": opportunity.stage}),
                "win_form": win_form
                or WinForm(
                    initial={"amount": opportunity.expected_amount, "sale_date": timezone.localdate()}
                ),
                "can_change": request.user.has_perm("marketing.change_opportunity"),
            },
            status=status,
        )

    def post(self, request, pk):
        opportunity = self.get_object(pk, for_change=True)
        if "amount" in request.POST:
            form = WinForm(request.POST)
            if form.is_valid():
                try:
                    services.opportunity_win(opportunity=opportunity, user=request.user, **form.cleaned_data)
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    messages.success(request, _("Won: the sale is recorded."))
                    return redirect("marketing:opportunity_detail", pk=pk)
            return self.get(request, pk, win_form=form, status=400)
        form = StageForm(request.POST)
        if form.is_valid():
            try:
                services.opportunity_advance(
                    opportunity=opportunity, user=request.user, stage=form.cleaned_data["stage"]
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect("marketing:opportunity_detail", pk=pk)
        return self.get(request, pk, stage_form=form, status=400)


# --- marketing tasks --------------------------------------------------------------------------


class TaskListView(PermissionRequiredMixin, ScopedView):
    permission_required = "marketing.view_marketingtask"
    queryset = MarketingTask.objects.all()

    def get(self, request):
        return render(
            request,
            "marketing/task_list.html",
            {
                "page_obj": _page(request, selectors.task_list(user=request.user, tasks=self.queryset)),
                "waiting": list(selectors.allocations_waiting_for(request.user)[:20]),
                "respond_form": RespondForm(),
            },
        )


class TaskCreateView(PermissionRequiredMixin, View):
    permission_required = "marketing.add_marketingtask"

    def get(self, request):
        return render(request, "marketing/task_form.html", {"form": TaskForm()})

    def post(self, request):
        form = TaskForm(request.POST)
        if form.is_valid():
            try:
                task = services.task_create(user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect("marketing:task_detail", pk=task.pk)
        return render(request, "marketing/task_form.html", {"form": form}, status=400)


class TaskDetailView(PermissionRequiredMixin, ScopedView):
    """The allocation tree with progress from recorded data against time elapsed."""

    permission_required = "marketing.view_marketingtask"
    access = access_task

    def get(self, request, pk):
        task = self.get_object(pk, for_change=False)
        progress = task_progress(task, allocations=selectors.task_allocations(task, user=request.user))
        return render(
            request,
            "marketing/task_detail.html",
            {
                "task": task,
                "progress": progress,
                "amount": is_amount(task),
                "decomposable": {
                    p.allocation.pk for p in progress if services.may_decompose(request.user, p.allocation)
                },
                "respondable": {
                    p.allocation.pk
                    for p in progress
                    if p.allocation.parent_id
                    and p.allocation.status == "pending"
                    and services.holds_allocation(request.user, p.allocation)
                },
                "respond_form": RespondForm(),
                "chart": exports.task_chart(progress),
            },
        )


class TaskIssueView(PermissionRequiredMixin, ScopedView):
    permission_required = "marketing.add_marketingtask"
    access = access_task

    def post(self, request, pk):
        task = self.get_object(pk, for_change=True)
        try:
            services.task_issue(task=task, user=request.user)
        except ValidationError as exc:
            _errors(request, exc)
        return redirect("marketing:task_detail", pk=pk)


class DecomposeView(PermissionRequiredMixin, ScopedView):
    permission_required = "marketing.decompose_marketingtask"
    access = access_allocation

    def _form(self, allocation, data=None):
        branches, managers = services.decomposable_receivers(allocation)
        initial = {
            (f"b{a.branch_id}" if a.branch_id else f"m{a.manager_id}"): a.target
            for a in allocation.children.all()
        }
        return DecomposeForm(data, branches=branches, managers=managers, initial_shares=initial)

    def get(self, request, pk):
        allocation = self.get_object(pk, for_change=True)
        if not services.may_decompose(request.user, allocation):
            raise PermissionDenied
        return render(request, "marketing/decompose.html", {"a": allocation, "form": self._form(allocation)})

    def post(self, request, pk):
        allocation = self.get_object(pk, for_change=True)
        form = self._form(allocation, request.POST)
        if form.is_valid():
            try:
                services.task_decompose(allocation=allocation, user=request.user, shares=form.shares())
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Task decomposed."))
                return redirect("marketing:task_detail", pk=allocation.task_id)
        return render(request, "marketing/decompose.html", {"a": allocation, "form": form}, status=400)


class RespondView(PermissionRequiredMixin, ScopedView):
    permission_required = "marketing.respond_marketingtask"
    access = access_allocation

    def post(self, request, pk):
        allocation = self.get_object(pk, for_change=True)
        form = RespondForm(request.POST)
        if form.is_valid():
            try:
                services.allocation_respond(
                    allocation=allocation,
                    user=request.user,
                    accept=form.cleaned_data["decision"] == "accept",
                    comment=form.cleaned_data["comment"],
                )
            except ValidationError as exc:
                _errors(request, exc)
            else:
                messages.success(request, _("Answer recorded."))
        return redirect("marketing:task_detail", pk=allocation.task_id)


class TaskExportView(PermissionRequiredMixin, ScopedView):
    permission_required = "marketing.export_marketing"
    access = access_task

    def get(self, request, pk):
        task = self.get_object(pk, for_change=False)
        progress = task_progress(task, allocations=selectors.task_allocations(task, user=request.user))
        data = exports.task_workbook(task, progress)
        audit(
            Action.EXPORT,
            actor=request.user,
            ip=client_ip(request),
            target=task,
            details={"export": "task_progress"},
        )
        return _xlsx(data, f"task-{task.pk}.xlsx")
