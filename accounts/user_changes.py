"""A change of an existing user's roles and branch (a client manager made branch
head, moved to another outlet), through a second system administrator.

A system administrator asks for it (`user_change_request`), with a reason; another
one approves or rejects it through the maker-checker service (`USER_CHANGE_FLOW`,
accounts.approvals.decide), never the requester nor the user concerned. Approval
gives the user exactly the new roles (the role groups, as provisioning does) and
the new branch, audited with the values before and after.

What a request must satisfy, checked when it is asked for and again when approved
(the world may have moved in between):
- the account is active, the requester is not the user, and no other change of
  that user is pending;
- at least one role, and something actually changes;
- the branch is open and suits every role (`ROLE_BRANCH_LEVELS`): head-office
  roles work at the head office, a branch head heads a branch, sub-branch or
  outlet, a client manager works at an outlet;
- a user who stops being a client manager, or moves, is nobody's manager of record
  any more. Customers are never moved silently: the change is refused while the
  user still has customers of record, and says where to hand them over.

accounts knows nothing of customers: the app keeping the managers of record
registers how to count a user's customers (`register_customers_of_record`), and the
app with the pages that hand them over registers those (`register_handover_page`),
each from its AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.approvals import ApprovalStatus

from . import services
from .approvals import ApprovalFlow, decide, withdraw
from .audit import Action, audit
from .models import Branch, BranchLevel, User, UserChangeRequest, UserStatus
from .roles import HEAD_OFFICE_ROLES, STAFF_ROLES, Role, role_label
from .scope import ScopeKind, data_scope, visible_branches

REQUEST_PERMISSION = "accounts.request_user_change"
APPROVE_PERMISSION = "accounts.approve_user_change"

# The levels of the org tree each role works at; a user's branch suits all their roles.
ROLE_BRANCH_LEVELS: dict[str, frozenset[int]] = {
    **{role: frozenset({BranchLevel.HEAD_OFFICE}) for role in HEAD_OFFICE_ROLES},
    Role.BRANCH_HEAD: frozenset({BranchLevel.BRANCH, BranchLevel.SUB_BRANCH, BranchLevel.OUTLET}),
    Role.CLIENT_MANAGER: frozenset({BranchLevel.OUTLET}),
}


# --- what the apps above tell accounts ------------------------------------------------


@dataclass(frozen=True)
class HandoverPage:
    """A page where a manager's customers are handed to another manager."""

    label: str | Promise
    url_name: str
    permission: str | None = None


_CUSTOMER_COUNTS: dict[str, Callable[[User], int]] = {}
_HANDOVER_PAGES: dict[str, HandoverPage] = {}


def register_customers_of_record(key: str, count: Callable[[User], int]) -> None:
    """`count(user)`: how many customers the user is manager of record of (one query)."""
    _CUSTOMER_COUNTS[key] = count


def register_handover_page(page: HandoverPage) -> None:
    _HANDOVER_PAGES[page.url_name] = page


def customers_of_record(user: User) -> int:
    return sum(count(user) for count in _CUSTOMER_COUNTS.values())


def handover_pages(viewer: Any) -> list[HandoverPage]:
    """The hand-over pages the viewer may open."""
    return [p for p in _HANDOVER_PAGES.values() if p.permission is None or viewer.has_perm(p.permission)]


# --- the rules ------------------------------------------------------------------------


def roles_text(roles: Iterable[str]) -> str:
    return ", ".join(role_label(role) for role in roles)


def _current_roles(user: User) -> list[str]:
    return sorted(set(user.groups.values_list("name", flat=True)) & set(Role.values))


def _refuse_unless_active(user: User) -> None:
    if user.status != UserStatus.ACTIVE:
        raise ValidationError(
            _("Only an active account's roles or branch can be changed; %(name)s's account is %(status)s.")
            % {"name": user.get_full_name(), "status": user.get_status_display()},
            code="not_active",
        )


def _refuse_unless_branch_suits(roles: list[str], branch: Branch) -> None:
    if not branch.is_active:
        raise ValidationError(
            {"branch": _("%(branch)s is closed.") % {"branch": branch.name}}, code="branch_closed"
        )
    for role in roles:
        levels = ROLE_BRANCH_LEVELS.get(role)
        if levels is not None and branch.level not in levels:
            raise ValidationError(
                {
                    "branch": _("%(role)s: the branch level must be %(levels)s, and %(branch)s is %(level)s.")
                    % {
                        "role": role_label(role),
                        "levels": " / ".join(str(BranchLevel(level).label) for level in sorted(levels)),
                        "branch": branch.name,
                        "level": BranchLevel(branch.level).label,
                    }
                },
                code="branch_unsuitable",
            )


def _refuse_while_customers_of_record(user: User, roles: list[str], branch: Branch) -> None:
    """A user who stops being a client manager, or moves, hands over their
    customers first: they are never moved silently."""
    keeps_book = Role.CLIENT_MANAGER in roles and user.branch_id == branch.pk
    if keeps_book:
        return
    count = customers_of_record(user)
    if count:
        raise ValidationError(
            ngettext(
                "%(name)s is still the manager of record of %(count)d customer. Hand it over to "
                "another manager first (batch reassignment or a transfer), then ask again.",
                "%(name)s is still the manager of record of %(count)d customers. Hand them over to "
                "another manager first (batch reassignment or transfers), then ask again.",
                count,
            )
            % {"name": user.get_full_name(), "count": count},
            code="has_customers",
        )


def _branch_code(branch: Branch | None) -> str | None:
    return branch.code if branch is not None else None


# --- writes ---------------------------------------------------------------------------


@transaction.atomic
def user_change_request(
    *, user: User, roles: Iterable[str], branch: Branch, reason: str, requested_by: User
) -> UserChangeRequest:
    """Ask for `user` to have exactly `roles` at `branch`; it waits for another
    system administrator's approval."""
    if not (requested_by.is_active and requested_by.has_perm(REQUEST_PERMISSION)):
        raise PermissionDenied(_("You may not change users' roles or branch."))
    if requested_by.pk == user.pk:
        raise ValidationError(
            _("You cannot change your own roles or branch; another administrator must ask for it."),
            code="own_account",
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason.")}, code="reason_required")
    roles = sorted(set(roles))
    if not roles:
        raise ValidationError({"roles": _("Choose at least one role.")}, code="no_role")
    unknown = set(roles) - set(Role.values)
    if unknown:
        raise ValidationError(_("Unknown role: %(roles)s") % {"roles": ", ".join(sorted(unknown))})
    # The user's row is the lock: two administrators asking at once queue here.
    user = User.objects.select_for_update(of=("self",)).select_related("branch").get(pk=user.pk)
    _refuse_unless_active(user)
    if UserChangeRequest.objects.filter(user=user, status=ApprovalStatus.PENDING).exists():
        raise ValidationError(
            _("A change of %(name)s's roles or branch is already waiting for approval.")
            % {"name": user.get_full_name()},
            code="already_pending",
        )
    old_roles = _current_roles(user)
    if old_roles == roles and user.branch_id == branch.pk:
        raise ValidationError(
            _("Nothing would change: %(name)s already is %(roles)s at %(branch)s.")
            % {"name": user.get_full_name(), "roles": roles_text(roles), "branch": branch.name},
            code="no_change",
        )
    _refuse_unless_branch_suits(roles, branch)
    _refuse_while_customers_of_record(user, roles, branch)
    change = UserChangeRequest(
        user=user,
        roles=roles,
        branch=branch,
        old_roles=old_roles,
        old_branch=user.branch,
        reason=reason[:200],
        proposed_by=requested_by,
        proposed_at=timezone.now(),
    )
    change.full_clean()
    change.save()
    audit(
        Action.USER_CHANGE_REQUESTED,
        actor=requested_by,
        target=user,
        details={
            "request": change.pk,
            "roles": {"from": old_roles, "to": roles},
            "branch": {"from": _branch_code(user.branch), "to": branch.code},
            "reason": change.reason,
        },
    )
    return change


def _refuse_own_change(change: UserChangeRequest, by: User) -> None:
    if change.user_id == by.pk:
        raise PermissionDenied(_("You cannot decide on a change of your own roles or branch."))


def _apply(change: UserChangeRequest, by: User) -> dict[str, Any]:
    """The approved change takes effect, or is refused if it no longer fits."""
    user = User.objects.select_for_update(of=("self",)).select_related("branch").get(pk=change.user_id)
    _refuse_unless_active(user)
    _refuse_unless_branch_suits(change.roles, change.branch)
    _refuse_while_customers_of_record(user, change.roles, change.branch)
    old_roles, old_branch = _current_roles(user), user.branch
    user.branch = change.branch
    user.is_staff = user.is_superuser or bool(set(change.roles) & STAFF_ROLES)
    user.save(update_fields=["branch", "is_staff"])
    services.user_set_roles(user=user, roles=change.roles)
    return {
        "roles": {"from": old_roles, "to": change.roles},
        "branch": {"from": _branch_code(old_branch), "to": change.branch.code},
    }


def _details(change: UserChangeRequest, decision: str) -> dict[str, Any]:
    return {
        "request": change.pk,
        "roles": {"from": change.old_roles, "to": change.roles},
        "branch": {"from": _branch_code(change.old_branch), "to": change.branch.code},
    }


USER_CHANGE_FLOW: ApprovalFlow[UserChangeRequest] = ApprovalFlow(
    model=UserChangeRequest,
    item=gettext_lazy("change of roles or branch"),
    permission=APPROVE_PERMISSION,
    action={
        ApprovalStatus.APPROVED: Action.USER_CHANGE_APPROVED,
        ApprovalStatus.REJECTED: Action.USER_CHANGE_REJECTED,
        ApprovalStatus.WITHDRAWN: Action.USER_CHANGE_WITHDRAWN,
    },
    on_approve=_apply,
    check=_refuse_own_change,
    details=_details,
    audit_target=lambda change: change.user,
    related=("user", "branch", "old_branch"),
)


def user_change_approve(*, change: UserChangeRequest, approved_by: User) -> UserChangeRequest:
    return decide(USER_CHANGE_FLOW, change, by=approved_by, approve=True)


def user_change_reject(*, change: UserChangeRequest, rejected_by: User, reason: str) -> UserChangeRequest:
    return decide(USER_CHANGE_FLOW, change, by=rejected_by, approve=False, note=reason)


def user_change_withdraw(*, change: UserChangeRequest, by: User) -> UserChangeRequest:
    return withdraw(USER_CHANGE_FLOW, change, by=by)


# --- reads ----------------------------------------------------------------------------


def user_change_list(*, viewer: User, user: User | None = None, pending: bool = True) -> QuerySet:
    """Changes of the users the viewer may see (pending ones by default), newest first."""
    changes = UserChangeRequest.objects.select_related("user", "branch", "old_branch", "proposed_by")
    if data_scope(viewer).kind is not ScopeKind.ALL:
        changes = changes.filter(user__branch__in=visible_branches(viewer))
    if user is not None:
        changes = changes.filter(user=user)
    if pending:
        changes = changes.filter(status=ApprovalStatus.PENDING)
    return changes


def pending_changes(viewer: User) -> QuerySet:
    """Pending changes the viewer could decide: neither asked for by them nor their own."""
    return (
        UserChangeRequest.objects.filter(status=ApprovalStatus.PENDING)
        .exclude(proposed_by=viewer)
        .exclude(user=viewer)
    )


def pending_for(viewer: User) -> int:
    return pending_changes(viewer).count()
