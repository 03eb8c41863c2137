"""The check every marketing write makes first: the user holds the permission."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from accounts.models import User


def require(user: User, permission: str) -> None:
    if not user.has_perm(permission):
        raise PermissionDenied(_("You may not do this."))
