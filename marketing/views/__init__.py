"""Marketing pages. Thin: forms validate input, services write, selectors read.
Every page is a `core.views.ScopedView`: it fetches one object through an
`access_<thing>` (`marketing.permissions`, `access_customer`) or narrows its list to
`visible_to(user)`; an object outside the user's scope is a 404.

One module per part of the area: `products`, `segments`, `campaigns`, `targets`
(a campaign's targets and working one), `opportunities`, `tasks`, and `exports`
(the dashboards' Excel downloads) and `indicators` (the indicator library)."""

from .campaigns import CampaignActionView, CampaignDetailView, CampaignEditView, CampaignListView
from .exports import CampaignExportView, TaskExportView
from .indicators import IndicatorEditView, IndicatorListView
from .opportunities import LeadCreateView, OpportunityDetailView, OpportunityListView
from .products import ProductListView
from .segments import SegmentEditView, SegmentListView, SegmentPreviewView
from .targets import ContactLogView, MyTargetsView, TargetDetailView, TargetListView, TargetOpportunityView
from .tasks import DecomposeView, RespondView, TaskCreateView, TaskDetailView, TaskIssueView, TaskListView

__all__ = [
    "CampaignActionView",
    "CampaignDetailView",
    "CampaignEditView",
    "CampaignExportView",
    "CampaignListView",
    "ContactLogView",
    "DecomposeView",
    "IndicatorEditView",
    "IndicatorListView",
    "LeadCreateView",
    "MyTargetsView",
    "OpportunityDetailView",
    "OpportunityListView",
    "ProductListView",
    "RespondView",
    "SegmentEditView",
    "SegmentListView",
    "SegmentPreviewView",
    "TargetDetailView",
    "TargetListView",
    "TargetOpportunityView",
    "TaskCreateView",
    "TaskDetailView",
    "TaskExportView",
    "TaskIssueView",
    "TaskListView",
]
