from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST
from django.views.generic import FormView, ListView

from . import selectors, services
from .audit import Action, audit
from .forms import LoginForm, ReasonForm, UserFilterForm, UserRequestForm
from .models import User, UserStatus
from .roles import role_label
from .scope import visible_branches
from .user_change_views import detail_context as user_change_context


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.user
        if user.must_change_password:
            User.objects.filter(pk=user.pk).update(must_change_password=False)
        audit(Action.PASSWORD_CHANGED, actor=user, target=user, request=self.request)
        messages.success(self.request, _("Your password has been changed."))
        return response


def user_visible_or_404(viewer: User, pk: int) -> User:
    """A user outside the viewer's scope does not exist for them."""
    try:
        return selectors.user_list(viewer=viewer).get(pk=pk)
    except User.DoesNotExist:
        raise Http404 from None


class UserListView(PermissionRequiredMixin, ListView):
    permission_required = "accounts.view_user"
    template_name = "accounts/user_list.html"
    paginate_by = 25
    context_object_name = "users"

    def get_queryset(self):
        self.filter_form = UserFilterForm(self.request.GET or None)
        filters = self.filter_form.cleaned_data if self.filter_form.is_valid() else {}
        return selectors.user_list(viewer=self.request.user, **filters)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter_form"] = self.filter_form
        context["pending_count"] = selectors.user_list(
            viewer=self.request.user, status=UserStatus.PENDING
        ).count()
        return context


class UserRequestView(PermissionRequiredMixin, FormView):
    permission_required = "accounts.request_user"
    template_name = "accounts/user_request.html"
    form_class = UserRequestForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["branches"] = visible_branches(self.request.user)
        return kwargs

    def form_valid(self, form):
        try:
            user = services.user_request(requested_by=self.request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Account %(username)s requested; it needs another person's approval.")
            % {"username": user.username},
        )
        return redirect("accounts:user_detail", pk=user.pk)


class UserDetailView(PermissionRequiredMixin, View):
    permission_required = "accounts.view_user"

    def get(self, request, pk):
        user = user_visible_or_404(request.user, pk)
        return render(
            request,
            "accounts/user_detail.html",
            {
                "subject": user,
                "roles": [role_label(g.name) for g in user.groups.all()],
                "reason_form": ReasonForm(),
                "can_approve": user.status == UserStatus.PENDING
                and request.user.has_perm("accounts.approve_user")
                and not user.is_proposed_by(request.user),
                "can_disable": user.status != UserStatus.DISABLED
                and request.user.has_perm("accounts.disable_user")
                and user.pk != request.user.pk,
                "can_reactivate": user.status in (UserStatus.DISABLED, UserStatus.REJECTED)
                and request.user.has_perm("accounts.request_user"),
                **user_change_context(request, user),
            },
        )


@method_decorator(require_POST, name="dispatch")
class UserActionView(View):
    """approve / reject / disable / reactivate: each a service call; the service
    checks the permission and the state, the view only reports."""

    action = ""

    def post(self, request, pk):
        subject = user_visible_or_404(request.user, pk)
        form = ReasonForm(request.POST)
        reason = form.data.get("reason", "")
        try:
            if self.action == "approve":
                services.user_approve(user=subject, approved_by=request.user)
                messages.success(request, _("Account approved."))
            elif self.action == "reject":
                services.user_reject(user=subject, rejected_by=request.user, reason=reason)
                messages.success(request, _("Account rejected."))
            elif self.action == "disable":
                services.user_disable(user=subject, disabled_by=request.user, reason=reason)
                messages.success(request, _("Account disabled; its sessions have ended."))
            elif self.action == "reactivate":
                services.user_request_reactivation(user=subject, requested_by=request.user)
                messages.success(request, _("Reactivation requested; it needs approval."))
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        return redirect(reverse("accounts:user_detail", args=[pk]))
