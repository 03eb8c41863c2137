"""What each role may do in the VIP area (collected by accounts.roles.sync_roles)."""

from accounts.roles import Role

# A client manager looks after their own book: asks for transfers, shares a customer
# for a time, registers prospects to win.
_MANAGER = [
    "vip.add_transferrequest",
    "vip.share_customer",
    "vip.view_vipprospect",
    "vip.add_vipprospect",
    "vip.change_vipprospect",
]
# A branch head runs their branches: assigns from the pool, approves transfers,
# recalls a leaving manager's book, reads the reports.
_BRANCH = [
    *_MANAGER,
    "vip.assign_customer",
    "vip.recall_customer",
    "vip.approve_transferrequest",
    "vip.view_transferrequest",
    "vip.view_vip_report",
    "vip.export_vip_report",
]
_PARAMETERS_READ = [
    "vip.view_tierlevel",
    "vip.view_tierpolicy",
    "vip.view_parameterproposal",
    "vip.view_evaluationrun",
]

GRANTS = {
    Role.CLIENT_MANAGER: _MANAGER,
    Role.BRANCH_HEAD: _BRANCH,
    # Head office: all of the branch's work, plus overrides and VIP registration.
    Role.BUSINESS_MANAGER: [*_BRANCH, "vip.add_tieroverride", "vip.register_vip", *_PARAMETERS_READ],
    # Parameters, maker-checker: propose, and approve someone else's proposal.
    Role.PARAMETER_MANAGER: [
        *_PARAMETERS_READ,
        "vip.add_parameterproposal",
        "vip.approve_parameterproposal",
    ],
    Role.SYSTEM_ADMIN: [*_PARAMETERS_READ, "vip.approve_parameterproposal"],
    Role.AUDITOR: [
        *_PARAMETERS_READ,
        "vip.view_tierchange",
        "vip.view_transferrequest",
        "vip.view_vip_report",
    ],
}
