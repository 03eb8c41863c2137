"""Credit-report queries (征信查询), the writes (docs/credit.md, "Credit-report
queries"). A bank may query a customer's credit report only with the customer's
written authorization for the purpose stated:

1. a manager records the authorization the customer signed (`authorization_record`:
   the scanned form's reference, the purpose, the day signed, valid until when, at
   most `AUTHORIZATION_MAX_DAYS` after signing), or revokes it
   (`authorization_revoke`);
2. a manager asks for a query (`query_request`). Without an authorization of that
   customer for that purpose valid today (none, another purpose only, revoked,
   expired) the query is refused at once: stored as refused with the reason, and
   audited, so that refusals can be counted (the suspicious-operation report);
3. a second person decides (`query_approve`, `query_reject`, the maker-checker flow
   of `accounts.approvals`): a holder of `credit.approve_creditquery` whose scope
   holds the customer (a branch head: the customer's branch subtree), never the
   requester; a rejection needs a reason. The requester may withdraw a pending
   query (`query_withdraw`);
4. an approved query goes to the bureau through the adapter (`credit.bureau`): the
   report reference is stored (done), or the bureau's error (failed), which a
   second person may send again (`query_retry`).

Every write is audited (accounts.audit.Action.CREDIT_*) against the customer, with
the query or authorization's id in the details."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.approvals import ApprovalFlow, decide, withdraw
from accounts.audit import Action, audit
from accounts.models import User
from customers.models import Customer
from customers.permissions import require_in_scope

from .bureau import ERROR_MAX_LENGTH, REFERENCE_MAX_LENGTH, BureauError, BureauRequest, bureau
from .choices import QueryPurpose, QueryStatus
from .models import CreditAuthorization, CreditQuery

# A written authorization is valid at most this many days after it was signed (one
# year, a leap day included): a longer relationship needs a new signature.
AUTHORIZATION_MAX_DAYS = 366

RECORD_PERMISSION = "credit.add_creditauthorization"
REQUEST_PERMISSION = "credit.add_creditquery"
APPROVE_PERMISSION = "credit.approve_creditquery"

# The statuses a query may be sent to the bureau from: just approved, or failed
# (the bureau's error, or a backend fault that left it approved) and sent again.
SENDABLE = (QueryStatus.APPROVED, QueryStatus.FAILED)


def _require_permission(user: User, permission: str) -> None:
    if not (user.is_active and user.has_perm(permission)):
        raise PermissionDenied(_("You may not do this."))


def _day(value: datetime.date) -> str:
    return formats.date_format(value, "Y-m-d")


# --- authorizations -----------------------------------------------------------------------


def _check_dates(*, signed_on: datetime.date, valid_until: datetime.date, today: datetime.date) -> None:
    errors: dict[str, str] = {}
    if signed_on > today:
        errors["signed_on"] = _("The authorization cannot be signed in the future.")
    if valid_until <= signed_on:
        errors["valid_until"] = _("The authorization must end after the day it was signed.")
    elif valid_until > signed_on + datetime.timedelta(days=AUTHORIZATION_MAX_DAYS):
        errors["valid_until"] = _(
            "An authorization is valid at most %(days)s days after it was signed: ask for a new one."
        ) % {"days": AUTHORIZATION_MAX_DAYS}
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def authorization_record(
    *,
    customer: Customer,
    form_reference: str,
    purpose: str,
    signed_on: datetime.date,
    valid_until: datetime.date,
    by: User,
) -> CreditAuthorization:
    """Record the customer's signed authorization for one purpose."""
    _require_permission(by, RECORD_PERMISSION)
    require_in_scope(by, customer)
    _check_dates(signed_on=signed_on, valid_until=valid_until, today=timezone.localdate())
    authorization = CreditAuthorization(
        customer=customer,
        form_reference=(form_reference or "").strip(),
        purpose=purpose,
        signed_on=signed_on,
        valid_until=valid_until,
        recorded_by=by,
    )
    authorization.full_clean()
    authorization.save()
    audit(
        Action.CREDIT_AUTHORIZATION_RECORDED,
        actor=by,
        target=customer,
        details={
            "authorization": authorization.pk,
            "purpose": purpose,
            "form_reference": authorization.form_reference,
            "signed_on": signed_on.isoformat(),
            "valid_until": valid_until.isoformat(),
        },
    )
    return authorization


@transaction.atomic
def authorization_revoke(*, authorization: CreditAuthorization, by: User) -> CreditAuthorization:
    """Revoke an authorization (the customer withdrew it, or it was recorded in
    error): no query may use it from now on. Revoking it again changes nothing."""
    _require_permission(by, RECORD_PERMISSION)
    row = CreditAuthorization.objects.select_for_update().select_related("customer").get(pk=authorization.pk)
    require_in_scope(by, row.customer)
    if row.revoked_at is not None:
        return row
    row.revoked_at, row.revoked_by = timezone.now(), by
    row.save(update_fields=["revoked_at", "revoked_by"])
    audit(
        Action.CREDIT_AUTHORIZATION_REVOKED,
        actor=by,
        target=row.customer,
        details={"authorization": row.pk, "purpose": row.purpose, "form_reference": row.form_reference},
    )
    return row


def authorization_state(authorization: CreditAuthorization, today: datetime.date) -> str:
    """ "valid", "revoked" or "expired" on `today`."""
    if authorization.revoked_at is not None:
        return "revoked"
    if authorization.valid_until < today:
        return "expired"
    return "valid"


def valid_authorization(
    customer: Customer, purpose: str, today: datetime.date
) -> tuple[CreditAuthorization | None, str]:
    """The customer's authorization for `purpose` valid on `today` (the latest
    signed), or None and the reason there is none, as the refusal says it."""
    authorizations = list(
        CreditAuthorization.objects.filter(customer=customer, signed_on__lte=today).order_by(
            "-signed_on", "-valid_until", "-pk"
        )
    )
    for_purpose = [a for a in authorizations if a.purpose == purpose]
    for authorization in for_purpose:
        if authorization_state(authorization, today) == "valid":
            return authorization, ""
    label = QueryPurpose(purpose).label
    if for_purpose:
        latest = for_purpose[0]
        names = {"purpose": label, "form": latest.form_reference}
        if latest.revoked_at is not None:
            names["day"] = _day(timezone.localdate(latest.revoked_at))
            return latest, _(
                "The customer's authorization for %(purpose)s (form %(form)s) was revoked on %(day)s."
            ) % names
        names["day"] = _day(latest.valid_until)
        return latest, _(
            "The customer's authorization for %(purpose)s (form %(form)s) expired on %(day)s."
        ) % names
    others = sorted({str(QueryPurpose(a.purpose).label) for a in authorizations})
    if others:
        return None, _("The customer authorized queries for %(others)s only, not for %(purpose)s.") % {
            "others": ", ".join(others),
            "purpose": label,
        }
    return None, _("No written authorization of this customer for %(purpose)s is recorded.") % {
        "purpose": label
    }


# --- queries ------------------------------------------------------------------------------


def _query_details(query: CreditQuery, **extra: Any) -> dict[str, Any]:
    return {
        "query": query.pk,
        "purpose": query.purpose,
        "status": query.status,
        "authorization": query.authorization_id,
        **extra,
    }


@transaction.atomic
def query_request(*, customer: Customer, purpose: str, by: User) -> CreditQuery:
    """Ask for a query of the customer's credit report. Returns the query, pending
    a second person's decision, or refused (`refusal` says why) when the customer
    has no authorization for the purpose valid today; a query of the customer for
    the purpose already waiting is refused without being stored (ValidationError)."""
    _require_permission(by, REQUEST_PERMISSION)
    customer = require_in_scope(by, customer, lock=True)
    if purpose not in QueryPurpose.values:
        raise ValidationError({"purpose": _("Choose a purpose.")})
    if CreditQuery.objects.filter(customer=customer, purpose=purpose, status=QueryStatus.PENDING).exists():
        raise ValidationError(
            _("A query of this customer for %(purpose)s is already waiting for approval.")
            % {"purpose": QueryPurpose(purpose).label}
        )
    authorization, refusal = valid_authorization(customer, purpose, timezone.localdate())
    query = CreditQuery.objects.create(
        customer=customer,
        purpose=purpose,
        authorization=authorization,
        proposed_by=by,
        status=QueryStatus.REFUSED if refusal else QueryStatus.PENDING,
        refusal=refusal[:200],
    )
    if refusal:
        audit(
            Action.CREDIT_QUERY_REFUSED,
            actor=by,
            target=customer,
            details=_query_details(query, reason=query.refusal),
        )
    else:
        audit(Action.CREDIT_QUERY_REQUESTED, actor=by, target=customer, details=_query_details(query))
    return query


def _check_query_scope(query: CreditQuery, by: User) -> None:
    require_in_scope(by, query.customer)


def _still_authorized(query: CreditQuery, by: User) -> dict[str, Any]:
    """The effect of an approval: the authorization must still hold today (it may
    have been revoked or have expired since the request)."""
    authorization, refusal = valid_authorization(query.customer, query.purpose, timezone.localdate())
    if refusal:
        raise ValidationError(_("%(reason)s Reject the query.") % {"reason": refusal}, code="unauthorized")
    query.authorization = authorization
    return {"authorization": query.authorization_id}


def _query_decision_details(query: CreditQuery, decision: str) -> dict[str, Any]:
    return _query_details(query)


QUERY_FLOW: ApprovalFlow[CreditQuery] = ApprovalFlow(
    model=CreditQuery,
    item=gettext_lazy("credit-report query"),
    permission=APPROVE_PERMISSION,
    action=Action.CREDIT_QUERY_DECIDED,
    on_approve=_still_authorized,
    check=_check_query_scope,
    details=_query_decision_details,
    audit_target=lambda query: query.customer,
    related=("customer", "authorization"),
    row_fields=("authorization",),
)


def query_approve(*, query: CreditQuery, by: User, note: str = "") -> CreditQuery:
    """Approve the query, then send it to the bureau: it ends done (with the
    report's reference) or failed (with the bureau's error)."""
    query = decide(QUERY_FLOW, query, by=by, approve=True, note=note)
    return _send(query, by=by)


def query_reject(*, query: CreditQuery, by: User, note: str) -> CreditQuery:
    return decide(QUERY_FLOW, query, by=by, approve=False, note=note)


def query_withdraw(*, query: CreditQuery, by: User, note: str = "") -> CreditQuery:
    """The requester takes a pending query back."""
    return withdraw(QUERY_FLOW, query, by=by, note=note)


def query_retry(*, query: CreditQuery, by: User) -> CreditQuery:
    """Send a failed query to the bureau again, as a second person again: a holder
    of the approval permission whose scope holds the customer, not the requester."""
    _require_permission(by, APPROVE_PERMISSION)
    require_in_scope(by, query.customer)
    if query.is_proposed_by(by):
        raise PermissionDenied(_("You cannot send your own query: another user must approve it."))
    return _send(query, by=by)


@transaction.atomic
def _send(query: CreditQuery, *, by: User) -> CreditQuery:
    """Send an approved (or failed) query through the bureau adapter and store its
    answer. The row stays locked while the bureau answers, on purpose: a second
    click elsewhere waits and then finds the query done, rather than querying the
    bureau twice (each query leaves a record in the customer's report)."""
    row = (
        CreditQuery.objects.select_for_update(of=("self",))
        .select_related("customer", "authorization", "proposed_by", "decided_by")
        .get(pk=query.pk)
    )
    if row.status not in SENDABLE or row.authorization is None:
        raise ValidationError(
            _("Only an approved or failed query can be sent to the bureau; this one is %(status)s.")
            % {"status": row.status_label()}
        )
    customer, authorization = row.customer, row.authorization
    request = BureauRequest(
        query_id=row.pk,
        customer_no=customer.customer_no,
        purpose=row.purpose,
        authorization_reference=authorization.form_reference,
        authorization_signed_on=authorization.signed_on,
        requested_by=row.proposed_by.employee_no,
        approved_by=by.employee_no,
        name=customer.name,
        id_type=customer.id_type,
        id_number=customer.id_number,
    )
    row.sent_at = timezone.now()
    try:
        reference = bureau().query(request).reference.strip()
        if not reference:
            raise BureauError(_("The bureau answered without a report reference."))
    except BureauError as exc:
        row.status = QueryStatus.FAILED
        row.failure = (str(exc) or _("The bureau gave no report."))[:ERROR_MAX_LENGTH]
        row.result_reference = ""
    else:
        row.status = QueryStatus.DONE
        row.failure = ""
        row.result_reference = reference[:REFERENCE_MAX_LENGTH]
    row.save(update_fields=["status", "failure", "result_reference", "sent_at"])
    outcome = (
        {"reference": row.result_reference} if row.status == QueryStatus.DONE else {"error": row.failure}
    )
    audit(Action.CREDIT_QUERY_SENT, actor=by, target=customer, details=_query_details(row, **outcome))
    return row
