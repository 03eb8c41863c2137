"""The controls of the administration lists (users, changes of roles or branch, the
audit trail): labelled selects with worded "all" choices, a branch outside the
viewer's scope refused with a message, a page size, the position and sorting by
column, and a bounded number of queries."""

from __future__ import annotations

import re

import pytest

from accounts.models import User
from accounts.roles import Role
from accounts.user_changes import user_change_request

pytestmark = pytest.mark.django_db

USERS = "/accounts/users/"
CHANGES = "/accounts/users/changes/"
TRAIL = "/accounts/audit/"


def options(html: str, name: str) -> list[tuple[str, str]]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None, f"no select {name}"
    return [
        (value, label.strip())
        for value, label in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1))
    ]


def names(response) -> list[str]:
    return [u.username for u in response.context["users"]]


@pytest.fixture
def many(make_user) -> list[User]:
    return [make_user(Role.CLIENT_MANAGER, "11101", username=f"cm{n:02d}") for n in range(30)]


class TestUsers:
    def test_the_filters_are_labelled_selects_with_worded_choices(self, client, demo_users, org):
        client.force_login(demo_users["demo_bh"])
        html = client.get(USERS).content.decode()
        for name, label in (("q", "Search"), ("status", "Status"), ("role", "Role"), ("branch", "Branch")):
            assert re.search(rf'<label[^>]*for="id_{name}"[^>]*>{label}</label>', html), name
        assert options(html, "status")[0] == ("", "All statuses")
        roles = options(html, "role")
        assert roles[0] == ("", "All roles") and ("client_manager", "Client manager") in roles
        branches = options(html, "branch")
        assert branches[0] == ("", "All branches")
        assert ("11100", org["11100"].name) in branches  # the head's branch, then its outlets
        assert ("11101", f"· {org['11101'].name}") in branches
        assert all(value != "12101" for value, _ in branches)  # not the head's
        assert (
            "—</option>" not in html
            and "placeholder=" not in html.split('data-testid="user-filters"')[1][:600]
        )

    def test_the_branch_filter_and_a_branch_outside_the_scope(self, client, demo_users):
        client.force_login(demo_users["demo_bh"])
        at_11102 = client.get(USERS, {"branch": "11102"})
        assert at_11102.status_code == 200 and names(at_11102) == ["demo_cm2"]
        refused = client.get(USERS, {"branch": "12101"})
        assert refused.status_code == 400 and names(refused) == []
        assert "This branch is not one you may see: choose one from the list." in refused.content.decode()

    def test_size_position_sort_and_queries(self, client, demo_users, many, django_assert_max_num_queries):
        client.force_login(demo_users["demo_admin"])
        total = User.objects.count()
        # session, user, roles, permissions, the branches of the filter, the count, the
        # rows, their roles, the accounts waiting (and the session's save)
        with django_assert_max_num_queries(14):
            first = client.get(USERS)
        assert len(names(first)) == 25 and f"Items 1–25 of {total}" in first.content.decode()
        with django_assert_max_num_queries(14):  # as many for a hundred rows
            everyone = client.get(USERS, {"size": 100})
        assert len(names(everyone)) == total
        by_name = names(client.get(USERS, {"sort": "-username", "role": "client_manager", "size": 50}))
        assert by_name == sorted(by_name, reverse=True) and "demo_admin" not in by_name
        html = client.get(USERS, {"sort": "name"}).content.decode()
        assert 'aria-sort="ascending"' in html and 'data-sort="branch"' in html
        second = client.get(USERS, {"page": 2, "sort": "username"})
        assert f"Items 26–{min(total, 50)} of {total}" in second.content.decode()
        assert set(names(second)).isdisjoint(names(client.get(USERS, {"sort": "username"})))


class TestChanges:
    def test_the_changes_sort_and_show_their_position(self, client, demo_users, org, many, make_user):
        admin, other = demo_users["demo_admin"], make_user(Role.SYSTEM_ADMIN, "10000", username="admin2")
        for user in many[:3]:
            user_change_request(
                user=user,
                roles=[Role.BRANCH_HEAD],
                branch=org["11101"],
                reason="promotion",
                requested_by=admin,
            )
        client.force_login(other)
        newest = client.get(CHANGES)
        html = newest.content.decode()
        assert "Items 1–3 of 3" in html and 'data-sort="user"' in html
        assert [row["change"].user.username for row in newest.context["rows"]] == ["cm02", "cm01", "cm00"]
        oldest = client.get(CHANGES, {"sort": "requested"})
        assert [row["change"].user.username for row in oldest.context["rows"]] == ["cm00", "cm01", "cm02"]
        by_user = client.get(CHANGES, {"sort": "-user"})
        assert [row["change"].user.username for row in by_user.context["rows"]] == ["cm02", "cm01", "cm00"]


class TestTrail:
    def test_the_trail_page_size(self, client, demo_users):
        from accounts.audit import Action, audit

        for _ in range(30):
            audit(Action.USER_DISABLED, actor=demo_users["demo_admin"], target=demo_users["demo_cm2"])
        client.force_login(demo_users["demo_audit"])
        page = client.get(TRAIL, {"size": 25})
        assert len(page.context["rows"]) == 25
        html = page.content.decode()
        assert "Events 1–25, newest first" in html and 'data-testid="page-sizes"' in html
        older = re.search(r'href="\?([^"]*after=[^"]*)">Older', html).group(1).replace("&amp;", "&")
        assert "size=25" in older
        rest = client.get(f"{TRAIL}?{older}")
        assert "Events 26–" in rest.content.decode()
        assert len(client.get(TRAIL, {"size": 7}).context["rows"]) > 25  # not offered: the default (50)
