"""Writes of the marketing area. Keyword-only; each runs in one transaction,
validates with full_clean, locks the row whose state it changes and writes its
audit event in the same transaction. Refusals are ValidationError (with a message
for the user) or PermissionDenied.

- `segments`: saving a segment's rules;
- `campaigns`: a campaign's flow, from draft through approval to running (its
  target list frozen), closed and evaluated;
- `contacts`: contacts with targets and leads under the contact-frequency policy,
  and the policy's maker-checker flow;
- `opportunities`: opportunities from targets or leads, their stages, and the sale
  that wins one;
- `tasks`: marketing tasks, their decomposition down the org tree and the answers
  to each share;
- `indicators`: the indicator library tasks measure.
"""

from .campaigns import (
    CAMPAIGN_FLOW,
    EDITABLE_CAMPAIGN_FIELDS,
    TARGET_INSERT_SQL,
    campaign_approve,
    campaign_close,
    campaign_create,
    campaign_evaluate,
    campaign_reject,
    campaign_revise,
    campaign_start,
    campaign_submit,
    campaign_update,
)
from .contacts import OUTCOME_STATUS, POLICY_FLOW, contact_log, policy_approve
from .indicators import indicator_save
from .opportunities import opportunity_advance, opportunity_create, opportunity_win
from .segments import segment_save
from .tasks import (
    allocation_respond,
    decomposable_receivers,
    holds_allocation,
    may_decompose,
    task_create,
    task_decompose,
    task_issue,
)

__all__ = [
    "CAMPAIGN_FLOW",
    "EDITABLE_CAMPAIGN_FIELDS",
    "OUTCOME_STATUS",
    "POLICY_FLOW",
    "TARGET_INSERT_SQL",
    "allocation_respond",
    "campaign_approve",
    "campaign_close",
    "campaign_create",
    "campaign_evaluate",
    "campaign_reject",
    "campaign_revise",
    "campaign_start",
    "campaign_submit",
    "campaign_update",
    "contact_log",
    "decomposable_receivers",
    "holds_allocation",
    "indicator_save",
    "may_decompose",
    "opportunity_advance",
    "opportunity_create",
    "opportunity_win",
    "policy_approve",
    "segment_save",
    "task_create",
    "task_decompose",
    "task_issue",
]
