"""The data-quality queue (数据质量): detection, the queue and its counts, dismissal,
and the merge of a duplicate pair into one customer.

- `scan`: `quality_scan`, the set-based detection of every kind of issue (what
  each kind means is told there);
- `id_check`: the full check of resident ID numbers, which needs decryption
  (`quality_check_ids`, `resident_id_problem`);
- `queue`: the reads, `quality_counts` and `quality_queue`, in the user's scope;
- `resolution`: closing an issue by hand, `quality_issue_dismiss`; a duplicate pair
  is closed by `customer_merge`, a customer write of `customers.merging`;
- `states`: the states of an issue and the kinds that concern a pair.
"""

from ..merging import SNAPSHOT_EXCLUDED
from .id_check import CHECK_BATCH, quality_check_ids, resident_id_problem
from .queue import quality_counts, quality_queue
from .resolution import MERGED, customer_merge, quality_issue_dismiss
from .scan import RESIDENT_ID_SUFFIX_RE, SCAN_LOCK_KEY, SINGLE_COLUMNS, quality_scan
from .states import DISMISSED, NO_LONGER_DETECTED, OPEN, PAIR_KINDS, RESOLVED

__all__ = [
    "CHECK_BATCH",
    "DISMISSED",
    "MERGED",
    "NO_LONGER_DETECTED",
    "OPEN",
    "PAIR_KINDS",
    "RESIDENT_ID_SUFFIX_RE",
    "RESOLVED",
    "SCAN_LOCK_KEY",
    "SINGLE_COLUMNS",
    "SNAPSHOT_EXCLUDED",
    "customer_merge",
    "quality_check_ids",
    "quality_counts",
    "quality_issue_dismiss",
    "quality_queue",
    "quality_scan",
    "resident_id_problem",
]
