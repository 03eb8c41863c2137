"""Writes about users and the org tree. Each runs in one transaction and writes its
audit event in it."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.authtoken.models import Token

from core.approvals import ApprovalStatus

from .approvals import ApprovalFlow, decide
from .audit import Action, audit
from .models import Branch, BranchLevel, User, UserSession, UserStatus
from .roles import STAFF_ROLES, Role


def _session_store() -> type[SessionBase]:
    from django.conf import settings

    return import_string(f"{settings.SESSION_ENGINE}.SessionStore")


def branch_create(*, code: str, name: str, level: int, parent: Branch | None) -> Branch:
    if parent is not None and level != parent.level + 1:
        raise ValidationError(_("A branch sits exactly one level below its parent."))
    if parent is None and level != BranchLevel.HEAD_OFFICE:
        raise ValidationError(_("Only the head office has no parent."))
    branch = Branch(code=code, name=name, level=level, parent=parent)
    branch.full_clean(exclude=["path"])
    branch.save()
    return branch


@transaction.atomic
def user_request(
    *,
    requested_by: User | None,
    username: str,
    employee_no: str,
    display_name: str,
    branch: Branch,
    roles: Iterable[str],
    password: str,
    email: str = "",
    mobile: str = "",
) -> User:
    """An account is requested: it exists, pending, and cannot log in until another
    authorised person approves it."""
    roles = sorted(set(roles))
    unknown = set(roles) - set(Role.values)
    if unknown:
        raise ValidationError(_("Unknown role: %(roles)s") % {"roles": ", ".join(unknown)})
    user = User(
        username=username,
        employee_no=employee_no,
        display_name=display_name,
        branch=branch,
        email=email,
        mobile=mobile,
        status=UserStatus.PENDING,
        is_active=False,
        is_staff=bool(set(roles) & STAFF_ROLES),
        proposed_by=requested_by,
        proposed_at=timezone.now(),
        must_change_password=True,
    )
    validate_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    user.groups.set(Group.objects.filter(name__in=roles))
    audit(
        Action.USER_REQUESTED,
        actor=requested_by,
        target=user,
        details={"roles": roles, "branch": branch.code},
    )
    return user


def _lock(user: User) -> User:
    return User.objects.select_for_update().get(pk=user.pk)


def _activate(user: User, by: User) -> None:
    user.is_active = True
    user.status_reason = ""


def _keep_out(user: User, by: User) -> None:
    user.is_active = False
    user.status_reason = user.decision_note[:200]


# Maker-checker on account requests: whoever requested an account, and the
# account's own user, cannot decide on it.
USER_FLOW: ApprovalFlow[User] = ApprovalFlow(
    model=User,
    item=gettext_lazy("user account"),
    permission="accounts.approve_user",
    action={ApprovalStatus.APPROVED: Action.USER_APPROVED, ApprovalStatus.REJECTED: Action.USER_REJECTED},
    on_approve=_activate,
    on_reject=_keep_out,
    row_fields=("is_active", "status_reason"),
)


def user_approve(*, user: User, approved_by: User) -> User:
    """The account becomes active: its user can log in."""
    return decide(USER_FLOW, user, by=approved_by, approve=True)


def user_reject(*, user: User, rejected_by: User, reason: str) -> User:
    return decide(USER_FLOW, user, by=rejected_by, approve=False, note=reason)


@transaction.atomic
def user_disable(*, user: User, disabled_by: User | None, reason: str) -> User:
    """The person has left or must be stopped: the account stops working at once,
    every open session ends and API tokens are revoked."""
    if disabled_by is not None and not disabled_by.has_perm("accounts.disable_user"):
        raise PermissionDenied(_("You may not disable user accounts."))
    if not reason.strip():
        raise ValidationError(_("Give a reason."))
    if disabled_by is not None and disabled_by.pk == user.pk:
        raise ValidationError(_("You cannot disable your own account."))
    user = _lock(user)
    if user.status == UserStatus.DISABLED:
        return user
    user.status = UserStatus.DISABLED
    user.is_active = False
    user.disabled_at = timezone.now()
    user.status_reason = reason[:200]
    user.save(update_fields=["status", "is_active", "disabled_at", "status_reason"])
    ended = user_end_sessions(user=user)
    Token.objects.filter(user=user).delete()
    audit(
        Action.USER_DISABLED,
        actor=disabled_by,
        target=user,
        details={"reason": reason, "sessions_ended": ended},
    )
    return user


@transaction.atomic
def user_request_reactivation(*, user: User, requested_by: User) -> User:
    """A disabled or rejected account comes back only through approval again."""
    if not requested_by.has_perm("accounts.request_user"):
        raise PermissionDenied(_("You may not request user accounts."))
    user = _lock(user)
    if user.status not in (UserStatus.DISABLED, UserStatus.REJECTED):
        raise ValidationError(_("Only a disabled or rejected account can be reactivated."))
    user.status = UserStatus.PENDING
    user.proposed_by, user.proposed_at = requested_by, timezone.now()
    user.decided_by, user.decided_at, user.decision_note = None, None, ""
    user.save(
        update_fields=["status", "proposed_by", "proposed_at", "decided_by", "decided_at", "decision_note"]
    )
    audit(Action.USER_REACTIVATION_REQUESTED, actor=requested_by, target=user)
    return user


def user_end_sessions(*, user: User) -> int:
    """End every server-side session of the user, on whichever process made it."""
    store = _session_store()
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    UserSession.objects.filter(user=user).delete()
    return len(keys)


def user_session_started(*, user: User, session_key: str, ip: str | None) -> None:
    UserSession.objects.update_or_create(session_key=session_key, defaults={"user": user, "ip": ip})


def user_session_ended(*, session_key: str | None) -> None:
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


@transaction.atomic
def api_token_issue(*, user: User, issued_by: User | None = None) -> str:
    """A new token for a system client or user (the old one stops working)."""
    if not user.is_active:
        raise ValidationError(_("The user is not active."))
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    audit(Action.TOKEN_ISSUED, actor=issued_by, target=user)
    return token.key


@transaction.atomic
def user_provision(
    *,
    username: str,
    employee_no: str,
    display_name: str,
    branch: Branch,
    roles: Iterable[str],
    password: str,
    source: str,
) -> User:
    """Create or refresh an active account without the approval step. Only for
    bootstrapping from the command line (demo data, the first administrator);
    audited with its source. Idempotent."""
    roles = sorted(set(roles))
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"employee_no": employee_no, "display_name": display_name, "branch": branch},
    )
    user.employee_no = employee_no
    user.display_name = display_name
    user.branch = branch
    user.status = UserStatus.ACTIVE
    user.is_active = True
    user.is_staff = bool(set(roles) & STAFF_ROLES)
    user.must_change_password = False
    if created or not user.check_password(password):
        user.set_password(password)
    user.save()
    user_set_roles(user=user, roles=roles)
    if created:
        audit(
            Action.USER_APPROVED,
            target=user,
            details={"provisioned_by": source, "roles": roles, "branch": branch.code},
        )
    return user


def user_set_roles(*, user: User, roles: Iterable[str]) -> None:
    """Make the user's role groups exactly `roles`: provisioning and an approved
    change of roles (accounts.user_changes) both come here. The caller keeps
    `is_staff` in step (STAFF_ROLES); the roles signal audits the change."""
    roles = set(roles)
    if set(user.groups.values_list("name", flat=True)) != roles:
        user.groups.set(Group.objects.filter(name__in=roles))


def sessions_clear_expired() -> int:
    """Remove expired sessions and the index rows of sessions that no longer exist."""
    from django.contrib.sessions.models import Session

    store = _session_store()
    store.clear_expired()
    stale = UserSession.objects.exclude(session_key__in=Session.objects.values("session_key"))
    count, _detail = stale.delete()
    return count
