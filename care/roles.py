"""What each role may do in keeping close (collected by accounts.roles.sync_roles).
One section per part; `GRANTS` joins them."""

from accounts.roles import Role

# Alerts: a client manager works their own; a branch head works their own and their
# team's, and hands alerts over between managers.
ALERTS = {
    Role.CLIENT_MANAGER: ["care.view_alert", "care.change_alert", "care.add_alert"],
    Role.BRANCH_HEAD: ["care.view_alert", "care.change_alert", "care.add_alert", "care.hand_over_alert"],
    Role.BUSINESS_MANAGER: ["care.view_alert"],
    Role.AUDITOR: ["care.view_alert"],
}
# The plan, the calendar and the visit journal: managers and branch heads plan and
# record their own (a branch head also reads the team's); the auditor reads journals.
# Own reminders are alerts (`care.add_alert`, in ALERTS).
_PLANNING = [
    "care.view_planitem",
    "care.add_planitem",
    "care.change_planitem",
    "care.view_journalentry",
    "care.add_journalentry",
]
PLAN: dict[str, list[str]] = {
    Role.CLIENT_MANAGER: _PLANNING,
    Role.BRANCH_HEAD: _PLANNING,
    Role.AUDITOR: ["care.view_journalentry"],
}
# Messages to customers and their service subscriptions: a manager and a branch head
# read the outbox of their customers and record or cancel subscriptions; head office
# business and the auditor read them.
OUTBOX: dict[str, list[str]] = {
    Role.CLIENT_MANAGER: [
        "care.view_message",
        "care.view_servicesubscription",
        "care.add_servicesubscription",
        "care.change_servicesubscription",
    ],
    Role.BRANCH_HEAD: [
        "care.view_message",
        "care.view_servicesubscription",
        "care.add_servicesubscription",
        "care.change_servicesubscription",
    ],
    Role.BUSINESS_MANAGER: ["care.view_message", "care.view_servicesubscription"],
    Role.AUDITOR: ["care.view_message", "care.view_servicesubscription"],
}
# Alert parameters, maker-checker.
_PARAMETERS_READ = ["care.view_alertparameters", "care.view_alertparameterproposal"]
PARAMETERS: dict[str, list[str]] = {
    # a parameter manager proposes; another parameter manager or a system
    # administrator approves; auditors read them
    Role.PARAMETER_MANAGER: [
        *_PARAMETERS_READ,
        "care.add_alertparameterproposal",
        "care.approve_alertparameterproposal",
    ],
    Role.SYSTEM_ADMIN: [*_PARAMETERS_READ, "care.approve_alertparameterproposal"],
    Role.AUDITOR: list(_PARAMETERS_READ),
}

GRANTS: dict[str, list[str]] = {}
for _part in (ALERTS, PLAN, OUTBOX, PARAMETERS):
    for _role, _perms in _part.items():
        GRANTS.setdefault(_role, []).extend(_perms)
