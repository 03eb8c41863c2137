from accounts.roles import role_label
from accounts.scope import user_roles

from .navigation import flatten, navigation_menu


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    match = getattr(request, "resolver_match", None)
    menu = navigation_menu(user, current=match.view_name if match else None)
    return {
        "nav_menu": menu,
        "nav_items": flatten(menu),
        "user_role_labels": [role_label(r) for r in sorted(user_roles(user))],
    }
