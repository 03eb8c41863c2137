"""The home-page widgets of performance (core.widgets): a client manager's own
scorecard (the shown version of the default period: contribution, score, rank and
grade), the team board's leaders for a branch head, and what waits for a decision
(FTP spread proposals, disputes of credited customers)."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from accounts.scope import ScopeKind, data_scope
from core import widgets
from core.widgets import DECISION, PARAMETER, PendingSource, Widget

LEADERS = 3


def _shown(user):
    from . import selectors

    period = selectors.default_period(selectors.periods_with_figures())
    version = selectors.shown_version(period) if period is not None else None
    return period, version


def _scorecard(user, day: datetime.date) -> dict[str, Any]:
    """Three queries: the periods with figures, the shown version, the user's row
    with their score's columns."""
    from . import selectors

    period, version = _shown(user)
    mine = selectors.own_figures(user, version) if version is not None else None
    return {"period": period, "version": version, "mine": mine}


def _team_board(user, day: datetime.date) -> dict[str, Any]:
    from . import selectors

    period, version = _shown(user)
    leaders = []
    if version is not None:
        leaders = list(selectors.board_rows(user, version).filter(manager__isnull=False)[:LEADERS])
    return {"period": period, "version": version, "leaders": leaders}


def _ftp_proposals(user) -> int:
    from core.approvals import ApprovalStatus

    from .models import FtpProposal

    return FtpProposal.objects.filter(status=ApprovalStatus.PENDING).exclude(proposed_by=user).count()


def _disputes(user) -> int:
    from core.approvals import ApprovalStatus

    from .models import Dispute

    return (
        Dispute.objects.visible_to(user)
        .filter(status=ApprovalStatus.PENDING)
        .exclude(proposed_by=user)
        .count()
    )


def _own_scope(user) -> bool:
    return data_scope(user).kind is ScopeKind.OWN


def _team_scope(user) -> bool:
    return data_scope(user).kind in (ScopeKind.SUBTREE, ScopeKind.ALL)


SCORECARD = widgets.register(
    Widget(
        key="scorecard",
        title=_("My scorecard"),
        template="crm_portal/widgets/scorecard.html",
        app="performance",
        defaults={Role.CLIENT_MANAGER: 60},
        predicate=_own_scope,
        context=_scorecard,
        # three reads of the figures (periods, version, the scored row): after the page
        lazy=True,
    )
)
TEAM_BOARD = widgets.register(
    Widget(
        key="team_board",
        title=_("Team board"),
        template="crm_portal/widgets/team_board.html",
        app="performance",
        defaults={Role.BRANCH_HEAD: 30},
        predicate=_team_scope,
        context=_team_board,
        lazy=True,
    )
)
widgets.register_pending(
    PendingSource(
        key="performance.ftp",
        label=_("FTP spreads"),
        kind=PARAMETER,
        url_name="performance:ftp",
        count=_ftp_proposals,
        permission="performance.approve_ftpproposal",
    )
)
widgets.register_pending(
    PendingSource(
        key="performance.disputes",
        label=_("Disputes of credited customers"),
        kind=DECISION,
        url_name="performance:disputes",
        count=_disputes,
        permission="performance.decide_dispute",
    )
)
