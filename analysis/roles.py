"""What each role may do with the customer analysis (collected by accounts.roles.sync_roles).

The analysis of a customer shows wherever the customer does (their 360 view, their
manager's save list), held to the user's data scope; the group reports are for those
who steer a branch or the bank; the model versions for head office and the auditor."""

from accounts.roles import Role

_READ = ["analysis.view_customeranalysis"]
_REPORTS = [*_READ, "analysis.view_analysis_report"]
_MODELS = ["analysis.view_churnmodel"]

GRANTS = {
    Role.CLIENT_MANAGER: _READ,
    Role.BRANCH_HEAD: [*_REPORTS, "analysis.export_analysis_report"],
    Role.BUSINESS_MANAGER: [*_REPORTS, "analysis.export_analysis_report", *_MODELS],
    Role.AUDITOR: [*_REPORTS, *_MODELS],
}
