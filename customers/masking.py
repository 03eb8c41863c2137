"""Display masks of personal financial information (the bank's privacy specification).

| field                          | mask                                  | example              |
|--------------------------------|---------------------------------------|----------------------|
| resident ID / other ID number  | first 3 + last 4                      | 110***********1234   |
| account / card number          | first 6 + last 4                      | 622575******1496     |
| mobile                         | first 3 + last 4                      | 138****5678          |
| fixed phone                    | last 4                                | ****5678             |
| e-mail                         | first character of local part + domain| z***@example.com     |
| address                        | province, city and district only      | 北京市海淀区****     |
| name                           | surname + ``*``                       | 张*, 欧阳*           |

The visible character counts of the number masks are configurable through the Django
setting ``PII_MASK_RULES`` (a dict merged over :data:`DEFAULT_RULES`, read at call time), so
the bank can tighten them. A rule can never reveal more than the default: each count is
clamped to the default.

Masked numbers keep the length of the original. Values too short to be masked sensibly
are starred completely, never returned in clear. ``None`` and ``""`` give ``""``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from customers.idnumbers import PROVINCES, normalise_mobile

__all__ = [
    "DEFAULT_RULES",
    "get_rule",
    "mask_account_no",
    "mask_address",
    "mask_contact",
    "mask_email",
    "mask_id_number",
    "mask_mobile",
    "mask_name",
    "mask_phone",
    "mask_value",
]

MASK_CHAR = "*"
#: Replacement of everything an address mask hides (fixed, so it does not reveal length).
ADDRESS_MASK = "****"
#: Replacement of an e-mail local part after its first character (fixed length).
EMAIL_MASK = "***"

#: Visible characters (leading, trailing) per kind of number.
DEFAULT_RULES: dict[str, tuple[int, int]] = {
    "id_number": (3, 4),
    "account_no": (6, 4),
    "mobile": (3, 4),
    "phone": (0, 4),
}

COMPOUND_SURNAMES: frozenset[str] = frozenset(
    {
        "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
        "宇文", "司徒", "夏侯", "令狐", "端木", "独孤", "南宫", "西门", "轩辕", "澹台",
        "公冶", "宗政", "濮阳", "淳于", "单于", "太叔", "申屠", "仲孙", "鲜于", "闾丘",
        "司空", "亓官", "司寇", "子车", "呼延", "万俟", "闻人", "赫连", "钟离", "拓跋",
        "百里", "东郭", "南门", "羊舌", "微生", "梁丘", "左丘", "东门", "第五", "公羊",
        "谷梁", "歐陽", "司馬", "諸葛", "長孫", "尉遲", "公孫", "鍾離",
    }
)  # fmt: skip

_WHITESPACE_RE = re.compile(r"\s+")
_NUMBER_SEPARATORS_RE = re.compile(r"[\s\-]+")
_PHONE_SEPARATORS_RE = re.compile(r"[\s\-()（）]+")

# Province-level names recognised at the start of an address: the official names (also
# without the suffix 市 for the municipalities) and the SARs' short names.
_MUNICIPALITIES = ("北京", "天津", "上海", "重庆")
_SARS = ("香港特别行政区", "澳门特别行政区", "香港", "澳门")
_PROVINCE_NAMES: tuple[str, ...] = tuple(
    sorted(
        {*PROVINCES.values(), *_MUNICIPALITIES, *_SARS},
        key=len,
        reverse=True,
    )
)
# Provinces followed directly by districts (no prefecture level).
_DIRECT_DISTRICT_PROVINCES: frozenset[str] = frozenset(
    {*_MUNICIPALITIES, *(f"{name}市" for name in _MUNICIPALITIES), *_SARS}
)
_CJK = "\u4e00-\u9fff"
_PREFECTURE_RE = re.compile(rf"[{_CJK}]{{1,10}}?(?:自治州|地区|市|盟)")
_DISTRICT_RE = re.compile(rf"[{_CJK}]{{1,15}}?(?:区|县|市|旗)")
# Names ending in 区 that are places below the district level and must stay hidden.
_NOT_DISTRICT_SUFFIXES = ("小区", "社区", "校区", "园区", "景区", "厂区", "营区")


def get_rule(kind: str) -> tuple[int, int]:
    """Return the (leading, trailing) visible counts of a kind, clamped to the default."""
    try:
        default_head, default_tail = DEFAULT_RULES[kind]
    except KeyError:
        raise ValueError(f"Unknown mask rule {kind!r}.") from None
    overrides = getattr(settings, "PII_MASK_RULES", None) or {}
    if kind not in overrides:
        return default_head, default_tail
    try:
        head, tail = (int(count) for count in overrides[kind])
    except (TypeError, ValueError):
        raise ImproperlyConfigured(
            f"PII_MASK_RULES[{kind!r}] must be a pair of integers (leading, trailing)."
        ) from None
    return max(0, min(head, default_head)), max(0, min(tail, default_tail))


def _mask_middle(value: str, head: int, tail: int) -> str:
    """Keep ``head`` leading and ``tail`` trailing characters, star the rest (same length)."""
    if len(value) <= head + tail:
        return MASK_CHAR * len(value)
    return value[:head] + MASK_CHAR * (len(value) - head - tail) + value[len(value) - tail :]


def _mask_by_rule(kind: str, value: str) -> str:
    head, tail = get_rule(kind)
    return _mask_middle(value, head, tail)


def mask_id_number(value: str | None) -> str:
    """Mask an ID number (resident ID or other): first 3 and last 4 characters visible."""
    if not value:
        return ""
    return _mask_by_rule("id_number", _WHITESPACE_RE.sub("", str(value)))


def mask_account_no(value: str | None) -> str:
    """Mask an account or card number: first 6 and last 4 characters visible."""
    if not value:
        return ""
    return _mask_by_rule("account_no", _NUMBER_SEPARATORS_RE.sub("", str(value)))


def mask_mobile(value: str | None) -> str:
    """Mask a mobile number (after removing separators and +86): first 3 and last 4."""
    if not value:
        return ""
    return _mask_by_rule("mobile", normalise_mobile(str(value)))


def mask_phone(value: str | None) -> str:
    """Mask a fixed-line phone number: last 4 characters visible."""
    if not value:
        return ""
    return _mask_by_rule("phone", _PHONE_SEPARATORS_RE.sub("", str(value)))


def mask_email(value: str | None) -> str:
    """Mask an e-mail address: first character of the local part, ``***`` and the domain."""
    if not value:
        return ""
    local, at, domain = str(value).strip().rpartition("@")
    if not at or not local or not domain:
        return EMAIL_MASK
    if len(local) <= 1:
        return f"{EMAIL_MASK}@{domain}"
    return f"{local[0]}{EMAIL_MASK}@{domain}"


def _match_province(address: str) -> str | None:
    for name in _PROVINCE_NAMES:
        if address.startswith(name):
            return name
    return None


def _match_district(rest: str) -> str | None:
    match = _DISTRICT_RE.match(rest)
    if match is None or match.group().endswith(_NOT_DISTRICT_SUFFIXES):
        return None
    return match.group()


def mask_address(value: str | None) -> str:
    """Keep the province, prefecture and district of an address and hide the rest.

    ``广东省深圳市南山区科技园`` becomes ``广东省深圳市南山区****``; for municipalities and
    SARs the district follows directly (``北京市海淀区****``). An address whose province
    cannot be recognised (including non-Chinese addresses) becomes ``****``.
    """
    if not value:
        return ""
    address = _WHITESPACE_RE.sub("", str(value))
    province = _match_province(address)
    if province is None:
        return ADDRESS_MASK
    kept = [province]
    rest = address[len(province) :]
    if province not in _DIRECT_DISTRICT_PROVINCES:
        prefecture = _PREFECTURE_RE.match(rest)
        if prefecture is not None:
            kept.append(prefecture.group())
            rest = rest[prefecture.end() :]
    district = _match_district(rest)
    if district is not None:
        kept.append(district)
    return "".join(kept) + ADDRESS_MASK


def mask_name(value: str | None) -> str:
    """Mask a personal name: surname (compound surnames included) followed by ``*``.

    A Latin name keeps its first letter. A single character is starred completely.
    """
    if not value:
        return ""
    name = str(value).strip()
    if len(name) <= 1:
        return MASK_CHAR * len(name)
    if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
        return name[:2] + MASK_CHAR
    return name[0] + MASK_CHAR


_CONTACT_MASKS: dict[str, Callable[[str | None], str]] = {
    "MOBILE": mask_mobile,
    "HOME": mask_phone,
    "WORK": mask_phone,
    "EMAIL": mask_email,
    "ADDRESS": mask_address,
}

_VALUE_MASKS: dict[str, Callable[[str | None], str]] = {
    "id_number": mask_id_number,
    "account_no": mask_account_no,
    "mobile": mask_mobile,
    "phone": mask_phone,
    "email": mask_email,
    "address": mask_address,
    "name": mask_name,
}


def mask_contact(contact_type: str, value: str | None) -> str:
    """Mask a customer contact by its type: MOBILE, HOME, WORK (phones), EMAIL, ADDRESS.

    An unknown contact type is masked completely (fail closed).
    """
    if not value:
        return ""
    mask = _CONTACT_MASKS.get(str(contact_type).upper())
    if mask is None:
        return ADDRESS_MASK
    return mask(value)


def mask_value(kind: str, value: str | None) -> str:
    """Mask a value by kind: id_number, account_no, mobile, phone, email, address, name."""
    try:
        mask = _VALUE_MASKS[kind]
    except KeyError:
        raise ValueError(f"Unknown mask kind {kind!r}.") from None
    return mask(value)
