"""An alert about a customer is at the customer's home branch, and a branch head
sees it by that branch: when the customer moves (the nightly load rewrites the home
branch), the old branch's head loses the alert and the new branch's head gains it.
On PostgreSQL the database keeps the alert's branch the customer's (migration
care/0006_alert_branch_follows_customer), which the head's alert scope relies on:
an alert written with another branch, a move by any UPDATE, and an alert raised
while its customer is moving all end at the customer's branch."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from accounts.models import User
from accounts.roles import Role
from care.choices import AlertKind
from care.models import Alert
from customers.models import Customer
from tests.care.world_alerts import make_alert
from tests.customers.conftest import new_customer  # noqa: F401  (fixture)

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers are PostgreSQL's")


def seen_by(user: User) -> set[int]:
    fresh = User.objects.get(pk=user.pk)  # as a new request: roles and subtree read afresh
    return set(Alert.objects.visible_to(fresh).values_list("pk", flat=True))


def move(customer: Customer, branch) -> None:
    """As the nightly load moves a customer: one UPDATE of the customer table."""
    Customer.objects.filter(pk=customer.pk).update(home_branch=branch)


@pytest.mark.django_db
def test_a_customer_who_moves_takes_their_alerts_to_the_new_branch_s_heads(
    demo_users,
    make_user,
    new_customer,  # noqa: F811
    org,
):
    cm1, cm3, haidian = demo_users["demo_cm1"], demo_users["demo_cm3"], demo_users["demo_bh"]
    pudong = make_user(Role.BRANCH_HEAD, "12100")
    leaving = new_customer(branch="11101", manager=cm1, name="迁出")
    arriving = new_customer(branch="12101", manager=cm3, name="迁入")
    out_alert = make_alert(assignee=cm1, customer=leaving)
    in_alert = make_alert(assignee=cm3, customer=arriving)
    team = make_alert(assignee=None, kind=AlertKind.TEAM_OVERDUE, branch=org["11102"], figures={})
    assert {out_alert.pk, team.pk} <= seen_by(haidian) and in_alert.pk not in seen_by(haidian)
    assert in_alert.pk in seen_by(pudong) and out_alert.pk not in seen_by(pudong)

    move(leaving, org["12101"])
    move(arriving, org["11102"])

    assert in_alert.pk in seen_by(haidian) and out_alert.pk not in seen_by(haidian)
    assert out_alert.pk in seen_by(pudong) and in_alert.pk not in seen_by(pudong)
    assert team.pk in seen_by(haidian) and team.pk not in seen_by(pudong)  # about no customer: stays
    # the manager of record still sees their alert, wherever the customer now banks
    assert out_alert.pk in seen_by(cm1)
    # the head's own alert about no customer and filed at no branch: theirs alone
    unfiled = make_alert(assignee=haidian, kind=AlertKind.TEAM_OVERDUE, event_key="unfiled", figures={})
    Alert.objects.filter(pk=unfiled.pk).update(branch=None)
    assert unfiled.pk in seen_by(haidian) and unfiled.pk not in seen_by(pudong)
    # head office sees every one
    assert {out_alert.pk, in_alert.pk, team.pk, unfiled.pk} <= seen_by(demo_users["demo_bm"])


@postgres_only
@pytest.mark.django_db
def test_the_database_keeps_the_alert_at_the_customer_s_branch(
    demo_users,
    new_customer,  # noqa: F811
    org,
):
    cm1 = demo_users["demo_cm1"]
    customer = new_customer(branch="11101", manager=cm1)
    # written with another branch (a mistake, or an old row): set to the customer's
    alert = make_alert(assignee=cm1, customer=customer, branch=org["12101"])
    assert Alert.objects.get(pk=alert.pk).branch_id == org["11101"].pk
    Alert.objects.filter(pk=alert.pk).update(branch=org["12101"])
    assert Alert.objects.get(pk=alert.pk).branch_id == org["11101"].pk

    # a move by plain SQL, as the nightly load's merge writes it, is carried along
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE customers_customer SET home_branch_id = %s, name = name WHERE id = %s",
            [org["12101"].pk, customer.pk],
        )
    assert Alert.objects.get(pk=alert.pk).branch_id == org["12101"].pk

    # an alert about no customer keeps the branch it is given (a team's)
    team = make_alert(assignee=None, kind=AlertKind.TEAM_OVERDUE, branch=org["11102"], figures={})
    assert Alert.objects.get(pk=team.pk).branch_id == org["11102"].pk


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_alert_raised_while_its_customer_moves_takes_the_branch_it_moved_to(
    demo_users,
    new_customer,  # noqa: F811
    org,
):
    cm1 = demo_users["demo_cm1"]
    customer = new_customer(branch="11101", manager=cm1)
    moved, commit = threading.Event(), threading.Event()
    raised: list[int] = []
    failures: list[BaseException] = []

    def moving() -> None:
        try:
            with transaction.atomic():
                move(customer, org["12101"])
                moved.set()
                commit.wait(10)
        except BaseException as error:  # reported to the test below
            failures.append(error)
        finally:
            connections.close_all()

    def raising() -> None:
        try:
            # the rules read the home branch before the move commits
            raised.append(
                make_alert(assignee=cm1, customer=customer, branch=org["11101"], kind=AlertKind.BIRTHDAY).pk
            )
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()

    mover = threading.Thread(target=moving)
    mover.start()
    assert moved.wait(10)
    raiser = threading.Thread(target=raising)
    raiser.start()
    # the raise waits for the move (a lock on the customer's row), however long it takes
    waited = False
    for _ in range(100):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                waited = True
                break
        time.sleep(0.05)
    commit.set()
    mover.join(10)
    raiser.join(10)
    assert not failures, failures
    assert waited, "the alert was raised without waiting for its customer's move"
    assert Alert.objects.get(pk=raised[0]).branch_id == org["12101"].pk
