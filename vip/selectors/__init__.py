"""Reads of the VIP area. Every read starts from its model's
`objects.visible_to(user)` (the customer data scope, `customers.querysets`; a list
function also takes the rows a view already holds narrowed, `core.views.ScopedView`);
every page runs a bounded number of queries whatever the size of the book, the
branch or the bank.

- `levels`: tier level names, thresholds and contact intervals.
- `books`: a manager's book, the managers' books, the branch pool.
- `customer_card`: one customer's VIP card.
- `split_credit`: a customer's split of the credit now, and its history.
- `approvals`: what waits for the user's decision, and what they asked for.
- `prospects`: VIPs to be won.
- `reports`: the VIP report (by branch, tier migration, won and lost).
- `figures`: the kept figures of the books and the report, in the user's scope.

Callers import from here (`from vip import selectors`)."""

from .approvals import (
    my_proposals,
    my_transfer_requests,
    pending_proposals,
    pending_transfers,
    proposals_to_approve,
    transfers_to_approve,
)
from .books import (
    Book,
    BookRow,
    book_managers,
    major_floor,
    manager_book,
    managers_in_scope,
    managers_with_books,
    pool_counts,
    pool_customers,
)
from .customer_card import CustomerVip, customer_vip
from .figures import figures_build, scope_book
from .levels import NO_TIER, LevelTable, active_levels, level_table, tier_label, tier_names
from .prospects import prospect_list
from .reports import (
    BranchReport,
    Matrix,
    WonLost,
    migration_matrix,
    month_end,
    report_branches,
    vip_by_branch,
    won_and_lost,
)
from .split_credit import SplitCredit, customer_split, split_of

__all__ = [
    "NO_TIER",
    "Book",
    "BookRow",
    "BranchReport",
    "CustomerVip",
    "LevelTable",
    "Matrix",
    "SplitCredit",
    "WonLost",
    "active_levels",
    "book_managers",
    "customer_split",
    "customer_vip",
    "figures_build",
    "level_table",
    "major_floor",
    "manager_book",
    "managers_in_scope",
    "managers_with_books",
    "migration_matrix",
    "month_end",
    "my_proposals",
    "my_transfer_requests",
    "pending_proposals",
    "pending_transfers",
    "pool_counts",
    "pool_customers",
    "proposals_to_approve",
    "prospect_list",
    "report_branches",
    "scope_book",
    "split_of",
    "tier_label",
    "tier_names",
    "transfers_to_approve",
    "vip_by_branch",
    "won_and_lost",
]
