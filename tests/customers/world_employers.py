"""The URL harness's objects of employers and payroll relationships
(customers.employers): one employer; for each manager (cm1, cm2, cm3) a customer
paid by it (the relationship the "end" page ends) and a customer not linked yet
(the one the "link" page links)."""

from __future__ import annotations

import datetime

# the first 17 characters of the world's employer's unified social credit code
WORLD_EMPLOYER = "91110108MA01HW0RL"


def build(world, today: datetime.date) -> None:
    from customers.employer_choices import Industry
    from customers.models import Employer, PayrollLink
    from customers.uscc import make_uscc
    from tests.url_world import WHO, _customer

    employer = Employer.objects.create(
        name="世界科技有限公司", uscc=make_uscc(WORLD_EMPLOYER), industry=Industry.IT, contact_person="赵人事"
    )
    world.objects["employer"] = employer
    links, unlinked = {}, {}
    for who in WHO:
        paid = _customer(world, who, name=f"代发{who}")
        links[who] = PayrollLink.objects.create(
            employer=employer, customer=paid, since=today - datetime.timedelta(days=90)
        )
        unlinked[who] = _customer(world, who, name=f"未代发{who}")
    world.objects["payroll_link"] = links
    world.customers["unlinked"] = unlinked
