"""The suspicious-operation report: rules over the audit trail, each one grouped query
for a range of days.

A finding is one rule matched by one username on one local day (Asia/Shanghai):

- bulk export: an export of more than EXPORT_ROWS rows, or more than EXPORTS_PER_DAY
  exports in the day;
- off hours: anything done before WORKDAY_START or from WORKDAY_END o'clock, or on
  a Saturday or Sunday;
- outside the scope: at least OUTSIDE_SCOPE_PER_DAY customers asked for that the
  user may not see (accounts.audit.Action.CUSTOMER_ACCESS_REFUSED, written by
  customers.permissions.access_customer);
- failed logins: at least FAILED_LOGINS_PER_DAY failed logins or lock-outs of the
  username (which need not exist);
- personal data: more reveals than settings.PII_REVEAL_DAILY_LIMIT;
- credit-report queries (征信查询) beyond the usual: more than
  CREDIT_QUERIES_PER_DAY queries asked for in the day (granted or refused: the
  events Action.CREDIT_QUERY_REQUESTED and CREDIT_QUERY_REFUSED), or at least
  CREDIT_QUERIES_PEER_MIN and CREDIT_QUERIES_PEER_FACTOR times the median of the
  day's other requesters, when there are at least CREDIT_QUERIES_PEERS of them;
- credit-report queries refused: at least CREDIT_REFUSALS_PER_DAY queries refused
  for want of the customer's valid authorization (Action.CREDIT_QUERY_REFUSED).
  Both credit rules read the audit events by action: this module knows nothing of
  the credit app above it (docs/credit.md, "Credit-report queries").

Only an auditor's review of a finding is stored (accounts.models.FindingReview); the
findings themselves are computed again on every reading, so a threshold changed here
applies to the past too.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from statistics import median
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, IntegerField, Max, Min, Q, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, ExtractHour, ExtractIsoWeekDay, TruncDate
from django.urls import reverse
from django.utils import timezone

from .audit import Action
from .models import AuditEvent, FindingReview, FindingRule, User

# The thresholds, in one place.
EXPORT_ROWS = 5000  # one export of more rows than this
EXPORTS_PER_DAY = 10  # more exports than this in a day
WORKDAY_START, WORKDAY_END = 8, 20  # local hours: 08:00 to 20:00 is working time
OUTSIDE_SCOPE_PER_DAY = 3  # refused customers in a day, at least
FAILED_LOGINS_PER_DAY = 3  # failed logins or lock-outs of a username in a day, at least
CREDIT_QUERIES_PER_DAY = 10  # credit-report queries asked for in a day, more than this
CREDIT_QUERIES_PEER_MIN = 5  # ...or at least this many, and
CREDIT_QUERIES_PEER_FACTOR = 3  # at least this many times the median of the day's other requesters
CREDIT_QUERIES_PEERS = 2  # who must be at least this many
CREDIT_REFUSALS_PER_DAY = 3  # credit-report queries refused in a day, at least
_CREDIT_ASKED = (Action.CREDIT_QUERY_REQUESTED, Action.CREDIT_QUERY_REFUSED)
CREDIT_RULES = (FindingRule.CREDIT_QUERIES, FindingRule.CREDIT_REFUSALS)

# The action each rule's "see the events" link filters on (none: every action).
_LOG_ACTION = {
    FindingRule.BULK_EXPORT: Action.EXPORT,
    FindingRule.OFF_HOURS: "",
    FindingRule.OUTSIDE_SCOPE: Action.CUSTOMER_ACCESS_REFUSED,
    FindingRule.FAILED_LOGINS: Action.LOGIN_FAILED,
    FindingRule.PII_REVEALS: Action.PII_REVEALED,
    FindingRule.CREDIT_QUERIES: "",
    FindingRule.CREDIT_REFUSALS: Action.CREDIT_QUERY_REFUSED,
}


@dataclass
class Finding:
    rule: str
    username: str
    day: datetime.date
    count: int
    first: datetime.datetime
    last: datetime.datetime
    user: User | None = None
    review: FindingReview | None = None

    @property
    def rule_label(self) -> str:
        return str(FindingRule(self.rule).label)

    @property
    def log_url(self) -> str:
        query = {"actor": self.username, "date_from": self.day.isoformat(), "date_to": self.day.isoformat()}
        if _LOG_ACTION[FindingRule(self.rule)]:
            query["action"] = _LOG_ACTION[FindingRule(self.rule)]
        return f"{reverse('accounts:audit_list')}?{urlencode(query)}"


def _per_user_day(events: QuerySet[AuditEvent], **extra: Any) -> QuerySet:
    return (
        events.annotate(day=TruncDate("occurred_at"))
        .values("actor_username", "day")
        .annotate(count=Count("id"), first=Min("occurred_at"), last=Max("occurred_at"), **extra)
        .order_by()
    )


def _rule_queries(events: QuerySet[AuditEvent]) -> dict[str, QuerySet]:
    rows = Cast(KT("details__rows"), IntegerField())
    return {
        FindingRule.BULK_EXPORT: _per_user_day(events.filter(action=Action.EXPORT), rows=Max(rows)).filter(
            Q(rows__gt=EXPORT_ROWS) | Q(count__gt=EXPORTS_PER_DAY)
        ),
        FindingRule.OFF_HOURS: _per_user_day(
            events.filter(actor__isnull=False)
            .annotate(hour=ExtractHour("occurred_at"), weekday=ExtractIsoWeekDay("occurred_at"))
            .filter(Q(hour__lt=WORKDAY_START) | Q(hour__gte=WORKDAY_END) | Q(weekday__gte=6))
        ),
        FindingRule.OUTSIDE_SCOPE: _per_user_day(events.filter(action=Action.CUSTOMER_ACCESS_REFUSED)).filter(
            count__gte=OUTSIDE_SCOPE_PER_DAY
        ),
        FindingRule.FAILED_LOGINS: _per_user_day(
            events.filter(action__in=[Action.LOGIN_FAILED, Action.LOCKED_OUT])
        ).filter(count__gte=FAILED_LOGINS_PER_DAY),
        FindingRule.PII_REVEALS: _per_user_day(events.filter(action=Action.PII_REVEALED)).filter(
            count__gt=settings.PII_REVEAL_DAILY_LIMIT
        ),
    }


def _credit_query_days(events: QuerySet[AuditEvent]) -> QuerySet:
    """Every requester's credit-report queries and refusals of each day, in one
    grouped query for both credit rules (the peers' median needs every requester's
    count, so the rows are judged in Python: a few per requester and day)."""
    refused = Q(action=Action.CREDIT_QUERY_REFUSED)
    return _per_user_day(
        events.filter(action__in=_CREDIT_ASKED),
        refused=Count("id", filter=refused),
        refused_first=Min("occurred_at", filter=refused),
        refused_last=Max("occurred_at", filter=refused),
    )


def _credit_findings(rows: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The credit rules' findings among the days' rows, each as (rule, row)."""
    by_day: dict[datetime.date, list[int]] = defaultdict(list)
    for row in rows:
        by_day[row["day"]].append(row["count"])
    found: list[tuple[str, dict[str, Any]]] = []
    for row in rows:
        count = row["count"]
        peers = list(by_day[row["day"]])
        peers.remove(count)
        well_above_peers = (
            len(peers) >= CREDIT_QUERIES_PEERS
            and count >= CREDIT_QUERIES_PEER_MIN
            and count >= CREDIT_QUERIES_PEER_FACTOR * median(peers)
        )
        if count > CREDIT_QUERIES_PER_DAY or well_above_peers:
            found.append((FindingRule.CREDIT_QUERIES, row))
        if row["refused"] >= CREDIT_REFUSALS_PER_DAY:
            # the count, first and last of a refusal finding are its refusals'
            refusals = {"count": row["refused"], "first": row["refused_first"], "last": row["refused_last"]}
            found.append((FindingRule.CREDIT_REFUSALS, {**row, **refusals}))
    return found


def suspicious_findings(
    *,
    date_from: datetime.date,
    date_to: datetime.date,
    rule: str = "",
    username: str = "",
    show_reviewed: bool = False,
) -> list[Finding]:
    """The findings of the local days `date_from` to `date_to` (both included), newest
    day first, with their reviews; reviewed findings only with `show_reviewed`. One
    query per rule (one for both credit rules), one for the users and one for the
    reviews."""
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(date_from, datetime.time.min, tz)
    end = datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min, tz)
    everyone = AuditEvent.objects.filter(occurred_at__gte=start, occurred_at__lt=end).exclude(
        actor_username=""
    )
    events = everyone.filter(actor_username=username) if username else everyone
    matches: list[tuple[str, dict[str, Any]]] = [
        (str(key), row)
        for key, query in _rule_queries(events).items()
        if not rule or rule == key
        for row in query
    ]
    if not rule or rule in CREDIT_RULES:
        # read for everyone: a requester is measured against the day's other requesters
        matches += [
            (key, row)
            for key, row in _credit_findings(list(_credit_query_days(everyone)))
            if (not rule or rule == key) and (not username or row["actor_username"] == username)
        ]
    findings = [
        Finding(
            rule=key,
            username=row["actor_username"],
            day=row["day"],
            count=row["count"],
            first=row["first"],
            last=row["last"],
        )
        for key, row in matches
    ]
    if not findings:
        return []
    users = {user.username: user for user in User.objects.filter(username__in={f.username for f in findings})}
    reviews = {
        (review.rule, review.username, review.day): review
        for review in FindingReview.objects.filter(
            day__gte=date_from, day__lte=date_to, username__in={f.username for f in findings}
        ).select_related("reviewed_by")
    }
    shown = []
    for finding in findings:
        finding.user = users.get(finding.username)
        finding.review = reviews.get((finding.rule, finding.username, finding.day))
        if finding.review is None or show_reviewed:
            shown.append(finding)
    return sorted(shown, key=lambda f: (-f.day.toordinal(), f.rule, f.username))


def finding_exists(*, rule: str, username: str, day: datetime.date) -> bool:
    return any(
        f.rule == rule and f.username == username
        for f in suspicious_findings(
            date_from=day, date_to=day, rule=rule, username=username, show_reviewed=True
        )
    )
