"""Realistic demo customers, at bank scale.

`seed_customers(count=N)` tops the customer table up to N customers (idempotent: a
second run creates nothing; an interrupted run is finished by running it again) with
everything the portal shows about a person: contacts, accounts with the latest
balances, daily and monthly AUM, households and relationships, other assets,
interactions, transaction summaries and the assignment to the client manager of the
customer's outlet.

How it stays fast: one deterministic generator (``random.Random(seed)``, lookup
tables prepared once) builds each chunk of customers and their rows in Python; on
PostgreSQL the rows are streamed with ``COPY ... FROM STDIN`` (psycopg 3), elsewhere
(SQLite, the embedded default) with ``bulk_create``. Rows that follow from others
(daily balances, daily and monthly AUM) are derived in SQL, ``INSERT ... SELECT``, by
the same statements on both databases. Each chunk is one transaction, so memory stays
flat and a run that stops half-way leaves whole chunks behind.

Uniqueness never depends on luck: resident ID, passport number, mobile and account
numbers are bijections of the customer's index (the number of customers that existed
before it), so no two demo customers can share one.

Consistency: the customer's AUM, liabilities, month-average AUM and AUM date are
exactly what `customers.aum.aum_refresh(latest business date)` computes from the rows
written here (the current month's daily AUM is written for every day so far, so the
month average survives a refresh).
"""

from __future__ import annotations

import datetime
import math
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import Model
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

from accounts.models import Branch, BranchLevel, User

from .choices import (
    ASSET_CATEGORIES,
    AccountCategory,
    AssetKind,
    AssignmentRole,
    Channel,
    ContactType,
    HouseholdRole,
    IdType,
    InteractionKind,
    RelationType,
)
from .idnumbers import REGION_CODES, make_resident_id
from .models import (
    Account,
    AccountBalance,
    ContactPoint,
    Customer,
    CustomerAssignment,
    CustomerDailyAum,
    CustomerMonthlyAum,
    Household,
    Interaction,
    OtherAsset,
    Relationship,
    TransactionSummary,
)
from .numbers import reserve_customer_numbers

__all__ = ["DEFAULT_SEED", "SeedStats", "seed_customers"]

DEFAULT_SEED = 20260101
USD_CNY = 7.1245

# ---------------------------------------------------------------------------------
# Bijections of the customer index: unique numbers without a lookup.
# ---------------------------------------------------------------------------------

# Multipliers near the golden ratio of the modulus spread neighbouring indices apart.
# Resident IDs: (region, birth date, sequence) is an affine permutation of a key, the
# key being index * _ID_TRIES + attempt. Attempts reshape the age distribution (and
# keep every age within 18..85 whatever today is); keys of different customers never
# meet, so neither do their IDs.
_BIRTH_FIRST = datetime.date(1930, 1, 1).toordinal()
_BIRTH_DAYS = datetime.date(2015, 12, 31).toordinal() - _BIRTH_FIRST + 1
_REGIONS = len(REGION_CODES)
_ID_SPACE = _REGIONS * _BIRTH_DAYS * 1000
_ID_MUL = int(_ID_SPACE * 0.6180339887) | 1
while math.gcd(_ID_MUL, _ID_SPACE) != 1:
    _ID_MUL += 2
_ID_ADD = 1_234_567
_ID_TRIES = 32
# Relative frequency of customers by age (acceptance probability per attempt).
_AGE_WEIGHT = [0.0] * 18 + [0.45] * 7 + [0.9] * 10 + [1.0] * 20 + [0.85] * 10 + [0.55] * 10 + [0.3] * 11
# Passports ("E" + 8 digits): affine permutation of 10**8.
_PASSPORT_MUL, _PASSPORT_ADD = 61_803_399, 10_203_040
# Mobiles: one of the prefixes below + 8 digits, an affine permutation of len * 10**8.
_MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "184",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
]
_MOBILE_SPACE = len(_MOBILE_PREFIXES) * 10**8
_MOBILE_MUL, _MOBILE_ADD = int(_MOBILE_SPACE * 0.6180339887) | 1, 77_777_777
while math.gcd(_MOBILE_MUL, _MOBILE_SPACE) != 1:
    _MOBILE_MUL += 2
# Account numbers: a 10-digit scramble of the index plus the account's slot.
_ACCT_MUL, _ACCT_ADD = 6_180_339_887, 3_141_592_653  # odd, not a multiple of 5

for _mul, _space in ((_ID_MUL, _ID_SPACE), (_PASSPORT_MUL, 10**8), (_MOBILE_MUL, _MOBILE_SPACE)):
    assert math.gcd(_mul, _space) == 1, "not a permutation"  # noqa: S101
assert math.gcd(_ACCT_MUL, 10**10) == 1  # noqa: S101


def _luhn(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = ord(ch) - 48
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def _mobile(index: int) -> str:
    p = (_MOBILE_MUL * index + _MOBILE_ADD) % _MOBILE_SPACE
    return f"{_MOBILE_PREFIXES[p // 10**8]}{p % 10**8:08d}"


def _passport(index: int) -> str:
    return f"E{(_PASSPORT_MUL * index + _PASSPORT_ADD) % 10**8:08d}"


def _age(birth: datetime.date, today: datetime.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


# ---------------------------------------------------------------------------------
# Reference data: names, places, jobs, products.
# ---------------------------------------------------------------------------------

# (surname, pinyin, relative frequency per 10,000)
_SURNAMES: list[tuple[str, str, float]] = [
    ("王", "wang", 712), ("李", "li", 719), ("张", "zhang", 683), ("刘", "liu", 538), ("陈", "chen", 453),
    ("杨", "yang", 308), ("黄", "huang", 223), ("赵", "zhao", 229), ("吴", "wu", 205), ("周", "zhou", 193),
    ("徐", "xu", 167), ("孙", "sun", 154), ("马", "ma", 144), ("朱", "zhu", 126), ("胡", "hu", 131),
    ("郭", "guo", 115), ("何", "he", 106), ("林", "lin", 95), ("高", "gao", 100), ("罗", "luo", 90),
    ("郑", "zheng", 80), ("梁", "liang", 80), ("谢", "xie", 66), ("宋", "song", 63), ("唐", "tang", 62),
    ("许", "xu", 60), ("韩", "han", 60), ("冯", "feng", 55), ("邓", "deng", 55), ("曹", "cao", 52),
    ("彭", "peng", 50), ("曾", "zeng", 48), ("肖", "xiao", 47), ("田", "tian", 45), ("董", "dong", 44),
    ("袁", "yuan", 42), ("潘", "pan", 41), ("于", "yu", 40), ("蒋", "jiang", 39), ("蔡", "cai", 38),
    ("余", "yu", 37), ("杜", "du", 36), ("叶", "ye", 35), ("程", "cheng", 34), ("苏", "su", 33),
    ("魏", "wei", 32), ("吕", "lv", 31), ("丁", "ding", 30), ("任", "ren", 30), ("沈", "shen", 29),
    ("姚", "yao", 28), ("卢", "lu", 28), ("姜", "jiang", 27), ("崔", "cui", 26), ("钟", "zhong", 26),
    ("谭", "tan", 25), ("陆", "lu", 24), ("汪", "wang", 24), ("范", "fan", 23), ("金", "jin", 23),
    ("石", "shi", 22), ("廖", "liao", 22), ("贾", "jia", 21), ("夏", "xia", 20), ("韦", "wei", 20),
    ("付", "fu", 20), ("方", "fang", 19), ("白", "bai", 18), ("邹", "zou", 18), ("孟", "meng", 17),
    ("熊", "xiong", 17), ("秦", "qin", 16), ("邱", "qiu", 16), ("江", "jiang", 16), ("尹", "yin", 15),
    ("薛", "xue", 15), ("闫", "yan", 14), ("段", "duan", 14), ("雷", "lei", 14), ("侯", "hou", 13),
    ("龙", "long", 13), ("史", "shi", 13), ("陶", "tao", 12), ("黎", "li", 12), ("贺", "he", 12),
    ("顾", "gu", 11), ("毛", "mao", 11), ("郝", "hao", 11), ("龚", "gong", 10), ("邵", "shao", 10),
    ("万", "wan", 10), ("钱", "qian", 10), ("严", "yan", 10), ("武", "wu", 9), ("戴", "dai", 9),
    ("莫", "mo", 8), ("孔", "kong", 8), ("向", "xiang", 8), ("汤", "tang", 8), ("常", "chang", 8),
    ("欧阳", "ouyang", 2.0), ("司马", "sima", 0.5), ("上官", "shangguan", 0.5), ("诸葛", "zhuge", 0.4),
    ("东方", "dongfang", 0.3), ("慕容", "murong", 0.2),
]  # fmt: skip
_MALE_CHARS = list(
    "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林阳建国文志海峰亮成东晨博轩睿航"
    "毅鸿振庆永刚铭昊天瑞哲宏晓子嘉泽锋松江"
)
_FEMALE_CHARS = list(
    "芳娜敏静丽艳娟霞秀英玲桂兰萍红燕琳婷雪慧颖倩洁莉佳欣怡悦雨涵梦琪晶月凤珍玉梅蕾薇婉琳岚晓思"
    "雅楠菲露瑶彤萱冰丹"
)

# Outlet code -> (city, district of the outlet, other districts of the city)
_OUTLET_PLACES: dict[str, tuple[str, str]] = {
    "11101": ("北京市", "海淀区"),
    "11102": ("北京市", "海淀区"),
    "11201": ("北京市", "朝阳区"),
    "11202": ("北京市", "朝阳区"),
    "12101": ("上海市", "浦东新区"),
    "12102": ("上海市", "浦东新区"),
    "12201": ("上海市", "黄浦区"),
    "12202": ("上海市", "黄浦区"),
}
_OUTLET_WEIGHT = {"11101": 1.4, "11102": 0.9, "11201": 1.3, "11202": 1.0,
                  "12101": 1.5, "12102": 0.8, "12201": 1.1, "12202": 1.0}  # fmt: skip
_STREETS: dict[str, list[str]] = {
    "海淀区": [
        "中关村大街",
        "学院路",
        "知春路",
        "北四环西路",
        "成府路",
        "清华东路",
        "万泉河路",
        "西三环北路",
    ],
    "朝阳区": ["建国路", "东三环中路", "望京街", "阜通东大街", "朝阳北路", "光华路", "酒仙桥路", "北辰东路"],
    "东城区": ["东长安街", "王府井大街", "东直门内大街", "朝阳门北大街"],
    "西城区": ["金融大街", "西单北大街", "复兴门内大街", "德胜门外大街"],
    "丰台区": ["丰台北路", "南三环西路", "科学城路"],
    "浦东新区": ["陆家嘴环路", "世纪大道", "张江路", "科苑路", "浦东南路", "东方路", "杨高中路", "锦绣路"],
    "黄浦区": ["南京东路", "中山东一路", "淮海中路", "西藏中路", "人民大道", "河南中路", "复兴中路"],
    "徐汇区": ["漕溪北路", "肇嘉浜路", "虹桥路", "天钥桥路"],
    "静安区": ["南京西路", "延安中路", "常德路", "北京西路"],
    "长宁区": ["长宁路", "仙霞路", "古北路"],
}
_CITY_DISTRICTS = {
    "北京市": ["海淀区", "朝阳区", "东城区", "西城区", "丰台区"],
    "上海市": ["浦东新区", "黄浦区", "徐汇区", "静安区", "长宁区"],
}
_COMMUNITIES = ["花园", "小区", "家园", "公寓", "苑", "新村", "名邸", "府"]
_COMMUNITY_WORDS = [
    "阳光",
    "翠微",
    "锦绣",
    "金色",
    "世纪",
    "明珠",
    "紫荆",
    "华府",
    "碧水",
    "银河",
    "东方",
    "和平",
]

_OCCUPATIONS = [
    ("公司职员", 22), ("工程师", 10), ("教师", 6), ("医生", 3), ("护士", 2), ("公务员", 5),
    ("个体经营者", 8), ("企业管理人员", 7), ("销售人员", 6), ("律师", 1), ("会计", 4),
    ("自由职业", 5), ("金融从业人员", 3), ("科研人员", 2), ("程序员", 5), ("设计师", 2),
    ("司机", 2), ("厨师", 1), ("军人", 1),
]  # fmt: skip
_BRANDS = ["华信", "鼎盛", "宏远", "天诚", "恒泰", "瑞丰", "金桥", "新世纪", "博远", "中科", "联创", "汇通",
           "泰和", "长城", "启明", "东升", "万达", "星河", "蓝海", "嘉禾"]  # fmt: skip
_INDUSTRIES = ["科技", "贸易", "建设", "咨询", "医药", "物流", "传媒", "软件", "投资", "制造", "网络", "文化"]
_INSTITUTIONS = {
    "北京市": ["北京大学", "清华大学", "北京协和医院", "海淀区教育委员会", "中国科学院计算技术研究所",
               "北京市朝阳区人民政府", "首都医科大学附属北京朝阳医院"],
    "上海市": ["复旦大学", "上海交通大学", "上海市第一人民医院", "浦东新区教育局", "上海市黄浦区人民政府",
               "中国科学院上海药物研究所"],
}  # fmt: skip
_EDUCATION = [("PRI", 4), ("SEC", 28), ("BAC", 48), ("MAS", 15), ("DOC", 5)]
_RISK = [("C1", 10), ("C2", 25), ("C3", 35), ("C4", 20), ("C5", 10)]
_EMAIL_DOMAINS = [
    "163.com",
    "126.com",
    "qq.com",
    "sina.com",
    "sohu.com",
    "gmail.com",
    "outlook.com",
    "foxmail.com",
]

_INTERACTION_KINDS = [
    (InteractionKind.CALL, 45), (InteractionKind.VISIT, 30), (InteractionKind.WECHAT, 12),
    (InteractionKind.SMS, 5), (InteractionKind.SERVICE_REQUEST, 6), (InteractionKind.COMPLAINT, 2),
]  # fmt: skip
_SUBJECTS = {
    InteractionKind.CALL: [
        "理财产品到期提醒",
        "定期存款续存沟通",
        "客户回访",
        "基金定投推荐",
        "风险评估到期提醒",
        "信用卡分期推荐",
        "生日问候",
        "大额资金流出关怀",
    ],
    InteractionKind.VISIT: [
        "上门拜访：资产配置建议",
        "网点面谈：家庭理财规划",
        "保险产品介绍",
        "私人银行服务介绍",
        "房贷提前还款咨询",
        "养老规划沟通",
    ],
    InteractionKind.WECHAT: ["企业微信：新发理财产品推送", "企业微信：节日问候", "企业微信：市场观点分享"],
    InteractionKind.SMS: ["短信：存款到期提醒", "短信：生日祝福"],
    InteractionKind.SERVICE_REQUEST: ["挂失补卡", "修改预留手机号", "开立电子账户", "办理代发工资签约"],
    InteractionKind.COMPLAINT: ["投诉：网点排队时间过长", "投诉：手机银行转账失败"],
}
_NOTES = ["", "", "", "客户有意向，约下周再联系。", "已发送产品说明书。", "客户暂无需求。",
          "客户关注收益率，偏好稳健型产品。", "已完成风险评估。", "客户表示满意。"]  # fmt: skip
_CHANNELS = [
    (Channel.MOBILE, 50),
    (Channel.ATM, 15),
    (Channel.POS, 13),
    (Channel.ONLINE, 12),
    (Channel.COUNTER, 10),
]
_CARS = [
    ("宝马", ["3系", "5系", "X3", "X5"]),
    ("奔驰", ["C级", "E级", "GLC"]),
    ("奥迪", ["A4L", "A6L", "Q5L"]),
    ("大众", ["帕萨特", "迈腾", "途观L"]),
    ("丰田", ["凯美瑞", "汉兰达", "卡罗拉"]),
    ("本田", ["雅阁", "CR-V"]),
    ("比亚迪", ["汉", "唐", "秦PLUS", "海豹"]),
    ("特斯拉", ["Model 3", "Model Y"]),
    ("理想", ["L7", "L9"]),
    ("蔚来", ["ET5", "ES6"]),
]
_TIME_TERMS = [(90, "03M"), (180, "06M"), (365, "12M"), (730, "24M"), (1095, "36M"), (1825, "60M")]
_PRODUCTS = {
    AccountCategory.DEP_CUR: ["DC-DEBIT", "DC-DEBIT", "DC-SALARY"],
    AccountCategory.WEALTH: ["WM-2025A", "WM-2025B", "WM-2026A", "WM-CASH", "WM-STABLE"],
    AccountCategory.FUND: ["FD-000001", "FD-110011", "FD-161725", "FD-519732", "FD-005827"],
    AccountCategory.INSURANCE: ["INS-ANNUITY", "INS-LIFE", "INS-HEALTH"],
    AccountCategory.CUSTODY: ["CUST-SEC"],
    AccountCategory.LOAN_MORTGAGE: ["LN-MORTGAGE"],
    AccountCategory.LOAN_CONSUMER: ["LN-CONSUMER", "LN-CAR"],
    AccountCategory.CREDIT_CARD: ["CC-STANDARD", "CC-GOLD", "CC-PLATINUM"],
}
# 19-digit account numbers: 4-digit prefix + 10-digit index scramble + slot + branch + check.
_ACCOUNT_PREFIX = {
    AccountCategory.DEP_TIME: "1101",
    AccountCategory.WEALTH: "2201",
    AccountCategory.FUND: "2301",
    AccountCategory.INSURANCE: "2401",
    AccountCategory.CUSTODY: "2501",
    AccountCategory.LOAN_MORTGAGE: "3101",
    AccountCategory.LOAN_CONSUMER: "3201",
    AccountCategory.LOAN_BUSINESS: "3301",
}


def _cum(pairs: Sequence[tuple[Any, float]]) -> tuple[list[Any], list[float]]:
    values, cum, total = [], [], 0.0
    for value, weight in pairs:
        total += weight
        values.append(value)
        cum.append(total)
    return values, cum


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


# ---------------------------------------------------------------------------------
# Table layouts: the columns every writer fills, in order (the id comes from the
# database or is reserved in advance).
# ---------------------------------------------------------------------------------

HOUSEHOLD_FIELDS = ("name", "created_at")
CUSTOMER_FIELDS = (
    "customer_no", "name", "id_type", "id_number", "gender", "birth_date", "nationality", "occupation",
    "employer", "education", "marital", "annual_income", "risk_level", "risk_expiry", "home_branch_id",
    "open_date", "status", "mobile", "consent_call", "consent_sms", "consent_wechat", "consent_email",
    "consent_visit", "tier", "vip_status", "aum", "month_avg_aum", "liabilities", "aum_date",
    "primary_manager_id", "household_id", "household_role", "created_at", "updated_at",
)  # fmt: skip
CONTACT_FIELDS = ("customer_id", "type", "value", "is_primary", "updated_at")
ACCOUNT_FIELDS = (
    "account_no", "customer_id", "product_code", "category", "currency", "open_date", "maturity_date",
    "status", "branch_id", "balance", "cny_balance", "balance_date",
)  # fmt: skip
ASSIGNMENT_FIELDS = (
    "customer_id",
    "manager_id",
    "role",
    "start_date",
    "end_date",
    "reason",
    "created_by_id",
    "created_at",
)
RELATIONSHIP_FIELDS = ("customer_id", "relation_type", "related_customer_id", "related_name", "note")
OTHER_ASSET_FIELDS = ("customer_id", "kind", "description", "estimated_value", "valued_on")
INTERACTION_FIELDS = ("customer_id", "kind", "occurred_at", "subject", "notes", "manager_id", "created_at")
TXN_FIELDS = ("business_date", "customer_id", "channel", "txn_count", "txn_amount")


# ---------------------------------------------------------------------------------
# Writers: COPY on PostgreSQL, bulk_create elsewhere.
# ---------------------------------------------------------------------------------


@dataclass
class SeedStats:
    """Rows and seconds per table (and for generating rows in Python)."""

    tables: dict[str, list[float]] = field(default_factory=dict)
    generate_seconds: float = 0.0
    created: int = 0
    wall_seconds: float = 0.0

    def add(self, table: str, rows: int, seconds: float) -> None:
        entry = self.tables.setdefault(table, [0, 0.0])
        entry[0] += rows
        entry[1] += seconds

    @property
    def rows(self) -> int:
        return int(sum(r for r, _s in self.tables.values()))


class _Sink:
    """Stands in for a model instance when the model's own code derives stored
    columns from a value (encrypting setters, the name search)."""


class _Layout:
    """How the generator's logical rows become a model's stored columns.

    A logical field is a concrete field (by name or attname), or a property whose
    setter derives the stored columns (e.g. `Customer.id_number` encrypts into
    id_number_enc, id_hash, id_suffix): the setter runs on a stand-in object, so the
    model's rule is applied, not copied. A model with `refresh_name_search` gets its
    name-search columns from it (memoised per name). Concrete fields the generator
    does not know about get their default, or the seeding stops with a clear error.
    """

    def __init__(self, model: type[Model], fields: Sequence[str], sample: tuple):
        self.model, self.fields = model, tuple(fields)
        concrete = [f for f in model._meta.concrete_fields if f.column is not None]
        by_key = {**{f.name: f for f in concrete}, **{f.attname: f for f in concrete}}
        self.direct = [(pos, by_key[name].attname) for pos, name in enumerate(fields) if name in by_key]
        self.setters = []
        for name in fields:
            if name in by_key:
                continue
            prop = getattr(model, name, None)
            if not isinstance(prop, property) or prop.fset is None:
                raise TypeError(f"{model.__name__} has no field or settable property {name!r}")
            self.setters.append((name, prop.fset))
        self.name_hook = getattr(model, "refresh_name_search", None) if "name" in fields else None
        self._names: dict[str, dict[str, Any]] = {}
        attnames = {f.attname for f in concrete}
        provided = {attname for _pos, attname in self.direct}
        self.derived = [k for k in self._derive(sample) if k in attnames and k not in provided]
        self.defaults: list[tuple[str, Any]] = []
        for f in concrete:
            if f.attname in provided or f.attname in self.derived or (f.primary_key and f.auto_created):
                continue
            if isinstance(f, AutoFieldMixin):
                continue
            default = f.get_default()
            if default is None and not f.null:
                raise TypeError(f"customers.demo does not know how to fill {model.__name__}.{f.name}")
            self.defaults.append((f.attname, default))
        self.attnames = [a for _p, a in self.direct] + self.derived + [a for a, _d in self.defaults]
        self._direct_pos = [p for p, _a in self.direct]
        self._default_values = tuple(d for _a, d in self.defaults)
        self._simple = not self.setters and not self.name_hook

    def _derive(self, row: tuple) -> dict[str, Any]:
        sink = _Sink()
        values = sink.__dict__
        values.update(zip(self.fields, row, strict=True))
        for name, fset in self.setters:
            fset(sink, values[name])
        if self.name_hook is not None:
            name = values["name"]
            derived = self._names.get(name)
            if derived is None:
                probe = _Sink()
                probe.name = name
                self.name_hook(probe)
                derived = {k: v for k, v in probe.__dict__.items() if k != "name"}
                if len(self._names) > 200_000:
                    self._names.clear()
                self._names[name] = derived
            values.update(derived)
        return values

    def make(self, row: tuple) -> tuple:
        if self._simple:
            return (*(row[p] for p in self._direct_pos), *self._default_values)
        values = self._derive(row)
        return (
            *(row[p] for p in self._direct_pos),
            *(values[k] for k in self.derived),
            *self._default_values,
        )

    def columns(self) -> list[str]:
        return [self.model._meta.get_field(a).column for a in self.attnames]


class _Writer:
    def __init__(self, stats: SeedStats):
        self.stats = stats

    def insert(self, model: type[Model], layout: _Layout, rows: list, *, ids: bool = False) -> list[int]:
        """Insert rows made by `layout`; return the new primary keys when `ids`."""
        raise NotImplementedError


class _CopyWriter(_Writer):
    """psycopg 3 COPY FROM STDIN; ids are reserved from the table's sequence first."""

    def insert(self, model, layout, rows, *, ids=False):
        if not rows:
            return []
        table = model._meta.db_table
        qn = connection.ops.quote_name
        columns = layout.columns()
        started = time.perf_counter()
        pks: list[int] = []
        with connection.cursor() as cursor:
            if ids:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, len(rows)],
                )
                pks = sorted(r[0] for r in cursor.fetchall())
                columns = ["id", *columns]
            sql = f"COPY {qn(table)} ({', '.join(qn(c) for c in columns)}) FROM STDIN"
            with cursor.cursor.copy(sql) as copy:
                write = copy.write_row
                if ids:
                    for pk, row in zip(pks, rows, strict=True):
                        write((pk, *row))
                else:
                    for row in rows:
                        write(row)
        self.stats.add(table, len(rows), time.perf_counter() - started)
        return pks


class _OrmWriter(_Writer):
    """Plain ORM bulk_create: the embedded default (SQLite), and the baseline of the
    benchmark on PostgreSQL."""

    batch_size = 5000

    def insert(self, model, layout, rows, *, ids=False):
        if not rows:
            return []
        started = time.perf_counter()
        attnames = layout.attnames
        objs = model.objects.bulk_create(
            [model(**dict(zip(attnames, row, strict=True))) for row in rows], batch_size=self.batch_size
        )
        self.stats.add(model._meta.db_table, len(rows), time.perf_counter() - started)
        return [o.pk for o in objs] if ids else []


# ---------------------------------------------------------------------------------
# The generator.
# ---------------------------------------------------------------------------------


@dataclass
class _Outlet:
    branch_id: int
    code: str
    city: str
    district: str
    manager_ids: list[int]


@dataclass
class _Person:
    index: int
    id_type: str
    id_number: str
    gender: str
    birth: datetime.date
    age: int
    household: int = -1  # local household number
    household_role: str = ""
    surname: str = ""
    outlet: int = -1  # index into the outlets list
    address: str = ""
    married: bool | None = None


@dataclass
class _Chunk:
    households: list[tuple] = field(default_factory=list)
    customers: list[tuple] = field(default_factory=list)
    # (local customer number, ...rest) -- the customer id is filled in once known
    children: dict[str, list[tuple]] = field(default_factory=dict)


class _Generator:
    def __init__(self, *, seed: int, outlets: list[_Outlet], latest: datetime.date, now: datetime.datetime):
        self.seed = seed
        self.outlets = outlets
        self.latest = latest
        self.today = latest + datetime.timedelta(days=1)
        self.now = now
        self.tz = timezone.get_current_timezone()
        self.surnames, self.surname_cum = _cum([(s, w) for s, _p, w in _SURNAMES])
        self.pinyin = {s: p for s, p, _w in _SURNAMES}
        self.outlet_cum = _cum([(k, _OUTLET_WEIGHT.get(o.code, 1.0)) for k, o in enumerate(outlets)])
        self.occupations = _cum(_OCCUPATIONS)
        self.education = _cum(_EDUCATION)
        self.risk = _cum(_RISK)
        self.kinds = _cum(_INTERACTION_KINDS)
        self.channels = _cum(_CHANNELS)
        self.latest_ord = latest.toordinal()
        self.open_first = datetime.date(2001, 1, 1).toordinal()
        self.open_last = self.latest_ord - 400  # every customer has 13 months of history

    # -- identity ---------------------------------------------------------------

    def identity(self, rng: random.Random, index: int) -> _Person:
        today = self.today
        if rng.random() >= 0.03:
            for attempt in range(_ID_TRIES):
                p = (_ID_MUL * (index * _ID_TRIES + attempt) + _ID_ADD) % _ID_SPACE
                region, p = p % _REGIONS, p // _REGIONS
                birth = datetime.date.fromordinal(_BIRTH_FIRST + p % _BIRTH_DAYS)
                age = _age(birth, today)
                if 0 <= age < len(_AGE_WEIGHT) and rng.random() < _AGE_WEIGHT[age]:
                    seq = p // _BIRTH_DAYS
                    number = make_resident_id(
                        region_code=REGION_CODES[region], birth_date=birth, sequence=seq
                    )
                    return _Person(index, IdType.RESIDENT_ID, number, "M" if seq % 2 else "F", birth, age)
        # a passport holder (also the fallback if no attempt fitted, which is rare)
        age = 18 + min(int(rng.expovariate(1 / 22)), 67)
        birth = datetime.date.fromordinal(today.toordinal() - int(age * 365.25) - 2 - int(rng.random() * 360))
        return _Person(
            index,
            IdType.PASSPORT,
            _passport(index),
            "M" if rng.random() < 0.5 else "F",
            birth,
            _age(birth, today),
        )

    # -- households ---------------------------------------------------------------

    def households(self, rng: random.Random, people: list[_Person]) -> list[list[int]]:
        """Group about 10% of the chunk's customers into households of 2-4 members
        whose ages and genders fit their roles; returns member positions per household
        (head first)."""
        pool: dict[tuple[str, int], list[int]] = {}
        for pos, person in enumerate(people):
            pool.setdefault((person.gender, person.age), []).append(pos)
        for members in pool.values():
            rng.shuffle(members)

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
        chars = _MALE_CHARS if gender == "M" else _FEMALE_CHARS
        first = chars[int(rng.random() * len(chars))]
        if rng.random() < 0.15:
            return first
        return first + chars[int(rng.random() * len(chars))]

    def address(self, rng: random.Random, outlet: _Outlet) -> str:
        district = outlet.district
        if rng.random() < 0.25:
            district = rng.choice(_CITY_DISTRICTS[outlet.city])
        street = rng.choice(_STREETS[district])
        number = 1 + int(rng.random() * 300)
        if rng.random() < 0.5:
            return f"{outlet.city}{district}{street}{number}号"
        community = rng.choice(_COMMUNITY_WORDS) + rng.choice(_COMMUNITIES)
        return (
            f"{outlet.city}{district}{street}{number}号{community}"
            f"{1 + int(rng.random() * 20)}号楼{1 + int(rng.random() * 4)}单元"
            f"{1 + int(rng.random() * 28)}{1 + int(rng.random() * 4):02d}室"
        )

    def employer(self, rng: random.Random, city: str) -> str:
        if rng.random() < 0.15:
            return rng.choice(_INSTITUTIONS[city])
        suffix = "股份有限公司" if rng.random() < 0.3 else "有限公司"
        return f"{city[:2]}{rng.choice(_BRANDS)}{rng.choice(_INDUSTRIES)}{suffix}"

    # -- one chunk ----------------------------------------------------------------

    def chunk(self, start: int, n: int) -> _Chunk:
        rng = random.Random(self.seed * 1_000_003 + start)  # noqa: S311  (demo data, not secrets)
        rnd = rng.random
        people = [self.identity(rng, start + j) for j in range(n)]
        groups = self.households(rng, people)

        outlets, outlet_values, outlet_cum = self.outlets, *self.outlet_cum
        for person, k in zip(people, rng.choices(outlet_values, cum_weights=outlet_cum, k=n), strict=True):
            person.outlet = k
            person.surname = self.surname(rng)
        out = _Chunk()
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
            mobile = _mobile(index)

            # Accounts
            acct_rows, aum_cents, liab_cents = self.accounts(
                rng, j, index, outlet, aum_target, richness, age, open_ord, dormant
            )
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
                    "", "", _money(aum_cents), _money(month_avg), _money(liab_cents), latest,
                    manager_id, household, person.household_role, now, now,
                )
            )  # fmt: skip

            # Contacts
            contacts.append((j, ContactType.MOBILE, mobile, True, now))
            if rnd() < 0.5:
                domain = _EMAIL_DOMAINS[int(rnd() * len(_EMAIL_DOMAINS))]
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
                    assets.append((j, *self.other_asset(rng, outlet, richness)))

            # Interactions
            if rnd() < 0.2:
                for _ in range(1 + int(rnd() * 4)):
                    kind = rng.choices(self.kinds[0], cum_weights=self.kinds[1])[0]
                    when = datetime.datetime.combine(
                        datetime.date.fromordinal(latest_ord - int(rnd() * 180)),
                        datetime.time(9 + int(rnd() * 9), int(rnd() * 60)),
                        tzinfo=self.tz,
                    )
                    subjects = _SUBJECTS[kind]
                    interactions.append(
                        (j, kind, when, subjects[int(rnd() * len(subjects))],
                         _NOTES[int(rnd() * len(_NOTES))], manager_id, when)
                    )  # fmt: skip

            # Transactions on the latest business day
            if not dormant and rnd() < 0.3:
                chosen = set(
                    rng.choices(self.channels[0], cum_weights=self.channels[1], k=1 + int(rnd() * 3))
                )
                for channel in sorted(chosen):
                    count = 1 + int(rng.expovariate(1 / 3))
                    amount = int(rng.lognormvariate(6.5, 1.2) * 100) * count
                    txns.append((latest, j, channel, count, _money(amount)))

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
                head = members[0]
                relationships.append((head, RelationType.PARENT, parent, "", ""))
                relationships.append((parent, RelationType.CHILD, head, "", ""))
        return out

    def accounts(self, rng, j, index, outlet, aum_target, richness, age, open_ord, dormant):
        """Account rows (with local customer number j) and the customer's AUM and
        liabilities in cents, the sums of the rows' CNY balances."""
        rnd = rng.random
        latest, latest_ord = self.latest, self.latest_ord
        cats = []
        if rnd() < 0.97:
            cats.append(AccountCategory.DEP_CUR)
        if not dormant:
            for cat, p in (
                (AccountCategory.DEP_TIME, 0.40 + 0.2 * richness),
                (AccountCategory.WEALTH, 0.10 + 0.45 * richness),
                (AccountCategory.FUND, 0.08 + 0.3 * richness),
                (AccountCategory.INSURANCE, 0.06 + 0.2 * richness),
                (AccountCategory.CUSTODY, 0.04 + 0.15 * richness),
            ):
                if rnd() < p:
                    cats.append(cat)
        if not cats:
            cats.append(AccountCategory.DEP_TIME if rnd() < 0.5 else AccountCategory.WEALTH)
        if not dormant:
            if 25 <= age <= 60 and rnd() < 0.13:
                cats.append(AccountCategory.LOAN_MORTGAGE)
            if rnd() < 0.06:
                cats.append(AccountCategory.LOAN_CONSUMER)
            if rnd() < 0.3:
                cats.append(AccountCategory.CREDIT_CARD)
        if len(cats) > 5:
            cats = cats[:4] + cats[-1:]

        statuses = []
        for k in range(len(cats)):
            r = rnd()
            if k > 0 and r < 0.04:
                statuses.append("C")
            elif r > 0.996:
                statuses.append("F")
            else:
                statuses.append("O")
        asset_slots = [k for k, c in enumerate(cats) if c in ASSET_CATEGORIES and statuses[k] != "C"]
        if not asset_slots:  # a customer always holds something: reopen the first asset account
            first = next(k for k, c in enumerate(cats) if c in ASSET_CATEGORIES)
            statuses[first] = "O"
            asset_slots = [first]
        weights = [
            (rnd() + 0.2) * ((1.6 - richness) if cats[k] == AccountCategory.DEP_CUR else 1.0)
            for k in asset_slots
        ]
        total_w = sum(weights)
        shares = {k: int(aum_target * w / total_w) for k, w in zip(asset_slots, weights, strict=True)}
        shares[asset_slots[0]] += aum_target - sum(shares.values())

        scramble = (_ACCT_MUL * index + _ACCT_ADD) % 10**10
        branch_tail = outlet.code[-3:]
        rows = []
        aum = liabilities = 0
        for k, cat in enumerate(cats):
            status = statuses[k]
            if cat == AccountCategory.DEP_CUR:
                body = f"621700{scramble:010d}{k}{int(rnd() * 10)}"
            elif cat == AccountCategory.CREDIT_CARD:
                body = f"62258{scramble:010d}"
            else:
                body = f"{_ACCOUNT_PREFIX[cat]}{scramble:010d}{k}{branch_tail}"
            account_no = body + _luhn(body)
            maturity = None
            acct_open = open_ord if k == 0 else open_ord + int(rnd() * (latest_ord - open_ord))
            currency = "CNY"
            if cat in ASSET_CATEGORIES:
                cny = shares.get(k, 0)
            elif cat == AccountCategory.LOAN_MORTGAGE:
                cny = int(min(rng.lognormvariate(13.7, 0.6), 8_000_000) * 100)
            elif cat == AccountCategory.LOAN_CONSUMER:
                cny = int(min(rng.lognormvariate(11.0, 0.7), 500_000) * 100)
            else:  # credit card debt
                cny = 0 if rnd() < 0.25 else int(min(rng.lognormvariate(8.5, 1.0), 80_000) * 100)
            if cat == AccountCategory.DEP_TIME:
                term, code = _TIME_TERMS[int(rnd() * len(_TIME_TERMS))]
                due = 1 + int(rnd() * 30) if rnd() < 0.15 else 31 + int(rnd() * max(term - 31, 1))
                maturity_ord = latest_ord + due
                acct_open = max(maturity_ord - term, open_ord)
                maturity = datetime.date.fromordinal(max(maturity_ord, acct_open + 30))
                product = f"TD-{code}"
            else:
                products = _PRODUCTS[cat]
                product = products[int(rnd() * len(products))]
            if cat == AccountCategory.WEALTH and rnd() < 0.6:
                maturity = datetime.date.fromordinal(
                    latest_ord + 1 + int(rnd() * (30 if rnd() < 0.2 else 365))
                )
            elif cat == AccountCategory.LOAN_MORTGAGE:
                maturity = datetime.date.fromordinal(acct_open + 365 * (10 + int(rnd() * 21)))
            elif cat == AccountCategory.LOAN_CONSUMER:
                maturity = datetime.date.fromordinal(latest_ord + 30 + int(rnd() * 1500))
            if status == "C":
                balance = cny = 0
                balance_date = None
                if maturity is not None and cat != AccountCategory.LOAN_MORTGAGE:
                    maturity = datetime.date.fromordinal(latest_ord - 1 - int(rnd() * 300))
                    acct_open = min(acct_open, maturity.toordinal() - 30)
            else:
                balance = cny
                balance_date = latest
                if cat in (AccountCategory.DEP_CUR, AccountCategory.DEP_TIME) and rnd() < 0.03:
                    currency = "USD"
                    balance = round(cny / USD_CNY)
                    cny = round(balance * USD_CNY)
                if cat in ASSET_CATEGORIES:
                    aum += cny
                else:
                    liabilities += cny
            rows.append(
                (account_no, j, product, cat, currency, datetime.date.fromordinal(acct_open), maturity,
                 status, outlet.branch_id, _money(balance), _money(cny), balance_date)
            )  # fmt: skip
        return rows, aum, liabilities

    def other_asset(self, rng, outlet, richness):
        rnd = rng.random
        valued_on = datetime.date.fromordinal(self.latest_ord - int(rnd() * 700))
        if rnd() < 0.7:
            district = rng.choice(_CITY_DISTRICTS[outlet.city])
            area = 45 + int(rnd() * (90 + 200 * richness))
            price = 45_000 + int(rnd() * 80_000)
            community = rng.choice(_COMMUNITY_WORDS) + rng.choice(_COMMUNITIES)
            return (
                AssetKind.PROPERTY,
                f"{outlet.city}{district}{community} 住宅 {area}平方米",
                f"{area * price // 1000 * 1000}.00",
                valued_on,
            )
        brand, models = _CARS[int(rnd() * len(_CARS))]
        year = self.latest.year - int(rnd() * 8)
        value = int(rng.lognormvariate(12.5 + 0.5 * richness, 0.4)) // 1000 * 1000
        return AssetKind.VEHICLE, f"{brand} {rng.choice(models)} {year}款", f"{value}.00", valued_on


# ---------------------------------------------------------------------------------
# Derived rows, in SQL (the same statements on PostgreSQL and SQLite).
# ---------------------------------------------------------------------------------


def _days_in_month(month: datetime.date) -> int:
    nxt = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return (nxt - month).days


def _derive(*, first_no: str, last_no: str, latest: datetime.date, stats: SeedStats) -> None:
    """Balances, daily AUM for the month so far and monthly AUM for 13 months of the
    customers numbered first_no..last_no, from their accounts and customer rows."""
    qn = connection.ops.quote_name
    date = connection.ops.adapt_datefield_value
    customer, account = qn(Customer._meta.db_table), qn(Account._meta.db_table)
    balance_t = qn(AccountBalance._meta.db_table)
    daily_t, monthly_t = qn(CustomerDailyAum._meta.db_table), qn(CustomerMonthlyAum._meta.db_table)
    month = latest.replace(day=1)
    days = latest.day

    def run(table: str, sql: str, params: list) -> None:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = max(cursor.rowcount, 0)
        stats.add(table.strip('"'), rows, time.perf_counter() - started)

    run(
        balance_t,
        f"""INSERT INTO {balance_t} (business_date, account_id, balance, cny_balance)
            SELECT a.balance_date, a.id, a.balance, a.cny_balance FROM {account} a
             WHERE a.status <> 'C' AND a.balance_date IS NOT NULL
               AND a.customer_id IN (SELECT id FROM {customer} WHERE customer_no BETWEEN %s AND %s)""",
        [first_no, last_no],
    )
    # Every day of the month so far, so that the month average is what aum_refresh
    # computes: the latest day is the customer's AUM (a cents), the days before add up
    # to month_avg_aum * days - a (t cents), spread evenly plus noise that sums to zero
    # (w(k) - w(k+1) around a cycle), so the average is exact on both databases.
    if days > 1:
        n = days - 1
        w = "((c.id * 7919 + ({k}) * 104729) %% 21)"
        earlier = (
            f"(c.t / {n} + CASE WHEN d.column2 <= c.t %% {n} THEN 1 ELSE 0 END"
            f" + (c.a / 1000) * ({w.format(k='d.column2')} - {w.format(k=f'd.column2 %% {n} + 1')})) / 100.0"
        )
    else:
        earlier = "c.aum"
    day_params: list = []
    for back in range(days):
        day_params += [date(latest - datetime.timedelta(days=back)), back]
    run(
        daily_t,
        f"""INSERT INTO {daily_t} (business_date, customer_id, aum, liabilities)
            SELECT d.column1, c.id, CASE WHEN d.column2 = 0 THEN c.aum ELSE {earlier} END, c.liabilities
              FROM (SELECT id, aum, liabilities, CAST(ROUND(aum * 100) AS BIGINT) AS a,
                           CAST(ROUND(month_avg_aum * 100) AS BIGINT) * {days}
                           - CAST(ROUND(aum * 100) AS BIGINT) AS t
                      FROM {customer} WHERE customer_no BETWEEN %s AND %s) c
             CROSS JOIN (VALUES {", ".join(["(%s, %s)"] * days)}) d""",
        [first_no, last_no, *day_params],
    )
    # The current month is the customer's figures; the twelve before follow a yearly
    # trend of -15%..+30% that ends at today's AUM, with noise, and a month average a
    # little above or below the month end. Loans amortise: liabilities were higher.
    months: list = [date(month), 0, days]
    m = month
    for back in range(1, 13):
        m = (m - datetime.timedelta(days=1)).replace(day=1)
        months += [date(m), back, _days_in_month(m)]
    end = (
        "(1000 - ((c.id * 40503) %% 451 - 150) * m.column2 / 12"
        " + (c.id * 7919 + m.column2 * 104729) %% 121 - 60)"
    )
    run(
        monthly_t,
        f"""INSERT INTO {monthly_t} (customer_id, month, avg_aum, end_aum, avg_liabilities, days)
            SELECT c.id, m.column1,
                   CASE WHEN m.column2 = 0 THEN c.month_avg_aum
                        ELSE ROUND(c.aum * ({end} + (c.id * 104729 + m.column2 * 7919) %% 81 - 40)
                                   / 1000.0, 2)
                   END,
                   CASE WHEN m.column2 = 0 THEN c.aum ELSE ROUND(c.aum * {end} / 1000.0, 2) END,
                   ROUND(c.liabilities * (1000 + 4 * m.column2) / 1000.0, 2),
                   m.column3
              FROM {customer} c CROSS JOIN (VALUES {", ".join(["(%s, %s, %s)"] * 13)}) m
             WHERE c.customer_no BETWEEN %s AND %s""",
        [*months, first_no, last_no],
    )


# ---------------------------------------------------------------------------------
# The entry point.
# ---------------------------------------------------------------------------------


def _outlets() -> list[_Outlet]:
    """The demo outlets that have a client manager, with their managers (the demo
    manager of the outlet when there is one, else every active client manager there)."""
    from accounts.demo import DEMO_ORG, DEMO_USERS, EXTRA_MANAGER_OUTLETS
    from accounts.roles import Role

    demo_codes = [code for code, _n, level, _p in DEMO_ORG if level == BranchLevel.OUTLET]
    demo_managers = {u for u, _e, _n, role, _b in DEMO_USERS if role == Role.CLIENT_MANAGER}
    demo_managers |= {f"cm_{o}" for o in EXTRA_MANAGER_OUTLETS}
    branches = {b.code: b for b in Branch.objects.filter(code__in=demo_codes)}
    managers: dict[int, list[tuple[str, int]]] = {}
    for user_id, username, branch_id in (
        User.objects.filter(branch__in=branches.values(), groups__name=Role.CLIENT_MANAGER, is_active=True)
        .order_by("username")
        .values_list("pk", "username", "branch_id")
        .distinct()
    ):
        managers.setdefault(branch_id, []).append((username, user_id))
    result = []
    for code in demo_codes:
        branch = branches.get(code)
        if branch is None or branch.pk not in managers:
            continue
        found = managers[branch.pk]
        preferred = [pk for username, pk in found if username in demo_managers]
        city, district = _OUTLET_PLACES[code]
        result.append(_Outlet(branch.pk, code, city, district, preferred or [pk for _u, pk in found]))
    if not result:
        raise RuntimeError(
            "No demo outlet has an active client manager: run `manage.py seed_demo` "
            "(accounts.demo.seed_org and seed_users) before seeding customers."
        )
    return result


# (model, logical fields, chunk attribute, {field: what its local number refers to})
_TABLES: list[tuple[type[Model], tuple[str, ...], str, dict[str, str]]] = [
    (Household, HOUSEHOLD_FIELDS, "households", {}),
    (Customer, CUSTOMER_FIELDS, "customers", {"customer_no": "number", "household_id": "household"}),
    (ContactPoint, CONTACT_FIELDS, "contacts", {"customer_id": "customer"}),
    (Account, ACCOUNT_FIELDS, "accounts", {"customer_id": "customer"}),
    (CustomerAssignment, ASSIGNMENT_FIELDS, "assignments", {"customer_id": "customer"}),
    (Relationship, RELATIONSHIP_FIELDS, "relationships",
     {"customer_id": "customer", "related_customer_id": "customer"}),
    (OtherAsset, OTHER_ASSET_FIELDS, "assets", {"customer_id": "customer"}),
    (Interaction, INTERACTION_FIELDS, "interactions", {"customer_id": "customer"}),
    (TransactionSummary, TXN_FIELDS, "txns", {"customer_id": "customer"}),
]  # fmt: skip


_DERIVED_TABLES: list[tuple[type[Model]]] = [(AccountBalance,), (CustomerDailyAum,), (CustomerMonthlyAum,)]


class _Preparer:
    """Generates a chunk and turns it into stored columns (encryption, name search):
    pure Python, no database, so it runs in a worker thread while the previous chunk
    is being written."""

    def __init__(self, generator: _Generator):
        self.generator = generator
        self.layouts: dict[str, _Layout] = {}

    def __call__(self, start: int, n: int) -> tuple[dict[str, list], float]:
        started = time.perf_counter()
        out = self.generator.chunk(start, n)
        made: dict[str, list] = {}
        for model, fields, key, _refs in _TABLES:
            rows = getattr(out, key) if key in ("households", "customers") else out.children[key]
            if rows and key not in self.layouts:
                self.layouts[key] = _Layout(model, fields, rows[0])
            made[key] = [self.layouts[key].make(r) for r in rows] if rows else []
        return made, time.perf_counter() - started


def _write_chunk(writer: _Writer, preparer: _Preparer, made: dict[str, list], numbers: list[str]) -> None:
    """Write one prepared chunk, turning chunk positions into ids as they become known."""
    refs: dict[str, list] = {"number": numbers}
    for model, _fields, key, fks in _TABLES:
        rows = made[key]
        if not rows:
            refs.setdefault(key, [])
            continue
        layout = preparer.layouts[key]
        subs = [(layout.attnames.index(f), refs[what]) for f, what in fks.items()]
        if subs:
            resolved = []
            for row in rows:
                row = list(row)
                for pos, table in subs:
                    if row[pos] is not None:
                        row[pos] = table[row[pos]]
                resolved.append(row)
            rows = resolved
        pks = writer.insert(model, layout, rows, ids=key in ("households", "customers"))
        if key == "households":
            refs["household"] = pks
        elif key == "customers":
            refs["customer"] = pks


def seed_customers(
    *,
    count: int,
    stdout=None,
    seed: int = DEFAULT_SEED,
    chunk_size: int | None = None,
    method: str = "auto",
    business_date: datetime.date | None = None,
    stats: SeedStats | None = None,
) -> int:
    """Top the customer table up to `count` customers; return how many were created.

    `method` is "copy" (PostgreSQL only), "orm" (bulk_create) or "auto" (copy on
    PostgreSQL, orm elsewhere). The latest business date is yesterday unless given.
    Each chunk is one transaction; the next chunk is generated while one is written.
    """
    if count < 0:
        raise ValueError("count must be 0 or more")
    if method == "auto":
        method = "copy" if connection.vendor == "postgresql" else "orm"
    if method == "copy" and connection.vendor != "postgresql":
        raise ValueError("COPY needs PostgreSQL")
    stats = stats if stats is not None else SeedStats()
    write: Callable[[str], None] = (
        (lambda text: stdout.write(text + "\n")) if stdout is not None else (lambda _t: None)
    )

    with _exclusive():
        return _seed(count=count, write=write, seed=seed, chunk_size=chunk_size, method=method,
                     business_date=business_date, stats=stats)  # fmt: skip


# Two runs at once would give the same indexes, hence the same identities, twice.
_LOCK_KEY = 0x5EED_C057


@contextmanager
def _exclusive():
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_LOCK_KEY])
        if not cursor.fetchone()[0]:
            raise RuntimeError("Another seed_customers run is working on this database; let it finish first.")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])
        except DatabaseError:  # an aborted outer transaction: the lock goes with the session
            pass


def _seed(*, count, write, seed, chunk_size, method, business_date, stats) -> int:
    from accounts.audit import Action, audit

    started = time.perf_counter()
    existing = Customer.objects.count()
    todo = count - existing
    if todo <= 0:
        write(f"Demo customers: {existing:,} already there, none to create.")
        return 0
    chunk_size = chunk_size or (50_000 if method == "copy" else 5_000)
    latest = business_date or timezone.localdate() - datetime.timedelta(days=1)
    preparer = _Preparer(_Generator(seed=seed, outlets=_outlets(), latest=latest, now=timezone.now()))
    writer: _Writer = _CopyWriter(stats) if method == "copy" else _OrmWriter(stats)
    write(
        f"Demo customers: {existing:,} there, creating {todo:,} ({method}, chunks of {chunk_size:,}, "
        f"business date {latest})."
    )
    # the index of each chunk's first customer (= customers before it), and its size
    plan = [(existing + done, min(chunk_size, todo - done)) for done in range(0, todo, chunk_size)]
    done = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="seed-customers") as pool:
        pending = pool.submit(preparer, *plan[0])
        for k, (_start, n) in enumerate(plan):
            made, seconds = pending.result()
            stats.generate_seconds += seconds
            if k + 1 < len(plan):
                pending = pool.submit(preparer, *plan[k + 1])
            numbers = reserve_customer_numbers(n)
            with transaction.atomic():
                _write_chunk(writer, preparer, made, numbers)
                _derive(first_no=numbers[0], last_no=numbers[-1], latest=latest, stats=stats)
                committing = time.perf_counter()
            stats.add("commit (deferred foreign-key checks)", 0, time.perf_counter() - committing)
            done += n
            elapsed = time.perf_counter() - started
            write(
                f"  {existing + done:>10,} customers  {stats.rows:>12,} rows  {elapsed:7.1f} s  "
                f"{stats.rows / elapsed:>9,.0f} rows/s  {done / elapsed:>8,.0f} customers/s"
            )
    # Fresh statistics for the planner: without them a just-loaded table is planned
    # as if it were small (autovacuum gets there only later).
    analyzing = time.perf_counter()
    with connection.cursor() as cursor:
        for model, *_rest in _TABLES + _DERIVED_TABLES:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    stats.add("analyze", 0, time.perf_counter() - analyzing)
    audit(Action.CUSTOMER_CREATED, actor_username="seed_demo", details={"count": todo, "method": method})
    stats.created += todo
    stats.wall_seconds += time.perf_counter() - started
    return todo
