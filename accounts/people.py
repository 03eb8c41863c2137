"""People as a colleague knows them, for the filters and answers of list pages: the
name and the branch, never an employee number where the name is known."""

from __future__ import annotations

from collections.abc import Iterable

from .models import User


def person_label(user: User) -> str:
    """The name, then the branch (read from `user.branch`: select it with the users)."""
    name = user.display_name or user.get_full_name() or user.username
    branch = user.branch.name if user.branch_id and user.branch is not None else ""
    return f"{name} · {branch}" if branch else name


def person_choices(users: Iterable[User], everyone) -> list[tuple[str, str]]:
    """The choices of a filter by person: the worded "everyone" first, then each by
    name; the value is the employee number, which links and bookmarks keep."""
    return [("", everyone), *((u.employee_no, person_label(u)) for u in users if u.employee_no)]
