from accounts.roles import role_label
from accounts.scope import user_roles

from .navigation import navigation_for


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_items": navigation_for(user),
        "user_role_labels": [role_label(r) for r in sorted(user_roles(user))],
    }
