"""The VIP pages where a manager's customers are handed to other managers, named on
a refused change of a user's roles or branch (accounts.user_changes) while the user
still has customers of record."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from accounts.user_changes import HandoverPage, register_handover_page

HANDOVER_PAGES = (
    HandoverPage(label=_("Batch assignment"), url_name="vip:batch_start", permission="vip.assign_customer"),
    HandoverPage(
        label=_("Managers' customers (recall to the pool)"),
        url_name="vip:managers",
        permission="vip.recall_customer",
    ),
)
for _page in HANDOVER_PAGES:
    register_handover_page(_page)
