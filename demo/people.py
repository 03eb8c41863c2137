"""The demo bank's customers, generated: realistic people at bank scale.

One deterministic generator (``random.Random(seed)``, lookup tables prepared once)
builds each chunk of customers and everything the portal shows about them:
identities (`demo.identities`), households of 2-4 members whose ages and genders fit
their roles, names, addresses and employers of the outlet's city, contacts,
accounts with the business date's balances (`demo.accounts`), the manager of
record, relationships, assets held elsewhere, interactions with their manager and
the business date's transactions. Pure Python, no database: `demo.seeding` writes
what it makes.
"""

from __future__ import annotations

import datetime
import math
import random
from dataclasses import dataclass, field

from django.utils import timezone

from customers.choices import AssignmentRole, ContactType, HouseholdRole, RelationType

from .accounts import other_asset, person_accounts
from .identities import Person, identity, mobile_number
from .reference import (
    BRANDS,
    CHANNELS,
    CITY_DISTRICTS,
    COMMUNITIES,
    COMMUNITY_WORDS,
    EDUCATION,
    EMAIL_DOMAINS,
    FEMALE_CHARS,
    INDUSTRIES,
    INSTITUTIONS,
    INTERACTION_KINDS,
    MALE_CHARS,
    NOTES,
    OCCUPATIONS,
    OUTLET_WEIGHT,
    RISK,
    STREETS,
    SUBJECTS,
    SURNAMES,
    cumulative,
    money,
)


@dataclass
class Outlet:
    """A demo outlet with a client manager: where a customer banks and who looks after
    them."""

    branch_id: int
    code: str
    city: str
    district: str
    manager_ids: list[int]


@dataclass
class Chunk:
    households: list[tuple] = field(default_factory=list)
    customers: list[tuple] = field(default_factory=list)
    # (local customer number, ...rest) -- the customer id is filled in once known
    children: dict[str, list[tuple]] = field(default_factory=dict)


class Generator:
    """Chunks of demo customers: `chunk(start, n)` makes the customers whose indexes
    are start..start+n-1 (the same seed and start give the same chunk)."""

    def __init__(self, *, seed: int, outlets: list[Outlet], latest: datetime.date, now: datetime.datetime):
        self.seed = seed
        self.outlets = outlets
        self.latest = latest
        self.today = latest + datetime.timedelta(days=1)
        self.now = now
        self.tz = timezone.get_current_timezone()
        self.surnames, self.surname_cum = cumulative([(s, w) for s, _p, w in SURNAMES])
        self.pinyin = {s: p for s, p, _w in SURNAMES}
        self.outlet_cum = cumulative([(k, OUTLET_WEIGHT.get(o.code, 1.0)) for k, o in enumerate(outlets)])
        self.occupations = cumulative(OCCUPATIONS)
        self.education = cumulative(EDUCATION)
        self.risk = cumulative(RISK)
        self.kinds = cumulative(INTERACTION_KINDS)
        self.channels = cumulative(CHANNELS)
        self.latest_ord = latest.toordinal()
        self.open_first = datetime.date(2001, 1, 1).toordinal()
        self.open_last = self.latest_ord - 400  # every customer has 13 months of history

    # -- households ---------------------------------------------------------------

    def households(self, rng: random.Random, people: list[Person]) -> list[list[int]]:
        """Group about 10% of the chunk's customers into households of 2-4 members
        whose ages and genders fit their roles; returns member positions per household
        (head first)."""
        pool: dict[tuple[str, int], list[int]] = {}
        for pos, person in enumerate(people):
            pool.setdefault((person.gender, person.age), []).append(pos)
        for positions in pool.values():
            rng.shuffle(positions)

        def take(gender: str | None, lo: int, hi: int) -> int | None:
            if lo > hi:
                return None
            for _ in range(6):
                age = lo + int(rng.random() * (hi - lo + 1))
                g = gender or ("M" if rng.random() < 0.5 else "F")
                bucket = pool.get((g, age))
                while bucket:
                    pos = bucket.pop()
                    if people[pos].household < 0:
                        return pos
            return None

        groups: list[list[int]] = []
        for pos, head in enumerate(people):
            if head.household >= 0 or not 30 <= head.age <= 70 or rng.random() >= 0.09:
                continue
            head.household = len(groups)  # reserve while picking the others
            members = [(pos, HouseholdRole.HEAD)]
            if rng.random() < 0.85:
                other = "F" if head.gender == "M" else "M"
                spouse = take(other, max(head.age - 6, 22), min(head.age + 6, 85))
                if spouse is not None:
                    people[spouse].household = head.household
                    members.append((spouse, HouseholdRole.SPOUSE))
            for _ in range(2 if rng.random() < 0.3 else 1):
                if rng.random() < 0.6:
                    child = take(None, max(head.age - 35, 18), head.age - 22)
                    if child is not None:
                        people[child].household = head.household
                        members.append((child, HouseholdRole.CHILD))
            if len(members) < 4 and rng.random() < 0.15:
                parent = take(None, head.age + 22, min(head.age + 35, 85))
                if parent is not None:
                    people[parent].household = head.household
                    members.append((parent, HouseholdRole.PARENT))
            if len(members) < 2:
                head.household = -1
                continue
            for member, role in members:
                people[member].household_role = role
            groups.append([m for m, _r in members])
        return groups

    # -- names and places ---------------------------------------------------------------

    def surname(self, rng: random.Random) -> str:
        return rng.choices(self.surnames, cum_weights=self.surname_cum)[0]

    def given_name(self, rng: random.Random, gender: str) -> str:
        chars = MALE_CHARS if gender == "M" else FEMALE_CHARS
        first = chars[int(rng.random() * len(chars))]
        if rng.random() < 0.15:
            return first
        return first + chars[int(rng.random() * len(chars))]

    def address(self, rng: random.Random, outlet: Outlet) -> str:
        district = outlet.district
        if rng.random() < 0.25:
            district = rng.choice(CITY_DISTRICTS[outlet.city])
        street = rng.choice(STREETS[district])
        number = 1 + int(rng.random() * 300)
        if rng.random() < 0.5:
            return f"{outlet.city}{district}{street}{number}号"
        community = rng.choice(COMMUNITY_WORDS) + rng.choice(COMMUNITIES)
        return (
            f"{outlet.city}{district}{street}{number}号{community}"
            f"{1 + int(rng.random() * 20)}号楼{1 + int(rng.random() * 4)}单元"
            f"{1 + int(rng.random() * 28)}{1 + int(rng.random() * 4):02d}室"
        )

    def employer(self, rng: random.Random, city: str) -> str:
        if rng.random() < 0.15:
            return rng.choice(INSTITUTIONS[city])
        suffix = "股份有限公司" if rng.random() < 0.3 else "有限公司"
        return f"{city[:2]}{rng.choice(BRANDS)}{rng.choice(INDUSTRIES)}{suffix}"

    # -- one chunk ----------------------------------------------------------------

    def chunk(self, start: int, n: int) -> Chunk:
        rng = random.Random(self.seed * 1_000_003 + start)  # noqa: S311  (demo data, not secrets)
        rnd = rng.random
        people = [identity(rng, start + j, self.today) for j in range(n)]
        groups = self.households(rng, people)

        outlets, outlet_values, outlet_cum = self.outlets, *self.outlet_cum
        for person, k in zip(people, rng.choices(outlet_values, cum_weights=outlet_cum, k=n), strict=True):
            person.outlet = k
            person.surname = self.surname(rng)
        out = Chunk()
        # Families: one outlet and address, children carry the father's surname.
        for members in groups:
            head = people[members[0]]
            outlet = outlets[head.outlet]
            address = self.address(rng, outlet)
            father = next(
                (people[m] for m in members if people[m].household_role in ("head", "spouse")
                 and people[m].gender == "M"),
                head,
            )  # fmt: skip
            for m in members:
                person = people[m]
                person.outlet = head.outlet
                person.address = address
                if person.household_role == HouseholdRole.CHILD:
                    person.surname = father.surname
                elif person.household_role == HouseholdRole.PARENT and person.gender == "M":
                    person.surname = head.surname
                person.married = person.household_role in (HouseholdRole.HEAD, HouseholdRole.SPOUSE)
            out.households.append((f"{head.surname}{self.given_name(rng, head.gender)}家庭", self.now))
        # The head's given name is drawn when the household name is; keep them equal.
        head_names = {g[0]: out.households[h][0][:-2] for h, g in enumerate(groups)}

        latest, now, latest_ord, days = self.latest, self.now, self.latest_ord, self.latest.day
        occ_values, occ_cum = self.occupations
        edu_values, edu_cum = self.education
        risk_values, risk_cum = self.risk
        open_first, open_last = self.open_first, self.open_last
        children = out.children = {
            "contacts": [], "accounts": [], "assignments": [], "relationships": [], "assets": [],
            "interactions": [], "txns": [],
        }  # fmt: skip
        contacts, accounts, assignments = children["contacts"], children["accounts"], children["assignments"]
        relationships, assets = children["relationships"], children["assets"]
        interactions, txns = children["interactions"], children["txns"]

        for j, person in enumerate(people):
            index = person.index
            outlet = outlets[person.outlet]
            city = outlet.city
            manager_id = outlet.manager_ids[int(rnd() * len(outlet.manager_ids))]
            name = head_names.get(j) or person.surname + self.given_name(rng, person.gender)
            age = person.age
            dormant = rnd() < 0.08
            # Occupation, employer, education, marital status
            if age >= 60 and rnd() < 0.75:
                occupation, employer = "退休", ""
            elif age <= 22 and rnd() < 0.7:
                occupation, employer = "学生", ""
            else:
                occupation = rng.choices(occ_values, cum_weights=occ_cum)[0]
                employer = "" if occupation in ("个体经营者", "自由职业") else self.employer(rng, city)
            education = "" if rnd() < 0.04 else rng.choices(edu_values, cum_weights=edu_cum)[0]
            if person.married is not None and person.household_role != HouseholdRole.CHILD:
                marital = "M" if person.married or rnd() < 0.7 else "W"
            elif age < 25:
                marital = "S" if rnd() < 0.92 else "M"
            else:
                r = rnd()
                marital = (
                    "M" if r < 0.68 else "S" if r < 0.84 else "D" if r < 0.93 else "W" if r < 0.97 else ""
                )
            # Assets under management: log-normal, median 80k, tail to ~50M
            if dormant:
                aum_target = int(rng.lognormvariate(7.6, 1.0) * 100)
            else:
                aum_target = int(min(rng.lognormvariate(11.29, 1.3), 50_000_000) * 100)
            richness = min(max((math.log(max(aum_target, 100)) - 15.4) / 4.6, 0.0), 1.0)
            income = None
            if rnd() < 0.9:
                raw = math.exp(rng.gauss(11.7 + 0.35 * (richness * 4.6 - 0.6), 0.55))
                income = f"{int(min(max(raw, 20_000), 9_000_000)) // 1000 * 1000}.00"
            risk_level, risk_expiry = "", None
            if rnd() < 0.93:
                risk_level = rng.choices(risk_values, cum_weights=risk_cum)[0]
                valid_for = -int(rnd() * 365) - 1 if rnd() < 0.15 else 1 + int(rnd() * 365)
                risk_expiry = datetime.date.fromordinal(latest_ord + valid_for)
            open_lo = max(open_first, person.birth.toordinal() + 16 * 365)
            open_ord = open_last if open_lo >= open_last else open_lo + int(rnd() * (open_last - open_lo))
            open_date = datetime.date.fromordinal(open_ord)
            mobile = mobile_number(index)

            # Accounts
            acct_rows, aum_cents, liab_cents = person_accounts(
                rng, j=j, index=index, outlet=outlet, aum_target=aum_target, richness=richness, age=age,
                open_ord=open_ord, dormant=dormant, latest=latest,
            )  # fmt: skip
            accounts.extend(acct_rows)
            # The month average so far: a little below or above today's AUM.
            month_avg = aum_cents if days == 1 else aum_cents + int(aum_cents * (rnd() * 0.07 - 0.04))
            household = person.household if person.household >= 0 else None
            consents = [rnd() < 0.95, rnd() < 0.93, rnd() < 0.9, rnd() < 0.9, rnd() < 0.85]
            out.customers.append(
                (
                    j,  # customer_no: the chunk position, numbered when written
                    name, person.id_type, person.id_number, person.gender, person.birth,
                    "CHN", occupation, employer, education, marital, income, risk_level, risk_expiry,
                    outlet.branch_id, open_date, "D" if dormant else "A", mobile, *consents,
                    "", "", money(aum_cents), money(month_avg), money(liab_cents), latest,
                    manager_id, household, person.household_role, now, now,
                )
            )  # fmt: skip

            # Contacts
            contacts.append((j, ContactType.MOBILE, mobile, True, now))
            if rnd() < 0.5:
                domain = EMAIL_DOMAINS[int(rnd() * len(EMAIL_DOMAINS))]
                local = (
                    str(10_000_000 + (index * 7919) % 990_000_000)
                    if domain == "qq.com"
                    else f"{self.pinyin[person.surname]}{mobile[-4:]}{int(rnd() * 100):02d}"
                )
                contacts.append((j, ContactType.EMAIL, f"{local}@{domain}", True, now))
            if person.address or rnd() < 0.85:
                contacts.append(
                    (j, ContactType.ADDRESS, person.address or self.address(rng, outlet), True, now)
                )
            if employer and rnd() < 0.12:
                area = "010" if city == "北京市" else "021"
                contacts.append(
                    (j, ContactType.WORK, f"{area}-{5 + int(rnd() * 4)}{int(rnd() * 10**7):07d}", True, now)
                )  # noqa: E501

            # The manager of record
            start_ord = max(open_ord, latest_ord - 1500 + int(rnd() * 1400))
            assignments.append(
                (j, manager_id, AssignmentRole.PRIMARY, datetime.date.fromordinal(min(start_ord, latest_ord)),
                 None, "开户分配（演示数据）", None, now)
            )  # fmt: skip

            # Employer and non-customer spouse
            if employer and rnd() < 0.06:
                relationships.append((j, RelationType.EMPLOYER, None, employer, "代发工资单位"))
            if person.household < 0 and marital == "M" and rnd() < 0.03:
                spouse_gender = "F" if person.gender == "M" else "M"
                spouse_name = self.surname(rng) + self.given_name(rng, spouse_gender)
                relationships.append((j, RelationType.SPOUSE, None, spouse_name, "非本行客户"))

            # Assets held outside the bank
            if rnd() < 0.1 + 0.15 * richness:
                for _ in range(1 if rnd() < 0.8 else 2):
                    assets.append((j, *other_asset(rng, outlet=outlet, richness=richness, latest=latest)))

            # Interactions
            if rnd() < 0.2:
                for _ in range(1 + int(rnd() * 4)):
                    kind = rng.choices(self.kinds[0], cum_weights=self.kinds[1])[0]
                    when = datetime.datetime.combine(
                        datetime.date.fromordinal(latest_ord - int(rnd() * 180)),
                        datetime.time(9 + int(rnd() * 9), int(rnd() * 60)),
                        tzinfo=self.tz,
                    )
                    subjects = SUBJECTS[kind]
                    interactions.append(
                        (j, kind, when, subjects[int(rnd() * len(subjects))],
                         NOTES[int(rnd() * len(NOTES))], manager_id, when)
                    )  # fmt: skip

            # Transactions on the latest business day
            if not dormant and rnd() < 0.3:
                chosen = set(
                    rng.choices(self.channels[0], cum_weights=self.channels[1], k=1 + int(rnd() * 3))
                )
                for channel in sorted(chosen):
                    count = 1 + int(rng.expovariate(1 / 3))
                    amount = int(rng.lognormvariate(6.5, 1.2) * 100) * count
                    txns.append((latest, j, channel, count, money(amount)))

        # Relationships inside households: both directions.
        for members in groups:
            by_role: dict[str, list[int]] = {}
            for m in members:
                by_role.setdefault(people[m].household_role, []).append(m)
            couple = by_role.get(HouseholdRole.HEAD, []) + by_role.get(HouseholdRole.SPOUSE, [])
            if len(couple) == 2:
                a, b = couple
                relationships.append((a, RelationType.SPOUSE, b, "", ""))
                relationships.append((b, RelationType.SPOUSE, a, "", ""))
            for child in by_role.get(HouseholdRole.CHILD, []):
                for parent in couple:
                    relationships.append((parent, RelationType.CHILD, child, "", ""))
                    relationships.append((child, RelationType.PARENT, parent, "", ""))
            for parent in by_role.get(HouseholdRole.PARENT, []):
                head_pos = members[0]
                relationships.append((head_pos, RelationType.PARENT, parent, "", ""))
                relationships.append((parent, RelationType.CHILD, head_pos, "", ""))
        return out
