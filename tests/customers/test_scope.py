"""One data scope for every model that holds a customer.

A small world: customers of two client managers in two regions (demo_cm1 at 11101,
under demo_bh's 11100; demo_cm3 at 12101, Shanghai), one of demo_cm3's customers
shared with demo_cm1 by an unexpired grant and one by an expired grant. For every
model holding a customer (enumerated through the app registry, so a new one without
`visible_to` or without a row here fails), each role sees exactly the rows of the
customers it may see. Then the places that used to read around the scope: the
managers page, the interaction form, the customer services."""

from __future__ import annotations

import datetime
import inspect
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db.models import Q
from django.urls import URLResolver, get_resolver
from django.utils import timezone
from guardian.shortcuts import assign_perm

from accounts.models import Branch, User
from analysis.models import CustomerAnalysis
from care.models import Alert, JournalEntry, Message, PlanItem, ServiceSubscription
from core.views import ScopedView
from credit.models import CreditAuthorization, CreditQuery, MonthEndStatus
from customers import permissions as customer_permissions
from customers.models import (
    Account,
    AccountBalance,
    ContactPoint,
    Customer,
    CustomerAssignment,
    CustomerDailyAum,
    CustomerMerge,
    CustomerMonthlyAum,
    CustomerUserObjectPermission,
    DataQualityIssue,
    Employer,
    IncomeEntry,
    Interaction,
    LoanStatus,
    OtherAsset,
    PayrollLink,
    Relationship,
    TransactionSummary,
)
from customers.querysets import customer_scope, visible_prefetch
from customers.services import contact_add, customer_update, interaction_log, pii_reveal
from customers.uscc import make_uscc
from marketing import permissions as marketing_permissions
from marketing.models import (
    Campaign,
    CampaignTarget,
    Channel,
    MarketingContact,
    MarketingProfile,
    OpeningRequest,
    Opportunity,
    Product,
    Sale,
)
from performance.models import CustomerResult, Dispute, Period, ResultVersion
from tests.customers.conftest import log_in
from vip import permissions as vip_permissions
from vip.models import TierChange, TierOverride, TransferRequest, VipProspect, VipStatusChange
from vip.services import transfer_request

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 6, 15)
LABELS = ("own", "foreign", "shared", "expired")
VIEWERS = ("cm1", "cm3", "bh", "bm", "nobody")
# Which of the world's customers each viewer may see.
SEES = {
    "cm1": {"own", "shared"},  # their own, and the one shared with them (unexpired)
    "cm3": {"foreign", "shared", "expired"},  # the manager of record of all three
    "bh": {"own"},  # 11100's subtree: 11101, not Shanghai
    "bm": set(LABELS),  # head office: everyone
    "nobody": set(),  # no role: no scope
}


def holds_a_customer(model) -> bool:
    return any(
        field.is_relation and field.concrete and field.related_model is Customer
        for field in model._meta.get_fields()
    )


def models_holding_a_customer() -> list:
    """Every model with a foreign key (or one-to-one) to Customer, and the models
    reaching one through a model that does (daily balances through the account)."""
    direct = {model for model in apps.get_models() if holds_a_customer(model)}
    through = {
        model
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if field.is_relation
        and field.concrete
        and field.many_to_one
        and field.related_model in direct
        and field.related_model is not Customer
        and not holds_a_customer(model)
    }
    return sorted(direct | through, key=lambda m: m._meta.label)


@pytest.fixture
def world(demo_users, make_user, new_customer, add_account):
    cm1, cm3 = demo_users["demo_cm1"], demo_users["demo_cm3"]
    customers = {
        "own": new_customer(branch="11101", manager=cm1, name="本人"),
        "foreign": new_customer(branch="12101", manager=cm3, name="外人"),
        "shared": new_customer(branch="12101", manager=cm3, name="共享"),
        "expired": new_customer(branch="12101", manager=cm3, name="过期"),
    }
    assign_perm("customers.view_customer", cm1, customers["shared"])
    expired = assign_perm("customers.view_customer", cm1, customers["expired"])
    expired.expires_at = timezone.now() - datetime.timedelta(days=1)
    expired.save(update_fields=["expires_at"])
    nobody = make_user("client_manager", "11101", username="nobody")
    nobody.groups.clear()
    users = {
        "cm1": cm1,
        "cm3": cm3,
        "bh": demo_users["demo_bh"],
        "bm": demo_users["demo_bm"],
        "nobody": nobody,
        "cm2": demo_users["demo_cm2"],
    }
    return {"customers": customers, "users": users, "add_account": add_account}


def viewer(world, name: str) -> User:
    """A fresh user object, as a new request has (grants and roles read afresh)."""
    return User.objects.get(pk=world["users"][name].pk)


# --- one row per customer for every model holding one ----------------------------------


def _product() -> Product:
    return Product.objects.get_or_create(
        code="SCOPE-1", defaults={"name": "范围测试", "category": "WEALTH", "risk_rating": "R1"}
    )[0]


def _campaign(world) -> Campaign:
    return Campaign.objects.get_or_create(
        name="范围测试活动",
        defaults={
            "objective": "cross_sell",
            "start_date": TODAY,
            "end_date": TODAY + datetime.timedelta(days=30),
            "status": "running",
            "created_by": world["users"]["bm"],
        },
    )[0]


def _build(model, customer: Customer, world) -> None:
    """At least one row of `model` about `customer`."""
    users = world["users"]
    manager = customer.primary_manager
    if model is Customer:
        return
    if model is ContactPoint:
        ContactPoint.objects.create(customer=customer, type="EMAIL", value=f"c{customer.pk}@example.com")
    elif model is Account:
        world["add_account"](customer)
    elif model is AccountBalance:
        account = world["add_account"](customer)
        AccountBalance.objects.create(
            business_date=TODAY, account=account, balance=Decimal("1"), cny_balance=Decimal("1")
        )
    elif model is LoanStatus:
        account = world["add_account"](customer)
        LoanStatus.objects.create(business_date=TODAY, account=account, overdue_days=3, risk_class=2)
    elif model is MonthEndStatus:
        account = world["add_account"](customer, category="LOAN_MORTGAGE")
        MonthEndStatus.objects.create(
            month=TODAY.replace(day=1),
            account=account,
            branch_id=account.branch_id,
            category=account.category,
            bucket=1,
            risk_class=2,
            balance=Decimal("1"),
            overdue_amount=Decimal("1"),
        )
    elif model is CustomerDailyAum:
        CustomerDailyAum.objects.create(
            business_date=TODAY, customer=customer, aum=Decimal("1"), liabilities=Decimal("0")
        )
    elif model is CustomerMonthlyAum:
        CustomerMonthlyAum.objects.create(
            customer=customer,
            month=TODAY.replace(day=1),
            avg_aum=Decimal("1"),
            end_aum=Decimal("1"),
            avg_liabilities=Decimal("0"),
        )
    elif model is IncomeEntry:
        IncomeEntry.objects.create(
            business_date=TODAY, customer=customer, income_type="OTHER", cny_amount=Decimal("1")
        )
    elif model is CustomerResult:
        period, _new = Period.objects.get_or_create(
            code="2026-06",
            defaults={"kind": "month", "start": TODAY.replace(day=1), "end": TODAY.replace(day=30)},
        )
        version, _new = ResultVersion.objects.get_or_create(period=period, number=0, status="provisional")
        CustomerResult.objects.create(version=version, customer=customer, manager=manager)
    elif model is Dispute:
        period, _new = Period.objects.get_or_create(
            code="2026-06",
            defaults={"kind": "month", "start": TODAY.replace(day=1), "end": TODAY.replace(day=30)},
        )
        Dispute.objects.create(
            period=period,
            customer=customer,
            claim="mine",
            first_day=TODAY.replace(day=1),
            last_day=TODAY.replace(day=1),
            reason="test",
            proposed_by=manager or world["users"]["cm1"],
        )
    elif model is TransactionSummary:
        TransactionSummary.objects.create(
            business_date=TODAY, customer=customer, channel="ATM", txn_count=1, txn_amount=Decimal("1")
        )
    elif model is Relationship:
        Relationship.objects.create(customer=customer, relation_type="spouse", related_name="配偶")
    elif model is PayrollLink:
        employer, _ = Employer.objects.get_or_create(
            uscc=make_uscc("91110108MA01XCP3Q"), defaults={"name": "单位", "industry": "I"}
        )
        PayrollLink.objects.create(employer=employer, customer=customer)
    elif model is OtherAsset:
        OtherAsset.objects.create(
            customer=customer, kind="property", description="房", estimated_value=Decimal("1")
        )
    elif model is Interaction:
        Interaction.objects.create(customer=customer, kind="call", subject="s", manager=manager)
    elif model is CustomerAssignment:
        pass  # the manager of record's assignment (new_customer made it)
    elif model is CustomerUserObjectPermission:
        assign_perm("customers.view_customer", users["cm2"], customer)
    elif model is DataQualityIssue:
        DataQualityIssue.objects.create(kind="missing_data", customer=customer, branch=customer.home_branch)
    elif model is CustomerMerge:
        CustomerMerge.objects.create(survivor=customer, merged=customer, merged_by=users["bm"], reason="r")
    elif model is TierChange:
        TierChange.objects.create(customer=customer, to_tier="gold", effective_date=TODAY, source="rule")
    elif model is TierOverride:
        TierOverride.objects.create(
            customer=customer,
            tier="gold",
            reason="r",
            expires_on=timezone.localdate() + datetime.timedelta(days=9),
            created_by=users["bm"],
        )
    elif model is VipStatusChange:
        VipStatusChange.objects.create(customer=customer, to_status="potential", effective_date=TODAY)
    elif model is VipProspect:
        VipProspect.objects.create(
            name="p",
            customer=customer,
            source="referral",
            estimated_assets=Decimal("1"),
            manager=manager,
            branch=customer.home_branch,
        )
    elif model is TransferRequest:
        transfer_request(customer=customer, to_manager=users["cm2"], by=manager, reason="handover")
    elif model is Alert:
        # an alert is its assignee's: one for the manager of record and one for each
        # viewer (a viewer sees their own about a customer they may see; a branch
        # head also their subtree's, whoever it is for)
        for assignee in {manager, *(users[name] for name in VIEWERS)}:
            Alert.objects.create(
                kind="tier_change",
                customer=customer,
                event_key=f"{TODAY}:{assignee.pk}",
                event_date=TODAY,
                due_date=TODAY,
                assignee=assignee,
                branch=customer.home_branch,
                figures={"from": "", "to": "gold"},
            )
    elif model is MarketingProfile:
        MarketingProfile.objects.create(customer=customer, as_of=TODAY)
    elif model is CustomerAnalysis:
        CustomerAnalysis.objects.create(customer=customer, as_of=TODAY)
    elif model is CampaignTarget:
        CampaignTarget.objects.create(
            campaign=_campaign(world), customer=customer, manager=manager, branch=customer.home_branch
        )
    elif model is MarketingContact:
        MarketingContact.objects.create(
            customer=customer, channel="call", occurred_at=timezone.now(), outcome="declined", manager=manager
        )
    elif model is Opportunity:
        Opportunity.objects.create(
            customer=customer,
            manager=manager,
            product=_product(),
            expected_amount=Decimal("1"),
            expected_close_date=TODAY,
        )
    elif model is Sale:
        Sale.objects.create(
            customer=customer,
            category="WEALTH",
            amount=Decimal("1"),
            sale_date=TODAY,
            branch=customer.home_branch,
            source="core_banking",
        )
    elif model is OpeningRequest:  # recorded by the manager of record (the bank's, if none)
        OpeningRequest.objects.create(
            customer=customer,
            product=_product(),
            channel=Channel.objects.get(code="counter"),
            branch=customer.home_branch,
            manager=manager or users["bm"],
        )
    elif model is PlanItem:  # the manager of record's plan
        PlanItem.objects.create(owner=manager, customer=customer, title="p", start_date=TODAY)
    elif model in (CreditAuthorization, CreditQuery):
        authorization = CreditAuthorization.objects.create(
            customer=customer,
            form_reference=f"AUTH-{customer.pk}",
            purpose="loan_approval",
            signed_on=TODAY,
            valid_until=TODAY + datetime.timedelta(days=90),
            recorded_by=manager or users["bm"],
        )
        if model is CreditQuery:
            CreditQuery.objects.create(
                customer=customer,
                authorization=authorization,
                purpose="loan_approval",
                status="pending",
                proposed_by=manager or users["bm"],
            )
    elif model is JournalEntry:  # not confidential: read by everyone who sees the customer
        JournalEntry.objects.create(
            manager=manager, customer=customer, visited_at=timezone.now(), purpose="keep_in_touch"
        )
    elif model is Message:  # a message to the customer
        Message.objects.create(
            customer=customer, channel="sms", purpose="notice", body="b", dedupe_key=f"scope:{customer.pk}"
        )
    elif model is ServiceSubscription:
        ServiceSubscription.objects.create(
            customer=customer, service="e_statement", channel="email", consent_date=TODAY, recorded_by=manager
        )
    else:
        raise NotImplementedError(f"{model._meta.label}: add a row for it to this test")


BUILT = {
    Customer,
    ContactPoint,
    Account,
    AccountBalance,
    LoanStatus,
    CustomerDailyAum,
    CustomerMonthlyAum,
    TransactionSummary,
    IncomeEntry,
    CustomerResult,
    Dispute,
    Relationship,
    OtherAsset,
    PayrollLink,
    Interaction,
    CustomerAssignment,
    CustomerUserObjectPermission,
    DataQualityIssue,
    CustomerMerge,
    TierChange,
    TierOverride,
    VipStatusChange,
    VipProspect,
    TransferRequest,
    Alert,
    MarketingProfile,
    CampaignTarget,
    MarketingContact,
    Opportunity,
    Sale,
    OpeningRequest,
    PlanItem,
    JournalEntry,
    Message,
    ServiceSubscription,
    CustomerAnalysis,
    CreditAuthorization,
    CreditQuery,
    MonthEndStatus,
}
# The customer a row is about, as a lookup from the row.
PATH = {
    Customer: "pk",
    AccountBalance: "account__customer",
    LoanStatus: "account__customer",
    MonthEndStatus: "account__customer",
    CustomerUserObjectPermission: "content_object",
}
PATH[CustomerMerge] = "survivor"
# Models whose rule adds to the customer scope: a client manager's opportunities and
# prospects are their own (a colleague's, about a customer shared with them, stay
# the colleague's).
OWN_ONLY = {Opportunity, VipProspect, PlanItem}  # care: a plan item is its owner's


def expected(model, name: str) -> set[str]:
    sees = SEES[name]
    if model in OWN_ONLY and name == "cm1":
        return sees - {"shared"}
    return sees


def test_every_model_holding_a_customer_answers_visible_to():
    holding = models_holding_a_customer()
    assert AccountBalance in holding and CampaignTarget in holding  # the enumeration works
    missing = [m._meta.label for m in holding if not hasattr(m._default_manager.all(), "visible_to")]
    assert not missing, f"models holding a customer without objects.visible_to(user): {missing}"
    untested = [m._meta.label for m in holding if m not in BUILT]
    assert not untested, f"add these models to tests/customers/test_scope.py: {untested}"


@pytest.mark.parametrize("model", sorted(BUILT, key=lambda m: m._meta.label), ids=lambda m: m._meta.label)
def test_each_role_sees_exactly_the_rows_of_the_customers_it_may_see(world, model):
    customers = world["customers"]
    for customer in customers.values():
        _build(model, customer, world)
    label_of = {customer.pk: label for label, customer in customers.items()}
    path = PATH.get(model, "customer")
    for name in VIEWERS:
        user = viewer(world, name)
        rows = model.objects.visible_to(user)
        if model is Alert and name in ("cm1", "cm3"):
            assert not rows.exclude(assignee=user).exists(), name  # a client manager: their own only
        seen = {label_of[pk] for pk in rows.values_list(path, flat=True) if pk in label_of}
        assert seen == expected(model, name), (model._meta.label, name)


def test_a_client_manager_sees_their_own_opportunity_with_a_shared_customer(world):
    shared = world["customers"]["shared"]
    mine = Opportunity.objects.create(
        customer=shared,
        manager=world["users"]["cm1"],
        product=_product(),
        expected_amount=Decimal("1"),
        expected_close_date=TODAY,
    )
    _build(Opportunity, shared, world)  # demo_cm3's, the manager of record
    theirs = Opportunity.objects.exclude(pk=mine.pk).get()
    assert list(Opportunity.objects.visible_to(viewer(world, "cm1"))) == [mine]
    assert list(Opportunity.objects.visible_to(viewer(world, "cm3"))) == [theirs]
    assert Opportunity.objects.visible_to(viewer(world, "bm")).count() == 2


def test_a_pair_is_visible_only_when_both_customers_are(world):
    own, foreign = world["customers"]["own"], world["customers"]["foreign"]
    pair = DataQualityIssue.objects.create(
        kind="duplicate_id",
        customer=own,
        other_customer=foreign,
        pair_key=str(foreign.pk),
        branch=own.home_branch,
    )
    single = DataQualityIssue.objects.create(kind="missing_data", customer=own, branch=own.home_branch)
    merge = CustomerMerge.objects.create(
        survivor=own, merged=foreign, merged_by=world["users"]["bm"], reason="r"
    )
    for name in ("cm1", "bh"):
        assert set(DataQualityIssue.objects.visible_to(viewer(world, name))) == {single}, name
        assert not CustomerMerge.objects.visible_to(viewer(world, name)).exists(), name
    assert set(DataQualityIssue.objects.visible_to(viewer(world, "bm"))) == {pair, single}
    assert list(CustomerMerge.objects.visible_to(viewer(world, "bm"))) == [merge]


def test_an_alert_about_no_customer_is_its_assignees_and_their_branch_heads(world):
    def team(assignee, branch_code: str) -> Alert:
        return Alert.objects.create(
            kind="team_overdue",
            customer=None,
            event_key=f"{branch_code}:{TODAY}",
            event_date=TODAY,
            due_date=TODAY,
            assignee=assignee,
            branch=Branch.objects.get(code=branch_code),
            figures={"manager": "E1101", "count": 3},
        )

    haidian = team(world["users"]["bh"], "11101")
    shanghai = team(None, "12101")
    assert list(Alert.objects.visible_to(viewer(world, "bh"))) == [haidian]
    assert not Alert.objects.visible_to(viewer(world, "cm1")).exists()
    assert set(Alert.objects.visible_to(viewer(world, "bm"))) == {haidian, shanghai}
    assert not Alert.objects.visible_to(viewer(world, "nobody")).exists()


def test_a_prospect_not_yet_a_customer_follows_its_manager_and_branch(world):
    prospect = VipProspect.objects.create(
        name="周先生",
        source="referral",
        estimated_assets=Decimal("1"),
        manager=world["users"]["cm1"],
        branch=world["customers"]["own"].home_branch,
    )
    for name, sees in {"cm1": True, "bh": True, "bm": True, "cm3": False, "nobody": False}.items():
        assert VipProspect.objects.visible_to(viewer(world, name)).filter(pk=prospect.pk).exists() == sees, (
            name
        )


def test_the_customer_scope_keeps_the_shapes_the_search_reads_apart(world):
    # a branch head: the subtree's branch ids as constants (no subquery), read once
    bh = viewer(world, "bh")
    condition = customer_scope(bh)
    ((lookup, branch_ids),) = condition.children
    assert lookup == "home_branch_id__in" and isinstance(branch_ids, list) and len(branch_ids) == 3
    # a client manager with a grant: "mine OR shared", the grants as constants
    cm1 = viewer(world, "cm1")
    mine, shared = customer_scope(cm1).children
    assert mine == ("primary_manager", cm1)
    assert shared == ("pk__in", [world["customers"]["shared"].pk])
    assert customer_scope(cm1, "account__customer").children[1] == (
        "account__customer__in",
        [world["customers"]["shared"].pk],
    )
    # head office: no condition at all; no role: nothing
    assert customer_scope(viewer(world, "bm")) == Q()
    assert customer_scope(viewer(world, "nobody")) is None
    assert not Customer.objects.visible_to(viewer(world, "nobody")).exists()


def test_a_restricted_prefetch_hides_related_customers_outside_the_scope(world):
    own, foreign = world["customers"]["own"], world["customers"]["foreign"]
    Relationship.objects.create(customer=own, relation_type="sibling", related_customer=foreign)

    def related(name):
        user = viewer(world, name)
        prefetch = visible_prefetch(user, "related_customer", Customer.objects.all())
        (row,) = Relationship.objects.visible_to(user).filter(customer=own).prefetch_related(prefetch)
        return row.related_customer

    assert related("cm1") is None and related("bh") is None
    assert related("bm") == foreign


@pytest.mark.parametrize(
    "module", [customer_permissions, vip_permissions, marketing_permissions], ids=lambda m: m.__name__
)
def test_every_access_function_asks_whether_it_is_for_a_change(module):
    functions = [f for name, f in vars(module).items() if name.startswith("access_") and callable(f)]
    assert functions
    for function in functions:
        parameter = inspect.signature(function).parameters["for_change"]
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, function.__name__
        assert parameter.default is inspect.Parameter.empty, function.__name__  # required


# --- the places that used to read around the scope ----------------------------------------


def test_the_managers_page_counts_only_the_customers_the_user_may_see(
    client, world, new_customer, demo_password
):
    cm1 = world["users"]["cm1"]
    # a customer of demo_cm1's homed in Shanghai: outside demo_bh's subtree
    new_customer(branch="12101", manager=cm1, name="沪", aum="5000")
    Customer.objects.filter(pk=world["customers"]["own"].pk).update(aum=Decimal("700"))

    def cm1_figures(username):
        client.logout()
        log_in(client, username, demo_password)
        managers = client.get("/vip/managers/").context["managers"]
        row = next(m for m in managers if m.pk == cm1.pk)
        return row.book_size, row.book_aum

    assert cm1_figures("demo_bh") == (1, Decimal("700"))
    assert cm1_figures("demo_bm") == (2, Decimal("5700"))


def test_logging_a_contact_with_a_customer_outside_the_scope_is_404_and_writes_nothing(
    client, world, demo_password
):
    foreign = world["customers"]["foreign"]
    log_in(client, "demo_cm1", demo_password)
    url = f"/customers/{foreign.customer_no}/interactions/"
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = client.post(url, {"kind": "call", "subject": "hello"}, **headers)
        assert response.status_code == 404
    assert not Interaction.objects.filter(customer=foreign).exists()
    # the same form on the manager's own customer is logged
    own = world["customers"]["own"]
    client.post(f"/customers/{own.customer_no}/interactions/", {"kind": "call", "subject": "hello"})
    assert Interaction.objects.filter(customer=own, subject="hello").exists()


def test_the_customer_services_refuse_a_customer_outside_the_users_scope(world):
    cm1, foreign = viewer(world, "cm1"), world["customers"]["foreign"]
    writes = [
        lambda: customer_update(customer=foreign, updated_by=cm1, occupation="教师"),
        lambda: contact_add(
            customer=foreign, type="EMAIL", value="x@example.com", is_primary=False, added_by=cm1
        ),
        lambda: interaction_log(customer=foreign, kind="call", subject="hello", logged_by=cm1),
        lambda: pii_reveal(user=cm1, customer=foreign, field="mobile", reason="calling back"),
    ]
    for write in writes:
        with pytest.raises(PermissionDenied):
            write()
    foreign.refresh_from_db()
    assert foreign.occupation == ""
    assert not Interaction.objects.filter(customer=foreign).exists()
    assert not ContactPoint.objects.filter(customer=foreign, type="EMAIL").exists()
    # shared with them: the same services write
    shared = world["customers"]["shared"]
    interaction_log(customer=shared, kind="call", subject="hello", logged_by=cm1)
    assert Interaction.objects.filter(customer=shared).exists()


# --- the views: one base narrows them -------------------------------------------------------

# Pages fetching one object by a key that is not about a customer's data: the user's
# own exports, head office's tier-parameter proposals, the channels.
NOT_SCOPED = {
    "ExportDetailView",
    "ExportDownloadView",
    "ProposalDecisionView",
    "ChannelEditView",
    "ChannelSwitchView",
}


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def test_every_page_fetching_one_object_fetches_it_through_an_access_function():
    offences = []
    for route, pattern in _routes(get_resolver().url_patterns):
        view = getattr(pattern.callback, "view_class", None)
        if not route.startswith(("customers/", "vip/", "marketing/")) or "<" not in route or view is None:
            continue
        if view.__name__ in NOT_SCOPED:
            continue
        if not (issubclass(view, ScopedView) and view.access is not None):
            offences.append(f"{route} {view.__name__}")
    assert not offences, offences


def test_a_scoped_view_refuses_a_queryset_it_cannot_narrow(rf, world):
    class Broken(ScopedView):
        queryset = Branch.objects.all()  # no visible_to(user)

    request = rf.get("/")
    request.user = viewer(world, "bm")
    with pytest.raises(ImproperlyConfigured):
        Broken.as_view()(request)


def test_a_list_page_reads_its_queryset_narrowed_to_the_user(client, world, demo_password):
    log_in(client, "demo_cm1", demo_password)
    listed = {c.pk for c in client.get("/customers/").context["customers"]}
    customers = world["customers"]
    assert listed == {customers["own"].pk, customers["shared"].pk}
