from django.db import models
from django.utils.translation import gettext_lazy as _


class QueryPurpose(models.TextChoices):
    """What a credit-report query (征信查询) is for: the purpose the customer's written
    authorization names, and the query must match."""

    LOAN_APPROVAL = "loan_approval", _("Loan approval")
    CARD_APPROVAL = "card_approval", _("Credit card approval")
    POST_LOAN = "post_loan", _("Post-loan management")
    GUARANTEE = "guarantee", _("Guarantor review")


class QueryStatus(models.TextChoices):
    """A credit-report query: refused at once without a valid authorization; else
    waiting for a second person, then approved and sent to the bureau (done or
    failed), or rejected, or withdrawn by who asked."""

    REFUSED = "refused", _("Refused")
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    DONE = "done", _("Report received")
    FAILED = "failed", _("Bureau failed")
