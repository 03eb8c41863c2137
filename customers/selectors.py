"""Reads about customers. Every read starts from `Customer.objects.visible_to(user)`."""

from __future__ import annotations

import base64
import datetime
import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.lookups import In
from django.db.models.sql.where import AND, OR, WhereNode
from django.utils import timezone

from accounts.models import Branch
from core.db import read_with
from core.months import month_starts

from . import crypto
from .choices import ASSET_CATEGORIES, AccountCategory, AccountStatus
from .crypto import cipher
from .idnumbers import normalise_mobile
from .models import (
    Account,
    ContactPoint,
    Customer,
    CustomerAssignment,
    CustomerMonthlyAum,
    Interaction,
    OtherAsset,
    Relationship,
)
from .panels import CAMPAIGNS, REMINDERS, PanelItem, panel_items
from .querysets import visible_prefetch
from .search_text import EXTRA_TOKEN_NAMES, later_char_token, query_grams

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
RESIDENT_ID_RE = re.compile(r"^\d{17}[\dX]$|^\d{15}$")
ID_SUFFIX_RE = re.compile(r"^\d{5}[\dX]$")
DIGITS_RE = re.compile(r"^\d+$")
NUMBER_RE = re.compile(r"^[A-Z]{0,3}\d{6,}$")
LATIN_RE = re.compile(r"^[a-z]+$")

# sort name -> (field, descending); `id` breaks ties in the same direction.
SORTS: dict[str, tuple[str, bool]] = {
    "aum": ("aum", True),
    "-aum": ("aum", False),
    "name": ("name", False),
    "customer_no": ("customer_no", False),
}
COUNT_CAP = 500
AUM_ORDERED_INDEXES = {"customer_aum_desc", "customer_branch_aum", "customer_manager_aum"}  # migration 0007
BRANCH_PARTS_MAX = 16  # a search held to more branches walks the bank's AUM index (_ordered_keys)
# The planner settings of fetching a search's matches in order. A scope or AUM
# range holds a quarter of the bank where a text match holds a few thousand rows:
# left to itself the planner ANDs the bitmap of the quarter (300,000 entries, 15-45
# ms to build) with the text match's to save heap visits that cost less. Pricing
# index entries higher makes it test the scope and range on the rows the text
# index returns, or walk the AUM-ordered index when the matches are dense. Table
# pages are in memory (random_page_cost as for an SSD or cached data); parallel
# workers and JIT compilation cost more to start than such a read takes.
MATCH_SETTINGS = {
    "cpu_index_tuple_cost": "0.05",
    "random_page_cost": "1.1",
    "jit": "off",
    "max_parallel_workers_per_gather": "0",
}


@dataclass(frozen=True)
class SearchFilters:
    branch: str = ""  # branch code; its subtree is searched
    tier: str = ""
    status: str = ""
    manager: str = ""  # employee number
    aum_min: Decimal | None = None
    aum_max: Decimal | None = None
    age_min: int | None = None
    age_max: int | None = None
    product: str = ""  # account category held (open)


def classify_query(q: str) -> str:
    """What was typed: mobile, mobile_suffix (last 4), id_number, id_suffix (last 6),
    number (customer or account number), pinyin, or name. Digits can be several
    things at once; the condition looks in every place that shape can live."""
    q = q.strip().upper()
    mobile = normalise_mobile(q)
    if MOBILE_RE.match(mobile):
        return "mobile"
    if DIGITS_RE.match(q) and len(q) == 4:
        return "mobile_suffix"
    if ID_SUFFIX_RE.match(q):
        return "id_suffix"
    if RESIDENT_ID_RE.match(q):
        return "id_number"
    if NUMBER_RE.match(q):
        return "number"
    if LATIN_RE.match(q.lower()):
        return "pinyin"
    return "name"


def _blind(value: str, context: str) -> str:
    return cipher().blind_index(value, context=context)


def _number_condition(q: str, *, mobile_hash: str = "") -> Q:
    """A number may be a customer number, an account number, an ID number or a
    mobile. Each place is an exact index lookup; they are resolved together in one
    UNION query first, because an OR across tables and subqueries would make
    PostgreSQL scan the whole customer table."""
    by_number = Customer.objects.filter(customer_no=q).values_list("pk", flat=True)
    lookups = [
        Account.objects.filter(account_no=q).values_list("customer_id", flat=True),
        Customer.objects.filter(id_hash=_blind(q.upper(), crypto.ID_NUMBER)).values_list("pk", flat=True),
    ]
    if mobile_hash:
        lookups.append(Customer.objects.filter(mobile_hash=mobile_hash).values_list("pk", flat=True))
        lookups.append(
            ContactPoint.objects.filter(value_hash=mobile_hash).values_list("customer_id", flat=True)
        )
    ids = set(by_number.union(*lookups))
    return Q(pk__in=ids)


def text_condition(q: str) -> Q:
    """The condition for the search text (scope and filters are applied apart)."""
    q = q.strip()
    kind = classify_query(q)
    if kind == "mobile":
        return _number_condition(q, mobile_hash=_blind(normalise_mobile(q), crypto.MOBILE))
    if kind == "mobile_suffix":
        return Q(mobile_suffix=q)
    if kind == "id_suffix":
        return Q(id_suffix=q.upper())
    if kind in ("id_number", "number"):
        return _number_condition(q)
    if kind == "pinyin":
        return _pinyin_condition(q.lower())
    grams = query_grams(q)
    if grams == [q] and len(q) == 1:
        # one character: first in the name (an index range), or later (one token)
        return Q(name__startswith=q) | Q(search_tokens__tokens_match=later_char_token(q))
    if grams:
        condition = Q(search_tokens__tokens_match=" & ".join(grams))
        # 3+ characters: the pieces narrow it down, the name itself decides
        return condition & Q(name__contains=q) if len(q) > 2 else condition
    return Q(name__icontains=q) | Q(customer_no=q)


def _pinyin_condition(prefix: str) -> Q:
    """A name token starting with `prefix`. From two letters on, written as the
    three places such a token can be: the pinyin or initials column (each an
    index range), or, for the few names with more tokens than those two
    (search_text.EXTRA_TOKEN_NAMES), the search vector; keyset_page reads each
    place apart. One letter matches a tenth of the bank: that search walks the
    AUM-ordered index instead."""
    tokens = Q(search_tokens__tokens_match=f"{prefix}:*")
    if len(prefix) < 2:
        return tokens
    extra = Q(name__regex=EXTRA_TOKEN_NAMES[0]) | Q(name__regex=EXTRA_TOKEN_NAMES[1])
    return Q(name_initials__startswith=prefix) | Q(name_pinyin__startswith=prefix) | (extra & tokens)


def _apply_filters(customers: QuerySet[Customer], f: SearchFilters) -> QuerySet[Customer]:
    if f.branch:
        root = Branch.objects.filter(code=f.branch).first()
        if root is None:
            return customers.none()
        customers = customers.filter(
            home_branch_id__in=list(Branch.objects.subtree(root).values_list("pk", flat=True))
        )
    if f.tier:
        customers = customers.filter(tier=f.tier)
    if f.status:
        customers = customers.filter(status=f.status)
    if f.manager:
        customers = customers.filter(primary_manager__employee_no=f.manager)
    if f.aum_min is not None:
        customers = customers.filter(aum__gte=f.aum_min)
    if f.aum_max is not None:
        customers = customers.filter(aum__lte=f.aum_max)
    today = timezone.localdate()
    if f.age_min is not None:
        customers = customers.filter(birth_date__lte=_years_before(today, f.age_min))
    if f.age_max is not None:
        customers = customers.filter(birth_date__gt=_years_before(today, f.age_max + 1))
    if f.product:
        held = Account.objects.filter(customer=OuterRef("pk"), category=f.product, status=AccountStatus.OPEN)
        customers = customers.filter(Exists(held))
    return customers


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def customer_search(
    *,
    user,
    q: str = "",
    filters: SearchFilters | None = None,
    sort: str = "aum",
    customers: QuerySet[Customer] | None = None,
) -> QuerySet[Customer]:
    """Customers in the user's scope matching the text and filters, in a stable
    order (the sort key, then id) so that keyset pagination can follow it.
    `customers`: the scoped queryset a view already holds (`core.views.ScopedView`,
    narrowed to `user`); by default `Customer.objects.visible_to(user)`."""
    if customers is None:
        customers = Customer.objects.visible_to(user)
    customers = customers.filter(merged_into__isnull=True)
    q = (q or "").strip()
    if q:
        customers = customers.filter(text_condition(q))
    customers = _apply_filters(customers, filters or SearchFilters())
    field, descending = SORTS.get(sort, SORTS["aum"])
    order = (f"-{field}", "-id") if descending else (field, "id")
    return customers.select_related("home_branch", "primary_manager").order_by(*order)


@dataclass(frozen=True)
class KeysetPage:
    rows: list[Customer]
    next_cursor: str
    count: int
    count_capped: bool
    is_first: bool


def _encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, field: str) -> tuple[Any, int] | None:
    """The (sort value, id) a cursor carries, or None for anything this portal did
    not write: the cursor comes back from the browser, and a search starts again
    at its first page rather than fail on a forged one."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        return None
    if not isinstance(values, list) or len(values) != 2:
        return None
    value, last_id = values
    if not isinstance(last_id, int) or isinstance(last_id, bool):
        return None
    if field != "aum":
        return (value, last_id) if isinstance(value, str) else None
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        return None
    return (amount, last_id) if isinstance(value, (str, int, float)) and amount.is_finite() else None


def keyset_page(customers: QuerySet[Customer], *, sort: str, cursor: str = "", size: int = 25) -> KeysetPage:
    """One page after `cursor` (the sort value and id of the previous page's last
    row): an index range scan however deep the page, unlike OFFSET. The count is
    capped, so counting never reads a whole bank's worth of rows.

    The first page is one pass over the matches: the keys (id and sort value) of
    the first COUNT_CAP + 1 matches in order are both the count and the page, and
    the page's rows are then read by primary key (a page larger than the cap reads
    as many keys as it shows). PostgreSQL chooses between sorting the matches
    (few) and walking the AUM-ordered index (many: the first 501 are found early);
    a later page counts apart and reads only its keys (_ordered_keys)."""
    field, descending = SORTS.get(sort, SORTS["aum"])
    after = _decode_cursor(cursor, field) if cursor else None
    if customers.query.is_empty():  # `.none()`: nothing to read, nothing to compile
        return KeysetPage([], "", 0, False, after is None)
    if after is not None:
        value, last_id = after
        op = "lt" if descending else "gt"
        after_q = Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"id__{op}": last_id})
    order = (f"-{field}", "-id") if descending else (field, "id")
    with read_with(**MATCH_SETTINGS):
        if after is None:
            found = _ordered_keys(customers, order, max(COUNT_CAP, size) + 1)
            capped = len(found)
        else:
            capped = len(_ordered_keys(customers, order, COUNT_CAP + 1))
            found = _ordered_keys(customers, order, size + 1, after=after_q)
    has_more = len(found) > size
    found = found[:size]
    by_pk = {c.pk: c for c in _by_key(customers, [pk for pk, _value in found])}
    rows = [by_pk[pk] for pk, _value in found if pk in by_pk]
    next_cursor = _encode_cursor([found[-1][1], found[-1][0]]) if has_more else ""
    return KeysetPage(rows, next_cursor, min(capped, COUNT_CAP), capped > COUNT_CAP, after is None)


def _by_key(customers: QuerySet[Customer], ids: list[int]) -> QuerySet[Customer]:
    """The rows of `ids`, found by `customers` just before, with what `customers`
    selects (related rows, annotations) but not its conditions: testing the text
    match, the scope and the filters again on rows that passed them costs more to
    plan than to read the rows."""
    rows = customers.order_by()
    rows.query.where = WhereNode()
    return rows.filter(pk__in=ids)


def _ordered_keys(customers: QuerySet[Customer], order: tuple[str, str], limit: int, after: Q | None = None):
    """(id, sort value) of the first `limit` customers in `order`, after the
    cursor condition `after` if any.

    On PostgreSQL a search is read in parts, each ordered and limited, and the
    first `limit` of their union kept, when
    - it has one OR of a few alternatives (the places a name or pinyin prefix can
      be, or a manager's own customers and those shared with them): each
      alternative is then one index range or one ordered walk, where the OR as a
      whole makes PostgreSQL visit every match in the table;
    - otherwise, it is held to a few branches (a branch head's subtree, the branch
      filter) and PostgreSQL would answer it from the AUM-ordered indexes: each
      branch's own index is walked in order, as far as the limit, instead of
      walking the bank's (passing over every other branch's customers) or reading
      the whole AUM range of every branch to sort it. (An index cannot be read in
      order for `branch IN (...)`; limited parts of a UNION ALL are merged in
      order.) When it would rather fetch the matches of a text index, those are
      fetched once for all branches. Alternatives are not read per branch too:
      asking for each one's plan costs more than it saves (measured)."""
    field = order[0].lstrip("-")

    def keys(search: QuerySet[Customer]) -> QuerySet:
        search = search if after is None else search.filter(after)
        return search.values_list("pk", field).order_by(*order)[:limit]

    if connection.vendor != "postgresql":
        return list(keys(customers))
    alternatives = _alternatives(customers)
    if alternatives:
        return _first_of_union([keys(part) for part in alternatives], order, limit, distinct=True)
    branches = _per_branch(customers) if field == "aum" else []
    if branches and _reads_aum_order(keys(customers)):
        return _first_of_union([keys(part) for part in branches], order, limit, distinct=False)
    return list(keys(customers))


def _first_of_union(
    parts: list[QuerySet], order: tuple[str, str], limit: int, *, distinct: bool
) -> list[tuple]:
    sqls, params = [], []
    for part in parts:
        try:
            sql, part_params = part.query.sql_with_params()
        except EmptyResultSet:  # a part that can match nothing (`pk IN ()`) adds nothing
            continue
        sqls.append(f"({sql})")
        params.extend(part_params)
    if not sqls:
        return []
    direction = "DESC" if order[0].startswith("-") else "ASC"
    union = (" UNION " if distinct else " UNION ALL ").join(sqls)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM ({union}) AS keys ORDER BY 2 {direction}, 1 {direction} LIMIT %s",
            [*params, limit],
        )
        return cursor.fetchall()


def _reads_aum_order(keys: QuerySet) -> bool:
    """Whether PostgreSQL's plan for `keys` reads an AUM-ordered index (walking it,
    or a range of it to sort), rather than the matches of a text or name index
    (no: a search that can match nothing, which Django answers without a query)."""
    try:
        sql, params = keys.query.sql_with_params()
    except EmptyResultSet:
        return False
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plans = [cursor.fetchone()[0][0]["Plan"]]
    while plans:
        plan = plans.pop()
        if plan.get("Index Name") in AUM_ORDERED_INDEXES:
            return True
        plans += plan.get("Plans", [])
    return False


def _per_branch(customers: QuerySet[Customer]) -> list[QuerySet[Customer]]:
    """The search once per home branch it is held to (`home_branch_id__in` of the
    data scope or the branch filter, ANDed in), `= branch` in place of the lists;
    none when it is held to one branch, to none, or to more than BRANCH_PARTS_MAX."""
    where = customers.query.where
    if where.connector != AND or where.negated:
        return []
    home_branch = Customer._meta.get_field("home_branch")
    lists = [
        (i, set(condition.rhs))
        for i, condition in enumerate(where.children)
        if isinstance(condition, In)
        and getattr(condition.lhs, "target", None) is home_branch
        and isinstance(condition.rhs, (list, tuple, set))
    ]
    branches = sorted(set.intersection(*(values for _i, values in lists))) if lists else []
    if not 1 < len(branches) <= BRANCH_PARTS_MAX:
        return []
    parts = []
    for branch in branches:
        part = customers.all()  # a clone, whose conditions can be replaced
        for i, _values in lists:
            condition = part.query.where.children[i]
            part.query.where.children[i] = type(condition)(condition.lhs, [branch])
        parts.append(part)
    return parts


def _alternatives(customers: QuerySet[Customer]) -> list[QuerySet[Customer]]:
    """The search once per alternative of its one top-level OR (of two to four),
    the OR replaced by that alternative; none when it has no such OR, or several."""
    where = customers.query.where
    if where.connector != AND or where.negated:
        return []
    ors = [
        i
        for i, condition in enumerate(where.children)
        if isinstance(condition, WhereNode) and condition.connector == OR and not condition.negated
    ]
    if len(ors) != 1 or not 2 <= len(where.children[ors[0]].children) <= 4:
        return []
    arms = []
    for alternative in where.children[ors[0]].children:
        arm = customers.all()  # a clone, whose conditions can be replaced
        arm.query.where.children[ors[0]] = alternative
        arms.append(arm)
    return arms


@dataclass
class AccountGroup:
    category: str
    label: str
    accounts: list[Account]
    total: Decimal
    is_asset: bool


@dataclass
class Customer360:
    customer: Customer
    contacts: list[ContactPoint]
    account_groups: list[AccountGroup]
    aum_trend: list[dict[str, Any]]
    household_members: list[Customer]
    household_aum: Decimal
    relationships: list[Relationship]
    other_assets: list[OtherAsset]
    other_assets_total: Decimal
    interactions: list[Interaction]
    assignments: list[CustomerAssignment]
    reminders: list[PanelItem] = field(default_factory=list)
    campaigns: list[PanelItem] = field(default_factory=list)


def aum_trend(
    customer: Customer, *, months: int = 13, end: datetime.date | None = None
) -> list[dict[str, Any]]:
    """Month-average and month-end AUM for the last `months` months (zero where the
    customer held nothing), one query."""
    end = end or customer.aum_date or timezone.localdate()
    starts = month_starts(end, months)
    rows = {
        r.month: r
        for r in CustomerMonthlyAum.objects.filter(
            customer=customer, month__gte=starts[0], month__lte=starts[-1]
        )
    }
    return [
        {
            "month": m.strftime("%Y-%m"),
            "avg_aum": rows[m].avg_aum if m in rows else Decimal("0"),
            "end_aum": rows[m].end_aum if m in rows else Decimal("0"),
        }
        for m in starts
    ]


def household_aum(household_id: int) -> Decimal:
    total = Customer.objects.filter(household_id=household_id).aggregate(total=Sum("aum"))["total"]
    return total or Decimal("0")


def customer_360(customer: Customer, *, user=None, interactions: int = 20) -> Customer360:
    """Everything the 360 view shows, in a fixed number of queries whatever the
    number of accounts, contacts or interactions (the customer row is already
    loaded with its branch, manager and household by access_customer).

    With `user`, each household member carries `in_scope`: members outside the
    user's scope count in the household AUM but show no name or balance; a related
    customer outside it reads as None (the relationship shows, not who it is)."""
    contacts = list(customer.contacts.order_by("type", "-is_primary", "pk"))
    labels = dict(AccountCategory.choices)
    groups: OrderedDict[str, AccountGroup] = OrderedDict()
    accounts = customer.accounts.exclude(status=AccountStatus.CLOSED).order_by("category", "-cny_balance")
    for account in accounts:
        group = groups.get(account.category)
        if group is None:
            group = groups[account.category] = AccountGroup(
                account.category,
                str(labels.get(account.category, account.category)),
                [],
                Decimal("0"),
                account.category in ASSET_CATEGORIES,
            )
        group.accounts.append(account)
        group.total += account.cny_balance
    order = list(AccountCategory.values)
    account_groups = sorted(
        groups.values(), key=lambda g: order.index(g.category) if g.category in order else 99
    )
    members: list[Customer] = []
    if customer.household_id:
        member_rows = Customer.objects.filter(household_id=customer.household_id).only(
            "customer_no", "name", "household_role", "aum", "household_id"
        )
        if user is not None:
            visible = Customer.objects.visible_to(user).filter(pk=OuterRef("pk"))
            member_rows = member_rows.annotate(in_scope=Exists(visible))
        members = list(member_rows.order_by("household_role", "customer_no"))
    assets = list(customer.other_assets.order_by("kind", "pk"))
    relationships = customer.relationships.order_by("relation_type", "pk")
    if user is not None:
        # A related customer outside the user's scope reads as None: the page
        # shows the relationship, not who it is.
        related = Customer.objects.only("customer_no", "name")
        relationships = relationships.prefetch_related(visible_prefetch(user, "related_customer", related))
    else:
        relationships = relationships.select_related("related_customer")
    return Customer360(
        customer=customer,
        contacts=contacts,
        account_groups=account_groups,
        aum_trend=aum_trend(customer),
        household_members=members,
        household_aum=sum((m.aum for m in members), Decimal("0")),
        relationships=list(relationships),
        other_assets=assets,
        other_assets_total=sum((a.estimated_value for a in assets), Decimal("0")),
        interactions=list(
            customer.interactions.select_related("manager").order_by("-occurred_at", "-pk")[:interactions]
        ),
        assignments=list(customer.assignments.select_related("manager").order_by("-start_date", "-pk")[:10]),
        reminders=panel_items(REMINDERS, customer, user) if user is not None else [],
        campaigns=panel_items(CAMPAIGNS, customer, user) if user is not None else [],
    )
