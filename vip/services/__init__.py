"""Writes of the VIP area. Each runs in one transaction, checks the permission and
the data scope on the server, locks what it changes, returns early when nothing
changes and writes its audit event in the same transaction.

Assignments are written only through `customers.services.assignment_set_primary`
and `assignment_end_primary`; transfers with approval, batch assignment, recall and
sharing are built on them here.

- `assignment`: a customer of the pool given to a manager; customers (or a leaving
  manager's book) recalled to the pool.
- `transfers`: a move to another manager, approved by someone else.
- `sharing`: another manager may see a customer for a time.
- `split_credit`: an assisting manager counts a share of a customer's figures.
- `batch`: many assignments at once, from a file or a search, previewed first.
- `tiers`: a tier set by hand (an override) and its early end.
- `vip_status`: registration and liquidation of VIPs, and VIPs to be won.
- `parameters`: tier levels and policy, changed by maker-checker.
- `reminders`: what a user is reminded of (announced; the alerts of keep close keep it).
- `approvals`: several transfers and parameter proposals decided at once, each
  through its own flow's decision.
- `figures`: the books' and the report's figures kept for the pages, built again
  every night and followed by the services above.

Callers import from here (`from vip import services`)."""

from ._common import is_client_manager
from .approvals import MAX_BULK_ITEMS, BulkDecision, approvals_decide
from .assignment import RecallResult, customer_assign, customers_recall, manager_book_recall
from .batch import (
    HEADER_ALIASES,
    MAX_BATCH_ROWS,
    batch_cancel,
    batch_execute,
    batch_prepare,
    batch_rows_from_search,
    parse_assignment_file,
)
from .figures import figures_follow, figures_rebuild
from .parameters import (
    LEVEL_FIELDS,
    PARAMETER_FLOW,
    POLICY_FIELDS,
    parameter_approve,
    parameter_propose,
    parameter_reject,
    parameter_withdraw,
)
from .reminders import remind
from .sharing import customer_share, customer_share_revoke, shares_expire
from .split_credit import SPLIT_PERMISSION, open_split, split_credit_end, split_credit_set
from .tiers import rule_decision, tier_override_end, tier_override_set
from .transfers import TRANSFER_FLOW, transfer_approve, transfer_cancel, transfer_reject, transfer_request
from .vip_status import prospect_close, prospect_create, vip_liquidate, vip_register

__all__ = [
    "HEADER_ALIASES",
    "LEVEL_FIELDS",
    "MAX_BULK_ITEMS",
    "MAX_BATCH_ROWS",
    "PARAMETER_FLOW",
    "POLICY_FIELDS",
    "TRANSFER_FLOW",
    "SPLIT_PERMISSION",
    "BulkDecision",
    "RecallResult",
    "approvals_decide",
    "batch_cancel",
    "batch_execute",
    "batch_prepare",
    "batch_rows_from_search",
    "customer_assign",
    "customer_share",
    "customer_share_revoke",
    "customers_recall",
    "figures_follow",
    "figures_rebuild",
    "is_client_manager",
    "manager_book_recall",
    "open_split",
    "parameter_approve",
    "parameter_propose",
    "parameter_reject",
    "parameter_withdraw",
    "parse_assignment_file",
    "prospect_close",
    "prospect_create",
    "remind",
    "rule_decision",
    "shares_expire",
    "split_credit_end",
    "split_credit_set",
    "tier_override_end",
    "tier_override_set",
    "transfer_approve",
    "transfer_cancel",
    "transfer_reject",
    "transfer_request",
    "vip_liquidate",
    "vip_register",
]
