"""Marketing tasks: the list, a new task, its allocation tree with progress,
issuing it, decomposing a share and answering one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from core.listing import Sorting, paginate
from core.views import ScopedView

from .. import exports, selectors, services
from ..filters import TaskFilter
from ..forms import DecomposeForm, RespondForm, TaskForm
from ..models import MarketingTask
from ..permissions import access_allocation, access_task
from ..progress import is_amount, task_progress
from ._common import filtered, show_errors

SORTING = Sorting(
    {
        "name": ("name",),
        "indicator": ("indicator__name",),
        "period": ("period_start", "period_end"),
        "target": ("target",),
        "status": ("status",),
    },
    default="-period",
)


class TaskListView(PermissionRequiredMixin, ScopedView):
    permission_required = "marketing.view_marketingtask"
    queryset = MarketingTask.objects.select_related("indicator")

    def get(self, request):
        listing = filtered(request, TaskFilter, selectors.task_list(user=request.user, tasks=self.queryset))
        return render(
            request,
            "marketing/task_list.html",
            {
                "page_obj": paginate(request, SORTING.apply(request, listing.rows)),
                "sort": SORTING.key(request),
                "waiting": list(selectors.allocations_waiting_for(request.user)[:20]),
                "respond_form": RespondForm(),
                "filter": listing.filter,
            },
            status=listing.status,
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
                messages.success(
                    request,
                    _("Task “%(name)s” created as a draft: decompose it and issue it when it is ready.")
                    % {"name": task.name},
                )
                return redirect("marketing:task_detail", pk=task.pk)
        return render(request, "marketing/task_form.html", {"form": form}, status=400)


class TaskDetailView(PermissionRequiredMixin, ScopedView):
    """The allocation tree with progress from recorded data against time elapsed."""

    permission_required = "marketing.view_marketingtask"
    access = access_task

    def get(self, request, pk):
        task = self.get_object(pk, for_change=False)
        allocations = selectors.task_allocations(task, user=request.user)
        try:
            progress = task_progress(task, allocations=allocations)
        except ValidationError as exc:
            # the indicator cannot be computed for this period (nothing computes its
            # kind, or its kind only computes whole periods): say so, count nothing
            show_errors(request, exc)
            progress = task_progress(task, allocations=allocations, rows=[])
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
            show_errors(request, exc)
        else:
            messages.success(
                request,
                _("Task “%(name)s” issued: its receivers are asked to accept their shares.")
                % {"name": task.name},
            )
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
                messages.success(
                    request,
                    _("Task “%(name)s” decomposed: each share is sent on.") % {"name": allocation.task.name},
                )
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
                show_errors(request, exc)
            else:
                messages.success(
                    request,
                    (
                        _("Task “%(name)s” accepted.")
                        if form.cleaned_data["decision"] == "accept"
                        else _("Task “%(name)s” declined.")
                    )
                    % {"name": allocation.task.name},
                )
        return redirect("marketing:task_detail", pk=allocation.task_id)
