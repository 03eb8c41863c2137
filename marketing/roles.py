"""What each role may do in marketing (collected by accounts.roles.sync_roles)."""

from accounts.roles import Role

_READ = [
    "marketing.view_product",
    "marketing.view_promotion",
    "marketing.view_campaign",
    "marketing.view_campaigntarget",
    "marketing.view_marketingtask",
    "marketing.view_opportunity",
    "marketing.view_sale",
    "marketing.view_indicator",
    "marketing.view_channel",
    "marketing.view_openingrequest",
]
GRANTS = {
    # Head office runs campaigns (a different business manager approves), builds
    # segments and issues and decomposes tasks.
    Role.BUSINESS_MANAGER: [
        *_READ,
        "marketing.view_segment",
        "marketing.add_segment",
        "marketing.change_segment",
        "marketing.add_campaign",
        "marketing.change_campaign",
        "marketing.approve_campaign",
        "marketing.run_campaign",
        "marketing.export_marketing",
        "marketing.add_marketingtask",
        "marketing.decompose_marketingtask",
        # the indicator library tasks (and assessment schemes) measure
        "marketing.add_indicator",
        "marketing.change_indicator",
        # the channels (渠道): the list, and switching one off
        "marketing.manage_channel",
        "marketing.match_openingrequest",
    ],
    # The catalogue, promotions and the contact-frequency policy (admin, maker-checker).
    Role.PARAMETER_MANAGER: [
        "marketing.view_product",
        "marketing.add_product",
        "marketing.change_product",
        "marketing.view_promotion",
        "marketing.add_promotion",
        "marketing.change_promotion",
        "marketing.view_contactpolicy",
        "marketing.add_contactpolicy",
        "marketing.approve_contactpolicy",
        "marketing.view_productchange",
        "marketing.approve_productchange",
    ],
    # Their subtree: dashboards, segments of their own, tasks to their managers.
    Role.BRANCH_HEAD: [
        *_READ,
        "marketing.view_segment",
        "marketing.add_segment",
        "marketing.change_segment",
        "marketing.export_marketing",
        "marketing.decompose_marketingtask",
        "marketing.respond_marketingtask",
        # their branches' account-opening appointments: reschedule, cancel, match by hand
        "marketing.change_openingrequest",
        "marketing.match_openingrequest",
    ],
    # Work their targets, log contacts, run opportunities, answer their tasks.
    Role.CLIENT_MANAGER: [
        *_READ,
        "marketing.add_marketingcontact",
        "marketing.add_opportunity",
        "marketing.change_opportunity",
        "marketing.respond_marketingtask",
        # account-opening requests of their customers
        "marketing.add_openingrequest",
        "marketing.change_openingrequest",
    ],
    Role.AUDITOR: [
        *_READ,
        "marketing.view_segment",
        "marketing.view_contactpolicy",
        "marketing.view_productchange",
    ],
    Role.SYSTEM_ADMIN: [],
}
