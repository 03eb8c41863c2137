"""demo_pm, parameter manager at head office: the proposals waiting on the home
page, the tier parameters (levels by name, thresholds formatted), a change of the
FTP spreads refused for a spread out of range and then proposed, and the product
catalogue."""

import pytest

from accounts.roles import Role
from tests.journeys.journey import AMOUNT, zh

pytestmark = pytest.mark.browser


def test_a_parameter_managers_day(journey):
    pm = journey("demo_pm")
    page = pm.page

    # the home page: the parameter changes waiting, by kind
    pm.log_in()
    assert zh(Role.PARAMETER_MANAGER.label) in pm.text("main")
    assert pm.text("[data-testid=pending-proposals]")

    # the tier parameters: every level by its name, its threshold formatted
    pm.visit("/vip/parameters/", "tier-parameters")
    levels = {row.split("\t")[0]: row.split("\t")[1] for row in pm.texts("[data-testid=levels] tbody tr")}
    assert levels["白金级"] == "1,000,000.00"
    assert levels["金级"] == "500,000.00"
    assert all(AMOUNT.match(threshold) for threshold in levels.values()), levels

    # the FTP spreads: a spread out of range is refused on its field, in words
    pm.visit("/performance/ftp/", "ftp")
    page.fill("[data-testid=ftp-form] input[name=DEP_CUR]", "2")
    page.fill("[data-testid=ftp-form] input[name=reason]", "活期利差调整")
    pm.submit("[data-testid=ftp-form] button[type=submit]", "ftp-refused", status=400)
    refusal = pm.text("[data-testid=ftp-form]")
    assert zh("%(label)s: a spread is between -1 and 1, not %(v)s.", label="活期存款", v="2") in refusal

    # then proposed within range: the answer says it waits for someone else
    page.fill("[data-testid=ftp-form] input[name=DEP_CUR]", "0.0210")
    page.fill("[data-testid=ftp-form] input[name=reason]", "活期利差调整")
    pm.submit("[data-testid=ftp-form] button[type=submit]", "ftp-proposed")
    [message] = pm.said()
    assert message.startswith(
        zh("Proposal #%(id)s made: the spreads change when someone else approves it.").split("#")[0]
    )
    assert "0.0210" in pm.text("[data-testid=spreads]") or "0.0210" in pm.text("main")

    # the approvals page and the product catalogue
    pm.visit("/vip/approvals/", "approvals")
    pm.visit("/marketing/products/", "products")

    pm.finish()
