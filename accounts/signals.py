"""Cross-cutting audit: logins, failures, lockouts and permission changes, from
wherever they happen (login page, admin, API, shell)."""

from axes.signals import user_locked_out
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from . import services
from .audit import Action, audit, client_ip
from .models import User


@receiver(user_logged_in, dispatch_uid="accounts.audit_login")
def on_login(sender, request, user, **kwargs):
    ip = client_ip(request) if request is not None else None
    audit(Action.LOGIN, actor=user, ip=ip)
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        services.user_session_started(user=user, session_key=session.session_key, ip=ip)


@receiver(user_logged_out, dispatch_uid="accounts.audit_logout")
def on_logout(sender, request, user, **kwargs):
    if user is None:
        return
    audit(Action.LOGOUT, actor=user, ip=client_ip(request) if request is not None else None)
    session = getattr(request, "session", None)
    services.user_session_ended(session_key=getattr(session, "session_key", None))


@receiver(user_login_failed, dispatch_uid="accounts.audit_login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    # `credentials` has the password removed by Django; keep only the username.
    audit(
        Action.LOGIN_FAILED,
        actor_username=str(credentials.get("username", ""))[:150],
        ip=client_ip(request) if request is not None else None,
    )


@receiver(user_locked_out, dispatch_uid="accounts.audit_locked_out")
def on_locked_out(sender, request, username, ip_address, **kwargs):
    audit(Action.LOCKED_OUT, actor_username=str(username or "")[:150], ip=ip_address)


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="accounts.audit_roles")
def on_roles_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear") or reverse:
        return
    if not isinstance(instance, User) or instance._state.adding:
        return
    roles = sorted(instance.groups.values_list("name", flat=True))
    audit(Action.ROLES_CHANGED, target=instance, details={"change": action, "roles": roles})
    instance.__dict__.pop("_role_cache", None)


@receiver(m2m_changed, sender=User.user_permissions.through, dispatch_uid="accounts.audit_perms")
@receiver(m2m_changed, sender=Group.permissions.through, dispatch_uid="accounts.audit_group_perms")
def on_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    audit(
        Action.PERMISSIONS_CHANGED,
        target=instance,
        details={"change": action, "permission_ids": sorted(pk_set or [])},
    )
