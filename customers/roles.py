from accounts.roles import Role

_VIEW = ["customers.view_customer"]
GRANTS = {
    Role.CLIENT_MANAGER: [
        *_VIEW,
        "customers.add_customer",
        "customers.change_customer",
        "customers.reveal_customer_pii",
        "customers.add_interaction",
    ],
    Role.BRANCH_HEAD: [
        *_VIEW,
        "customers.add_customer",
        "customers.change_customer",
        "customers.reveal_customer_pii",
        "customers.add_interaction",
        "customers.export_customer",
    ],
    Role.BUSINESS_MANAGER: [
        *_VIEW,
        "customers.add_customer",
        "customers.change_customer",
        "customers.reveal_customer_pii",
        "customers.add_interaction",
        "customers.export_customer",
        "customers.export_customer_full",
    ],
    Role.PARAMETER_MANAGER: [],
    Role.AUDITOR: [*_VIEW, "customers.export_customer"],
    Role.SYSTEM_ADMIN: [*_VIEW],
}
