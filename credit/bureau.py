"""The credit bureau (征信中心) adapter: how an approved credit-report query leaves
the portal. The portal reaches no bureau itself; the bank plugs in its own backend,
a class named by the setting `CREDIT_BUREAU_BACKEND` (a dotted path; docs/credit.md,
"Credit-report queries").

The contract, all a backend must do:

- a class built without arguments, with one method `query(request) -> BureauResult`;
- `request` is a `BureauRequest`: the query's id, the customer's number, name and
  identity document, the purpose, the authorization form's reference and the day it
  was signed, and the employee numbers of who asked and who approved;
- it returns a `BureauResult` whose `reference` (at most 80 characters, not empty)
  names the report in the bank's own archive: the portal stores the reference only,
  never the report;
- when the bureau gives no report this time (unreachable, refused, a timeout) it
  raises `BureauError` with a message for the user, without personal data (at most
  200 characters are kept). The query is then `failed`, the message stored and
  audited, and the approver may send it again. Any other exception is a fault of
  the backend: the query stays approved, unsent, and may be sent again too.
- it never logs the identity number or the name (the bank's privacy rules).

The default, `LoggingBureau`, asks nobody: it logs one line without personal data
and answers the reference "LOG-<query id>", so no installation queries a real
bureau by accident."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("credit.bureau")

DEFAULT_BUREAU_BACKEND = "credit.bureau.LoggingBureau"
REFERENCE_MAX_LENGTH = 80
ERROR_MAX_LENGTH = 200


class BureauError(Exception):
    """The bureau gave no report this time; the message (no personal data) is shown
    to the users and kept with the query."""


@dataclass(frozen=True)
class BureauRequest:
    query_id: int
    customer_no: str
    purpose: str  # a credit.choices.QueryPurpose value
    authorization_reference: str
    authorization_signed_on: datetime.date
    requested_by: str  # employee number
    approved_by: str  # employee number
    # personal data the bureau needs to find the person: never logged, never shown
    name: str = field(repr=False)
    id_type: str = field(repr=False)
    id_number: str = field(repr=False)


@dataclass(frozen=True)
class BureauResult:
    reference: str  # the report's reference in the bank's archive


class CreditBureau(Protocol):
    def query(self, request: BureauRequest) -> BureauResult: ...


class LoggingBureau:
    """Asks no bureau: logs the query without personal data and answers "LOG-<id>"."""

    def query(self, request: BureauRequest) -> BureauResult:
        logger.info(
            "credit-report query %s of customer %s for %s (authorization %s) not sent: logging backend",
            request.query_id,
            request.customer_no,
            request.purpose,
            request.authorization_reference,
        )
        return BureauResult(reference=f"LOG-{request.query_id}")


def bureau() -> CreditBureau:
    """The backend the setting names (the logging one by default)."""
    path = getattr(settings, "CREDIT_BUREAU_BACKEND", "") or DEFAULT_BUREAU_BACKEND
    return import_string(path)()
