"""Pages of the VIP area. Thin: each is a `core.views.ScopedView`, which fetches
one object through an `access_<thing>` (`access_customer`, `vip.permissions`) or
narrows its list to `visible_to(user)`, calls one service, and says what happened.
Templates only hide buttons; the services check again. List pages declare their
filters in `vip.filters`.

- `my_customers`: a manager's book.
- `customer_actions`: one customer's VIP page and the actions on it.
- `pool`: the branch pool, the managers' books and their recall.
- `approvals`: transfers and parameter proposals to decide, one or several at once.
- `batch`: batch assignment.
- `prospects`: VIPs to be won.
- `reports`: the VIP report and its export.
- `parameters`: the tier parameters in force.

`vip.urls` names the views from here."""

from .approvals import ApprovalsView, BulkDecisionView, ProposalDecisionView, TransferDecisionView
from .batch import BatchErrorsView, BatchStartView, BatchView
from .customer_actions import (
    AssignView,
    CustomerActionView,
    CustomerVipView,
    LiquidateView,
    OverrideEndView,
    OverrideView,
    RecallView,
    RegisterView,
    ShareRevokeView,
    ShareView,
    TransferRequestView,
)
from .my_customers import MyCustomersView
from .parameters import ParametersView
from .pool import ManagerListView, ManagerRecallView, PoolView
from .prospects import ProspectCloseView, ProspectListView
from .reports import ReportExportView, ReportView

__all__ = [
    "ApprovalsView",
    "AssignView",
    "BatchErrorsView",
    "BatchStartView",
    "BatchView",
    "BulkDecisionView",
    "CustomerActionView",
    "CustomerVipView",
    "LiquidateView",
    "ManagerListView",
    "ManagerRecallView",
    "MyCustomersView",
    "OverrideEndView",
    "OverrideView",
    "ParametersView",
    "PoolView",
    "ProposalDecisionView",
    "ProspectCloseView",
    "ProspectListView",
    "RecallView",
    "RegisterView",
    "ReportExportView",
    "ReportView",
    "ShareRevokeView",
    "ShareView",
    "TransferDecisionView",
    "TransferRequestView",
]
