"""An administrator's decision on an account answers with whose account and what
happened to it, not a bare "Account approved."."""

import pytest

from accounts import services
from accounts.models import UserStatus
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_an_approval_and_a_disabling_name_the_account(client, login, make_user, org):
    proposer, approver = make_user("system_admin"), make_user("system_admin")
    pending = services.user_request(
        requested_by=proposer,
        username="li_new",
        employee_no="E7001",
        display_name="李新",
        branch=org["11101"],
        roles=["client_manager"],
        password=PASSWORD,
    )
    login(approver)
    # when another administrator approves it
    response = client.post(f"/accounts/users/{pending.pk}/approve/", follow=True)
    # then the answer names the account and what it may do now
    assert _messages(response) == ["The account of 李新 (li_new) is approved: they may log in."]
    pending.refresh_from_db()
    assert pending.status == UserStatus.ACTIVE
    # and disabling it says so, with the sessions ended
    response = client.post(f"/accounts/users/{pending.pk}/disable/", {"reason": "left the bank"}, follow=True)
    assert _messages(response) == ["The account of 李新 (li_new) is disabled; its sessions have ended."]


def test_a_refused_approval_says_why_and_names_no_success(client, login, make_user, org):
    proposer = make_user("system_admin")
    pending = services.user_request(
        requested_by=proposer,
        username="wang_new",
        employee_no="E7002",
        display_name="王新",
        branch=org["11101"],
        roles=["client_manager"],
        password=PASSWORD,
    )
    login(proposer)
    # the proposer cannot approve their own request
    response = client.post(f"/accounts/users/{pending.pk}/approve/", follow=True)
    assert not any("is approved" in text for text in _messages(response))
    pending.refresh_from_db()
    assert pending.status == UserStatus.PENDING
