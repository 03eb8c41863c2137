"""What each role may do with the performance figures and their parameters
(collected by accounts.roles.sync_roles)."""

from accounts.roles import Role

_PARAMETERS_READ = ["performance.view_ftpspreads", "performance.view_ftpproposal"]

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
    ],
    Role.BUSINESS_MANAGER: [
        *_PARAMETERS_READ,
        "performance.propose_publication",
        "performance.approve_publication",
        "performance.view_publication",
    ],
    Role.AUDITOR: _PARAMETERS_READ,
}
