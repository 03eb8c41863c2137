"""A change of an existing user's roles and branch, through a second system
administrator (accounts.user_changes): a client manager promoted to branch head and
moved, what is refused, and who may do what."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.audit import Action
from accounts.models import AuditEvent, User, UserChangeRequest
from accounts.roles import Role
from accounts.services import user_disable, user_provision
from accounts.user_changes import (
    user_change_approve,
    user_change_reject,
    user_change_request,
    user_change_withdraw,
)
from core.approvals import ApprovalStatus
from customers.services import assignment_end_primary, assignment_set_primary
from tests.conftest import PASSWORD
from tests.customers.conftest import new_customer  # noqa: F401  (fixture)


def _roles(user: User) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def zhang(org) -> User:
    """张三, a client manager at 中关村网点 (11101) with no customers yet."""
    return user_provision(
        username="zhang.san",
        employee_no="E7001",
        display_name="张三",
        branch=org["11101"],
        roles=[Role.CLIENT_MANAGER],
        password=PASSWORD,
        source="test",
    )


@pytest.fixture
def admins(demo_users, make_user) -> tuple[User, User]:
    """demo_admin and a second system administrator at the head office."""
    return demo_users["demo_admin"], make_user(Role.SYSTEM_ADMIN, "10000", username="admin2")


def _promote(zhang: User, org, by: User, **overrides) -> UserChangeRequest:
    arguments = {
        "user": zhang,
        "roles": [Role.BRANCH_HEAD],
        "branch": org["12000"],
        "reason": "promoted to head of the Shanghai branch",
        "requested_by": by,
        **overrides,
    }
    return user_change_request(**arguments)


@pytest.mark.django_db
class TestPromotionThroughThePages:
    def test_a_client_manager_becomes_branch_head_in_shanghai(self, client, admins, zhang, org):
        first, second = admins
        # given demo_admin asks for 张三 to become head of 上海分行
        client.force_login(first)
        page = client.get(f"/accounts/users/{zhang.pk}/")
        assert b'data-testid="user-change-form"' in page.content
        response = client.post(
            f"/accounts/users/{zhang.pk}/change/",
            {"roles": [Role.BRANCH_HEAD], "branch": org["12000"].pk, "reason": "promotion"},
        )
        assert response.status_code == 302 and response["Location"] == f"/accounts/users/{zhang.pk}/"
        assert _messages(response) == [
            "Change of 张三's roles to Branch head at 上海分行 submitted; "
            "waiting for another administrator's approval."
        ]
        change = UserChangeRequest.objects.get(user=zhang)
        assert (change.status, change.old_roles, change.old_branch) == (
            ApprovalStatus.PENDING,
            [Role.CLIENT_MANAGER],
            org["11101"],
        )
        # nothing changed yet
        zhang.refresh_from_db()
        assert zhang.branch == org["11101"] and _roles(zhang) == {Role.CLIENT_MANAGER}
        # the user's page lists the pending change, and offers no second request
        page = client.get(f"/accounts/users/{zhang.pk}/")
        assert b'data-testid="user-change"' in page.content
        assert b'data-testid="user-change-form"' not in page.content
        # the requester cannot approve their own request
        refused = client.post(f"/accounts/users/changes/{change.pk}/approve/")
        assert refused.status_code == 403
        change.refresh_from_db()
        assert change.status == ApprovalStatus.PENDING

        # when another administrator approves it from the list of pending changes
        client.force_login(second)
        listing = client.get("/accounts/users/changes/")
        assert [row["change"] for row in listing.context["rows"]] == [change]
        assert listing.context["rows"][0]["can_decide"]
        response = client.post(f"/accounts/users/changes/{change.pk}/approve/", {"back": "list"})
        assert response.status_code == 302 and response["Location"] == "/accounts/users/changes/"
        assert _messages(response) == ["张三 now has the roles Branch head at 上海分行."]

        # then 张三 is branch head of 上海分行, and the audit trail says who, from what to what
        zhang.refresh_from_db()
        assert zhang.branch == org["12000"] and _roles(zhang) == {Role.BRANCH_HEAD}
        change.refresh_from_db()
        assert (change.status, change.decided_by) == (ApprovalStatus.APPROVED, second)
        event = AuditEvent.objects.get(action=Action.USER_CHANGE_APPROVED)
        assert (event.actor, event.target_id) == (second, str(zhang.pk))
        assert event.details["roles"] == {"from": [Role.CLIENT_MANAGER], "to": [Role.BRANCH_HEAD]}
        assert event.details["branch"] == {"from": "11101", "to": "12000"}
        requested = AuditEvent.objects.get(action=Action.USER_CHANGE_REQUESTED)
        assert requested.actor == first and requested.details["reason"] == "promotion"
        # and the list of pending changes is empty again
        assert client.get("/accounts/users/changes/").context["rows"] == []

    def test_a_refused_request_keeps_the_form_and_says_why(self, client, admins, zhang, org):
        client.force_login(admins[0])
        response = client.post(
            f"/accounts/users/{zhang.pk}/change/",
            {"roles": [Role.CLIENT_MANAGER], "branch": org["11101"].pk, "reason": "nothing"},
        )
        assert response.status_code == 400
        assert "Nothing would change" in " ".join(response.context["form"].non_field_errors())
        response = client.post(
            f"/accounts/users/{zhang.pk}/change/",
            {"roles": [Role.CLIENT_MANAGER], "branch": org["11100"].pk, "reason": "move"},
        )
        assert response.status_code == 400
        assert response.context["form"].errors["branch"] == [
            "Client manager: the branch level must be Outlet, and 海淀支行 is Sub-branch."
        ]
        response = client.post(f"/accounts/users/{zhang.pk}/change/", {"branch": org["11102"].pk})
        assert response.status_code == 400
        assert {"roles", "reason"} <= set(response.context["form"].errors)
        assert not UserChangeRequest.objects.exists()

    def test_a_manager_with_customers_is_pointed_to_the_handover_pages(
        self,
        client,
        admins,
        zhang,
        org,
        new_customer,  # noqa: F811
    ):
        new_customer(manager=zhang)
        new_customer(manager=zhang)
        client.force_login(admins[0])
        response = client.post(
            f"/accounts/users/{zhang.pk}/change/",
            {"roles": [Role.BRANCH_HEAD], "branch": org["12000"].pk, "reason": "promotion"},
        )
        assert response.status_code == 400
        errors = " ".join(response.context["form"].non_field_errors())
        assert "张三 is still the manager of record of 2 customers" in errors
        assert b'data-testid="handover-pages"' in response.content
        # a system administrator may not open the VIP pages: they are named, not linked
        assert response.context["handover_pages"] == []
        assert not UserChangeRequest.objects.exists()


@pytest.mark.django_db
class TestWhoMay:
    @pytest.mark.parametrize("username", ["demo_pm", "demo_bm", "demo_audit", "demo_bh", "demo_cm1"])
    def test_other_roles_are_refused_every_page(self, client, demo_users, admins, zhang, org, username):
        change = _promote(zhang, org, admins[1])
        client.force_login(demo_users[username])
        data = {"roles": [Role.BRANCH_HEAD], "branch": org["12000"].pk, "reason": "x"}
        assert client.get(f"/accounts/users/{zhang.pk}/change/").status_code == 403
        assert client.post(f"/accounts/users/{zhang.pk}/change/", data).status_code == 403
        assert client.get("/accounts/users/changes/").status_code == 403
        assert client.post(f"/accounts/users/changes/{change.pk}/approve/").status_code == 403
        assert (
            client.post(f"/accounts/users/changes/{change.pk}/reject/", {"reason": "no no"}).status_code
            == 403
        )
        # the user's page shows neither the form nor decisions
        page = client.get(f"/accounts/users/{zhang.pk}/")
        if page.status_code == 200:
            assert b'data-testid="user-change-form"' not in page.content
            assert b"/approve/" not in page.content
        change.refresh_from_db()
        assert change.status == ApprovalStatus.PENDING
        assert _roles(zhang) == {Role.CLIENT_MANAGER}

    def test_a_branch_head_does_not_see_a_change_outside_their_branch(self, client, demo_users, admins, org):
        shanghai = user_provision(
            username="sh.cm",
            employee_no="E7002",
            display_name="上海经理",
            branch=org["12101"],
            roles=[Role.CLIENT_MANAGER],
            password=PASSWORD,
            source="test",
        )
        change = user_change_request(
            user=shanghai, roles=[Role.BRANCH_HEAD], branch=org["12100"], reason="x", requested_by=admins[1]
        )
        client.force_login(demo_users["demo_bh"])
        assert client.post(f"/accounts/users/changes/{change.pk}/approve/").status_code == 404

    def test_the_user_concerned_cannot_decide_on_their_own_change(self, admins, make_user, org):
        third = make_user(Role.SYSTEM_ADMIN, "10000", username="admin3")
        change = user_change_request(
            user=admins[1],
            roles=[Role.SYSTEM_ADMIN, Role.AUDITOR],
            branch=org["10000"],
            reason="also audits",
            requested_by=admins[0],
        )
        with pytest.raises(PermissionDenied):
            user_change_approve(change=change, approved_by=admins[1])
        user_change_approve(change=change, approved_by=third)
        assert _roles(admins[1]) == {Role.SYSTEM_ADMIN, Role.AUDITOR}


@pytest.mark.django_db
class TestRefusals:
    def test_no_change(self, admins, zhang, org):
        with pytest.raises(ValidationError) as refused:
            _promote(zhang, org, admins[0], roles=[Role.CLIENT_MANAGER], branch=org["11101"])
        assert refused.value.error_list[0].code == "no_change"

    @pytest.mark.parametrize(
        ("roles", "branch"),
        [
            ([Role.BRANCH_HEAD], "10000"),  # a branch head heads a branch, not the head office
            ([Role.CLIENT_MANAGER], "11000"),  # a client manager works at an outlet
            ([Role.SYSTEM_ADMIN], "11101"),  # head-office roles work at the head office
            ([Role.BRANCH_HEAD, Role.AUDITOR], "12000"),
        ],
    )
    def test_a_branch_that_does_not_suit_the_roles(self, admins, zhang, org, roles, branch):
        with pytest.raises(ValidationError) as refused:
            _promote(zhang, org, admins[0], roles=roles, branch=org[branch])
        assert list(refused.value.message_dict) == ["branch"]
        assert not UserChangeRequest.objects.exists()

    def test_a_closed_branch(self, admins, zhang, org):
        org["12101"].is_active = False
        org["12101"].save()
        with pytest.raises(ValidationError, match="is closed"):
            _promote(zhang, org, admins[0], roles=[Role.CLIENT_MANAGER], branch=org["12101"])

    def test_no_role(self, admins, zhang, org):
        with pytest.raises(ValidationError) as refused:
            _promote(zhang, org, admins[0], roles=[])
        assert refused.value.message_dict == {"roles": ["Choose at least one role."]}

    def test_not_oneself(self, admins, org):
        with pytest.raises(ValidationError, match="your own roles"):
            user_change_request(
                user=admins[0], roles=[Role.AUDITOR], branch=org["10000"], reason="x", requested_by=admins[0]
            )

    def test_not_an_account_that_is_not_active(self, admins, zhang, org):
        user_disable(user=zhang, disabled_by=None, reason="left the bank")
        with pytest.raises(ValidationError, match="Only an active account"):
            _promote(zhang, org, admins[0])

    def test_one_pending_change_per_user(self, admins, zhang, org):
        _promote(zhang, org, admins[0])
        with pytest.raises(ValidationError, match="already waiting for approval"):
            _promote(zhang, org, admins[1], branch=org["11000"])

    def test_a_role_without_the_permission_may_not_ask(self, demo_users, zhang, org):
        with pytest.raises(PermissionDenied):
            _promote(zhang, org, demo_users["demo_audit"])

    def test_customers_of_record_stop_a_promotion_until_they_are_handed_over(
        self,
        admins,
        zhang,
        org,
        demo_users,
        new_customer,  # noqa: F811
    ):
        customer = new_customer(manager=zhang)
        with pytest.raises(ValidationError, match="manager of record of 1 customer") as refused:
            _promote(zhang, org, admins[0])
        assert refused.value.error_list[0].code == "has_customers"
        # moving to another outlet as a client manager is refused the same way
        with pytest.raises(ValidationError, match="manager of record of 1 customer"):
            _promote(zhang, org, admins[0], roles=[Role.CLIENT_MANAGER], branch=org["11102"])
        # adding a role at the same outlet keeps the customers where they are
        change = _promote(
            zhang, org, admins[0], roles=[Role.CLIENT_MANAGER, Role.BRANCH_HEAD], branch=org["11101"]
        )
        user_change_withdraw(change=change, by=admins[0])
        # once the customer has another manager, the promotion goes through
        assignment_set_primary(customer=customer, manager=demo_users["demo_cm1"], by=None, reason="handover")
        change = _promote(zhang, org, admins[0])
        assert change.is_pending

    def test_approval_is_refused_if_customers_were_given_meanwhile(
        self,
        admins,
        zhang,
        org,
        new_customer,  # noqa: F811
    ):
        change = _promote(zhang, org, admins[0])
        customer = new_customer(manager=zhang)
        with pytest.raises(ValidationError, match="manager of record of 1 customer"):
            user_change_approve(change=change, approved_by=admins[1])
        change.refresh_from_db()
        zhang.refresh_from_db()
        assert change.status == ApprovalStatus.PENDING and change.decided_by is None
        assert _roles(zhang) == {Role.CLIENT_MANAGER} and zhang.branch == org["11101"]
        assert not AuditEvent.objects.filter(action=Action.USER_CHANGE_APPROVED).exists()
        # the customer goes back to the pool: now it can be approved
        assignment_end_primary(customer_ids=[customer.pk], by=None, reason="handover")
        user_change_approve(change=change, approved_by=admins[1])
        zhang.refresh_from_db()
        assert _roles(zhang) == {Role.BRANCH_HEAD} and zhang.branch == org["12000"]

    def test_a_rejection_needs_a_reason_and_changes_nothing(self, admins, zhang, org):
        change = _promote(zhang, org, admins[0])
        with pytest.raises(ValidationError):
            user_change_reject(change=change, rejected_by=admins[1], reason="")
        user_change_reject(change=change, rejected_by=admins[1], reason="not this year")
        change.refresh_from_db()
        zhang.refresh_from_db()
        assert (change.status, change.decision_note) == (ApprovalStatus.REJECTED, "not this year")
        assert _roles(zhang) == {Role.CLIENT_MANAGER} and zhang.branch == org["11101"]
        event = AuditEvent.objects.get(action=Action.USER_CHANGE_REJECTED)
        assert event.actor == admins[1] and event.details["branch"] == {"from": "11101", "to": "12000"}
        # a decided change is decided once
        with pytest.raises(ValidationError):
            user_change_approve(change=change, approved_by=admins[1])

    def test_staff_access_follows_the_new_roles(self, admins, zhang, org):
        change = _promote(zhang, org, admins[0], roles=[Role.AUDITOR], branch=org["10000"])
        user_change_approve(change=change, approved_by=admins[1])
        zhang.refresh_from_db()
        assert zhang.is_staff and _roles(zhang) == {Role.AUDITOR}


@pytest.mark.django_db
class TestPagesStayCheap:
    def test_the_user_page_with_a_pending_change(
        self, client, admins, zhang, org, django_assert_max_num_queries
    ):
        _promote(zhang, org, admins[1])
        client.force_login(admins[0])
        client.get(f"/accounts/users/{zhang.pk}/")  # the session settles
        with django_assert_max_num_queries(12):
            response = client.get(f"/accounts/users/{zhang.pk}/")
        assert response.status_code == 200 and response.context["user_changes"][0]["can_decide"]

    def test_the_list_of_pending_changes(self, client, admins, org, make_user, django_assert_max_num_queries):
        def ask(n: int) -> None:
            user = make_user(Role.CLIENT_MANAGER, "11102", username=f"mover{n}")
            user_change_request(
                user=user, roles=[Role.BRANCH_HEAD], branch=org["11200"], reason="x", requested_by=admins[1]
            )

        client.force_login(admins[0])
        ask(0)
        client.get("/accounts/users/changes/")  # the session settles
        with django_assert_max_num_queries(11) as one:
            client.get("/accounts/users/changes/")
        for n in range(1, 7):
            ask(n)
        with django_assert_max_num_queries(len(one.captured_queries)):
            response = client.get("/accounts/users/changes/")
        assert len(response.context["rows"]) == 7


@pytest.mark.django_db
def test_the_decision_widget_counts_what_the_administrator_may_decide(admins, zhang, org):
    from core import widgets

    _promote(zhang, org, admins[0])
    (source,) = [s for s in widgets.pending_sources(admins[1], widgets.DECISION) if s.key == "user_changes"]
    assert source.count(admins[1]) == 1
    assert source.count(admins[0]) == 0  # their own request


@pytest.mark.django_db
def test_the_home_panel_of_account_requests_counts_the_changes_to_decide(
    client, admins, zhang, org, demo_users
):
    _promote(zhang, org, admins[0])
    client.force_login(admins[1])
    response = client.get("/")
    panels = {panel.key: panel for panel in response.context["panels"]}
    assert panels["pending_users"].context == {"pending": 0, "changes": 1}
    assert b'data-testid="pending-user-changes"' in response.content
    # the requester's own request is not theirs to decide; an auditor decides accounts only
    for username in ("demo_admin", "demo_audit"):
        client.force_login(demo_users[username])
        panels = {panel.key: panel for panel in client.get("/").context["panels"]}
        assert panels["pending_users"].context == {"pending": 0, "changes": 0}


def test_the_users_list_leads_an_administrator_to_the_changes_waiting(client, admins, demo_users):
    client.force_login(admins[0])
    assert 'href="/accounts/users/changes/"' in client.get("/accounts/users/").content.decode()
    client.force_login(demo_users["demo_bm"])  # reads the users, decides no change of roles
    page = client.get("/accounts/users/")
    assert page.status_code == 200 and 'href="/accounts/users/changes/"' not in page.content.decode()
