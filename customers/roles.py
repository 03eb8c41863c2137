from accounts.roles import Role

_VIEW = ["customers.view_customer", "customers.view_employer"]
_WORK = [
    "customers.add_customer",
    "customers.change_customer",
    "customers.reveal_customer_pii",
    "customers.add_interaction",
    # employers and payroll relationships (customers.employers)
    "customers.add_employer",
    "customers.change_employer",
    "customers.add_payrolllink",
    "customers.change_payrolllink",
]
GRANTS = {
    Role.CLIENT_MANAGER: [*_VIEW, *_WORK],
    Role.BRANCH_HEAD: [*_VIEW, *_WORK, "customers.export_customer", "customers.view_dataqualityissue"],
    Role.BUSINESS_MANAGER: [
        *_VIEW,
        *_WORK,
        "customers.export_customer",
        "customers.export_customer_full",
        "customers.view_dataqualityissue",
        "customers.change_dataqualityissue",
        "customers.merge_customer",
    ],
    Role.PARAMETER_MANAGER: [],
    Role.AUDITOR: [*_VIEW, "customers.export_customer", "customers.view_dataqualityissue"],
    Role.SYSTEM_ADMIN: [*_VIEW, "customers.view_batchload", "customers.add_batchload"],
}
