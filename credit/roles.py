"""What each role may do in credit (collected by accounts.roles.sync_roles).

A client manager records a customer's authorization and asks for a credit-report
query; a branch head approves their team's queries (never their own) and reads the
credit-risk reports of their branch; head office reads and exports the bank's; the
auditor reads everything and exports nothing."""

from accounts.roles import Role

_AUTHORIZATIONS = ["credit.view_creditauthorization", "credit.add_creditauthorization"]
_QUERIES = ["credit.view_creditquery", "credit.add_creditquery"]
_REPORTS = ["credit.view_credit_report"]

GRANTS = {
    Role.CLIENT_MANAGER: [*_AUTHORIZATIONS, *_QUERIES],
    Role.BRANCH_HEAD: [
        *_AUTHORIZATIONS,
        *_QUERIES,
        "credit.approve_creditquery",
        *_REPORTS,
        "credit.export_credit_report",
    ],
    Role.BUSINESS_MANAGER: [*_REPORTS, "credit.export_credit_report", "credit.view_creditquery"],
    Role.AUDITOR: [*_REPORTS, "credit.view_creditquery", "credit.view_creditauthorization"],
}
