"""The demo organisation and its users (idempotent): the branch tree of the README,
one demo login per role and a client manager at every other outlet."""

from __future__ import annotations

from django.conf import settings

from accounts.models import Branch, BranchLevel, User
from accounts.roles import Role, sync_roles
from accounts.services import user_provision

# (code, name, level, parent code)
DEMO_ORG: list[tuple[str, str, int, str | None]] = [
    ("10000", "总行", BranchLevel.HEAD_OFFICE, None),
    ("11000", "北京分行", BranchLevel.BRANCH, "10000"),
    ("12000", "上海分行", BranchLevel.BRANCH, "10000"),
    ("11100", "海淀支行", BranchLevel.SUB_BRANCH, "11000"),
    ("11200", "朝阳支行", BranchLevel.SUB_BRANCH, "11000"),
    ("12100", "浦东支行", BranchLevel.SUB_BRANCH, "12000"),
    ("12200", "黄浦支行", BranchLevel.SUB_BRANCH, "12000"),
    ("11101", "中关村网点", BranchLevel.OUTLET, "11100"),
    ("11102", "五道口网点", BranchLevel.OUTLET, "11100"),
    ("11201", "国贸网点", BranchLevel.OUTLET, "11200"),
    ("11202", "望京网点", BranchLevel.OUTLET, "11200"),
    ("12101", "陆家嘴网点", BranchLevel.OUTLET, "12100"),
    ("12102", "张江网点", BranchLevel.OUTLET, "12100"),
    ("12201", "外滩网点", BranchLevel.OUTLET, "12200"),
    ("12202", "南京东路网点", BranchLevel.OUTLET, "12200"),
]

# (username, employee number, display name, role, branch code)
DEMO_USERS: list[tuple[str, str, str, str, str]] = [
    ("demo_admin", "E0001", "系统管理员", Role.SYSTEM_ADMIN, "10000"),
    ("demo_pm", "E0002", "参数管理员", Role.PARAMETER_MANAGER, "10000"),
    ("demo_bm", "E0003", "业务管理员", Role.BUSINESS_MANAGER, "10000"),
    ("demo_audit", "E0004", "审计员", Role.AUDITOR, "10000"),
    ("demo_bh", "E1100", "海淀支行行长", Role.BRANCH_HEAD, "11100"),
    ("demo_cm1", "E1101", "王经理", Role.CLIENT_MANAGER, "11101"),
    ("demo_cm2", "E1102", "李经理", Role.CLIENT_MANAGER, "11102"),
    ("demo_cm3", "E1201", "陈经理", Role.CLIENT_MANAGER, "12101"),
]
# One more client manager at every other outlet, so demo customers are spread out.
EXTRA_MANAGER_OUTLETS = ["11201", "11202", "12102", "12201", "12202"]


def seed_org() -> dict[str, Branch]:
    branches: dict[str, Branch] = {b.code: b for b in Branch.objects.all()}
    for code, name, level, parent_code in DEMO_ORG:
        if code in branches:
            continue
        branch = Branch(
            code=code,
            name=name,
            level=level,
            parent=branches.get(parent_code) if parent_code is not None else None,
        )
        branch.save()
        branches[code] = branch
    return branches


def seed_users(branches: dict[str, Branch]) -> list[User]:
    sync_roles()
    password = settings.DEMO_PASSWORD
    users = [
        user_provision(
            username=username,
            employee_no=employee_no,
            display_name=name,
            branch=branches[branch_code],
            roles=[role],
            password=password,
            source="seed_demo",
        )
        for username, employee_no, name, role, branch_code in DEMO_USERS
    ]
    for i, outlet in enumerate(EXTRA_MANAGER_OUTLETS, start=1):
        users.append(
            user_provision(
                username=f"cm_{outlet}",
                employee_no=f"E9{outlet}",
                display_name=f"客户经理{i}",
                branch=branches[outlet],
                roles=[Role.CLIENT_MANAGER],
                password=password,
                source="seed_demo",
            )
        )
    return users
