"""What each role may do with the performance figures and their parameters
(collected by accounts.roles.sync_roles)."""

from accounts.roles import Role

_PARAMETERS_READ = ["performance.view_ftpspreads", "performance.view_ftpproposal"]
# Assessment schemes, maker-checker: a business manager drafts and submits, another
# business manager approves; auditors read them.
_SCHEMES_READ = ["performance.view_scheme"]
_SCHEMES_WRITE = [
    *_SCHEMES_READ,
    "performance.add_scheme",
    "performance.change_scheme",
    "performance.approve_scheme",
]

GRANTS = {
    # FTP spreads, maker-checker: a parameter manager proposes, another parameter
    # manager or a system administrator approves.
    Role.PARAMETER_MANAGER: [
        *_PARAMETERS_READ,
        "performance.add_ftpproposal",
        "performance.approve_ftpproposal",
    ],
    # Publishing figures, maker-checker: a business manager closes a period or
    # recalculates a published one; another business manager or a system
    # administrator approves.
    Role.SYSTEM_ADMIN: [
        *_PARAMETERS_READ,
        "performance.approve_ftpproposal",
        "performance.approve_publication",
        "performance.view_publication",
    ],
    Role.BUSINESS_MANAGER: [
        *_PARAMETERS_READ,
        "performance.propose_publication",
        "performance.approve_publication",
        "performance.view_publication",
        *_SCHEMES_WRITE,
    ],
    Role.AUDITOR: [*_PARAMETERS_READ, *_SCHEMES_READ, "performance.view_publication"],
    # Disputes of credited customers: a client manager raises them from their own
    # figures; a branch head over the manager's branch decides.
    Role.CLIENT_MANAGER: ["performance.add_dispute"],
    Role.BRANCH_HEAD: ["performance.decide_dispute"],
}
