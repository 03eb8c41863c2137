"""The visit journal (拜访记录): an entry records the contact on the customer's
timeline, its next step with a date goes into the plan, a confidential entry is
read by its manager and their branch head only, and the journal pages list the
manager's own (the branch head's: the team's) by day, customer and purpose."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import AuditEvent
from care.choices import JournalKind, PlanKind, VisitPurpose
from care.models import JournalEntry, PlanItem
from care.selectors.plan import week_value
from care.services.plan import journal_entry_create
from care.views.plan import JOURNAL_PAGE
from customers.models import Interaction
from marketing.models import Product
from tests.care.world_plan import small_world
from tests.customers.conftest import new_customer  # noqa: F401  (fixture)
from vip.standards import CONTACT_KINDS


def now() -> datetime.datetime:
    return timezone.now().replace(microsecond=0)


def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def world(demo_users, new_customer):  # noqa: F811
    return small_world(demo_users, new_customer)


@pytest.fixture
def products():
    return [
        Product.objects.create(code="J-WM-01", name="稳健理财", category="WEALTH", risk_rating="R2"),
        Product.objects.create(code="J-TD-12", name="一年定期", category="DEP_TIME"),
    ]


def _record(world, manager="cm1", customer="own", **fields) -> JournalEntry:
    defaults = {"purpose": VisitPurpose.KEEP_IN_TOUCH, "visited_at": now() - datetime.timedelta(hours=1)}
    return journal_entry_create(
        manager=world["users"][manager], customer=world[customer], **{**defaults, **fields}
    )


def test_an_entry_is_a_contact_on_the_timeline_and_its_next_step_goes_into_the_plan(world, products):
    cm1, own = world["users"]["cm1"], world["own"]
    visited = now() - datetime.timedelta(hours=2)
    next_day = today() + datetime.timedelta(days=10)
    entry = journal_entry_create(
        manager=cm1,
        customer=own,
        kind=JournalKind.VISIT,
        visited_at=visited,
        purpose=VisitPurpose.MATURITY,
        products=products,
        feedback="Wants a one-year deposit when the CD matures.",
        next_step="Bring the deposit form",
        next_step_date=next_day,
    )
    assert set(entry.products.all()) == set(products)
    # the customer's timeline has the contact, which the last-contact date counts
    interaction = Interaction.objects.get(customer=own)
    assert entry.interaction == interaction
    assert interaction.kind == "visit" and interaction.kind in CONTACT_KINDS
    assert interaction.occurred_at == visited and interaction.manager == cm1
    assert interaction.subject == "Maturity follow-up"
    assert "one-year deposit" in interaction.notes
    # the next step is a plan item of the manager on its day
    item = PlanItem.objects.get()
    assert (item.owner, item.customer, item.start_date, item.title) == (
        cm1,
        own,
        next_day,
        "Bring the deposit form",
    )
    assert item.journal_entry == entry and item.kind == PlanKind.VISIT
    actions = set(AuditEvent.objects.filter(actor=cm1).values_list("action", flat=True))
    assert {"journal_entry_recorded", "interaction_logged", "plan_item_created"} <= actions


def test_what_makes_no_sense_is_refused(world):
    cases = [
        ({"next_step": "call", "next_step_date": today() - datetime.timedelta(days=1)}, "next_step_date"),
        ({"next_step_date": today() + datetime.timedelta(days=1)}, "next_step"),
        ({"visited_at": now() + datetime.timedelta(hours=2)}, "visited_at"),
    ]
    for fields, field in cases:
        with pytest.raises(ValidationError) as refused:
            _record(world, **fields)
        assert field in refused.value.error_dict, fields
    with pytest.raises(PermissionDenied):
        _record(world, customer="foreign")
    assert (
        not JournalEntry.objects.exists()
        and not Interaction.objects.exists()
        and not PlanItem.objects.exists()
    )


def test_a_confidential_entry_is_its_managers_and_their_branch_heads(world):
    users = world["users"]
    secret = _record(world, confidential=True, feedback="Family matter, keep it quiet.")
    open_entry = _record(world, feedback="Happy with the service.")

    def sees(name: str) -> set[JournalEntry]:
        return set(JournalEntry.objects.visible_to(users[name]))

    assert sees("cm1") == {secret, open_entry}
    assert sees("bh") == {secret, open_entry}  # demo_cm1's branch (11101) is under 11100
    # demo_cm2 may see the customer (shared) and reads the open entry, not the secret one
    assert sees("cm2") == {open_entry}
    assert sees("bm") == {open_entry}  # head office has the scope, not the confidence
    assert sees("cm3") == set() and sees("audit") == {open_entry}
    # the timeline everyone with the customer reads gets the purpose, not the feedback
    assert secret.interaction.notes == "" and secret.interaction.subject == "Keeping in touch"


def test_the_journal_page_for_a_manager_and_for_a_branch_head(client, world, django_assert_max_num_queries):
    users = world["users"]
    _record(world, confidential=True, feedback="Family matter")
    _record(world, manager="cm2", customer="colleague", purpose=VisitPurpose.PRODUCT, feedback="Likes funds")
    client.force_login(users["cm2"])
    html = client.get("/care/journal/").content.decode()
    assert "Likes funds" in html and "Family matter" not in html  # a manager's own journal
    assert 'name="manager"' not in html
    client.force_login(users["bh"])
    with django_assert_max_num_queries(14):
        response = client.get("/care/journal/")
    html = response.content.decode()
    assert "Family matter" in html and "Likes funds" in html and "Confidential" in html
    table = html.split('data-testid="journal-table"')[1]
    assert "Keeping in touch" in table and "keep_in_touch" not in table  # labels, not codes
    response = client.get("/care/journal/", {"manager": users["cm1"].employee_no})
    assert "Family matter" in response.content.decode() and "Likes funds" not in response.content.decode()
    response = client.get("/care/journal/", {"manager": users["cm3"].employee_no})  # not of the team
    assert (
        response.status_code == 400
        and b"No manager with this employee number in your team." in response.content
    )
    client.force_login(users["audit"])  # head office reads what is not confidential
    html = client.get("/care/journal/").content.decode()
    assert "Likes funds" in html and "Family matter" not in html


def test_the_journal_filters_and_pages(client, world, django_assert_max_num_queries, products):
    cm1 = world["users"]["cm1"]
    old = now() - datetime.timedelta(days=20)
    for n in range(JOURNAL_PAGE):
        _record(world, visited_at=old - datetime.timedelta(minutes=n), feedback=f"old {n}", products=products)
    # today's, at any hour (an hour ago is yesterday between midnight and 01:00)
    _record(world, purpose=VisitPurpose.COMPLAINT, feedback="Complained about fees", visited_at=now())
    _record(world, manager="cm2", customer="colleague", feedback="Not cm1's")
    client.force_login(cm1)
    with django_assert_max_num_queries(14):
        response = client.get("/care/journal/")
    page = response.context["page_obj"]
    assert page.paginator.count == JOURNAL_PAGE + 1 and len(page.object_list) == JOURNAL_PAGE
    html = response.content.decode()
    assert "Complained about fees" in html and "Not cm1&#x27;s" not in html
    assert "稳健理财" in html and world["own"].customer_no in html
    assert len(client.get("/care/journal/", {"page": 2}).context["page_obj"].object_list) == 1
    # my day
    day = today().isoformat()
    response = client.get("/care/journal/", {"date_from": day, "date_to": day})
    assert [e.feedback for e in response.context["page_obj"]] == ["Complained about fees"]
    # by purpose, by customer number
    response = client.get("/care/journal/", {"purpose": "complaint"})
    assert response.context["page_obj"].paginator.count == 1
    response = client.get("/care/journal/", {"customer_no": world["colleague"].customer_no})
    assert response.context["page_obj"].paginator.count == 0
    # nonsense: an error, no rows
    response = client.get("/care/journal/", {"date_from": day, "date_to": "2000-01-01"})
    assert response.status_code == 400 and response.context["page_obj"].paginator.count == 0


def test_recording_from_the_page(client, world, products):
    cm1, own = world["users"]["cm1"], world["own"]
    client.force_login(cm1)
    response = client.get("/care/journal/new/", {"customer": own.customer_no})
    assert response.status_code == 200 and response.context["form"].initial["customer_no"] == own.customer_no
    assert client.get("/care/journal/new/", {"customer": world["foreign"].customer_no}).status_code == 404
    next_day = today() + datetime.timedelta(days=3)
    data = {
        "customer_no": own.customer_no,
        "kind": "call",
        "visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "purpose": "product",
        "products": [products[0].pk],
        "feedback": "Interested",
        "next_step": "Send the brochure",
        "next_step_date": next_day.isoformat(),
        "confidential": "on",
    }
    # refused: a next step in the past, a customer outside the scope
    response = client.post("/care/journal/new/", {**data, "next_step_date": "2020-01-01"})
    assert response.status_code == 400 and b"The next step cannot be in the past." in response.content
    response = client.post("/care/journal/new/", {**data, "customer_no": world["foreign"].customer_no})
    assert response.status_code == 400 and b"No customer with this number in your scope." in response.content
    assert not JournalEntry.objects.exists()
    response = client.post("/care/journal/new/", data)
    assert response.status_code == 302
    entry = JournalEntry.objects.get()
    assert (entry.kind, entry.purpose, entry.confidential) == ("call", "product", True)
    assert list(entry.products.all()) == [products[0]]
    assert Interaction.objects.get(customer=own).kind == "call"
    item = PlanItem.objects.get()
    assert (item.kind, item.start_date, item.title) == (PlanKind.CALL, next_day, "Send the brochure")
    # the next step is on the calendar of its week
    week = client.get("/care/plan/", {"week": week_value(next_day)}).content.decode()
    assert "Send the brochure" in week
    # the auditor reads journals but records none
    client.force_login(world["users"]["audit"])
    assert client.get("/care/journal/").status_code == 200
    assert client.get("/care/journal/new/").status_code == 403


def test_the_customers_satisfaction_is_recorded_with_the_entry_and_audited(client, world):
    from accounts.models import AuditEvent

    cm1, own = world["users"]["cm1"], world["own"]
    client.force_login(cm1)
    visited = (timezone.localtime() - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    data = {
        "customer_no": own.customer_no,
        "kind": "visit",
        "visited_at": visited,
        "purpose": VisitPurpose.KEEP_IN_TOUCH,
        "satisfaction": "2",
    }
    response = client.post("/care/journal/new/", data)
    assert response.status_code == 302
    entry = JournalEntry.objects.get(customer=own)
    assert entry.satisfaction == 2
    event = AuditEvent.objects.filter(action="journal_entry_recorded").latest("pk")
    assert event.details["satisfaction"] == 2
    response = client.post("/care/journal/new/", {**data, "satisfaction": "9"})
    assert response.status_code == 400 and JournalEntry.objects.filter(customer=own).count() == 1
    assert _record(world, satisfaction=None).satisfaction is None  # not asked
