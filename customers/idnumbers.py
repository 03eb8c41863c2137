"""Identity numbers and mobile numbers of personal customers.

Covers the ID types accepted for personal customers of a mainland Chinese bank, the
18-character resident identity number of GB 11643-1999 (region code, birth date,
sequence and an ISO 7064 MOD 11-2 check character) and mainland mobile numbers.

All validators raise :class:`django.core.exceptions.ValidationError` with a specific
``code`` so that forms, serializers and import jobs can react to the exact failure.
"""

from __future__ import annotations

import datetime
import operator
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = [
    "PROVINCES",
    "PROVINCE_NAMES_EN",
    "REGION_CODES",
    "IdType",
    "ResidentId",
    "derive_birth_date_and_gender",
    "make_resident_id",
    "normalise_mobile",
    "parse_resident_id",
    "resident_id_check_char",
    "validate_id_number",
    "validate_mobile",
]


class IdType(models.TextChoices):
    """Identity document types of personal customers (codes of the core banking system)."""

    RESIDENT_ID = "01", _("Resident identity card")
    PASSPORT = "02", _("Passport")
    HK_MACAO_PERMIT = (
        "03",
        _("Mainland travel permit for Hong Kong and Macao residents"),
    )
    TAIWAN_PERMIT = "04", _("Mainland travel permit for Taiwan residents")
    FOREIGN_PERMANENT_RESIDENT = "05", _("Foreign permanent resident ID card")
    OTHER = "99", _("Other")


#: Province-level divisions by the first two digits of a region code.
PROVINCES: dict[str, str] = {
    "11": "北京市",
    "12": "天津市",
    "13": "河北省",
    "14": "山西省",
    "15": "内蒙古自治区",
    "21": "辽宁省",
    "22": "吉林省",
    "23": "黑龙江省",
    "31": "上海市",
    "32": "江苏省",
    "33": "浙江省",
    "34": "安徽省",
    "35": "福建省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "44": "广东省",
    "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "54": "西藏自治区",
    "61": "陕西省",
    "62": "甘肃省",
    "63": "青海省",
    "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
    "71": "台湾省",
    "81": "香港特别行政区",
    "82": "澳门特别行政区",
}

#: English names of the province-level divisions, same keys as :data:`PROVINCES`.
PROVINCE_NAMES_EN: dict[str, str] = {
    "11": "Beijing",
    "12": "Tianjin",
    "13": "Hebei",
    "14": "Shanxi",
    "15": "Inner Mongolia",
    "21": "Liaoning",
    "22": "Jilin",
    "23": "Heilongjiang",
    "31": "Shanghai",
    "32": "Jiangsu",
    "33": "Zhejiang",
    "34": "Anhui",
    "35": "Fujian",
    "36": "Jiangxi",
    "37": "Shandong",
    "41": "Henan",
    "42": "Hubei",
    "43": "Hunan",
    "44": "Guangdong",
    "45": "Guangxi",
    "46": "Hainan",
    "50": "Chongqing",
    "51": "Sichuan",
    "52": "Guizhou",
    "53": "Yunnan",
    "54": "Tibet",
    "61": "Shaanxi",
    "62": "Gansu",
    "63": "Qinghai",
    "64": "Ningxia",
    "65": "Xinjiang",
    "71": "Taiwan",
    "81": "Hong Kong",
    "82": "Macao",
}

# Residence permits for Hong Kong, Macao and Taiwan residents carry the fixed region codes
# 810000, 820000 and 830000; "83" is not a province of its own but stands for Taiwan.
_RESIDENCE_PERMIT_REGIONS: dict[str, str] = {
    "810000": "81",
    "820000": "82",
    "830000": "71",
}

_VALID_PROVINCE_PREFIXES: frozenset[str] = frozenset(PROVINCES) | {"83"}

#: Real county-level region codes, used by demo data generators and tests.
REGION_CODES: tuple[str, ...] = (
    "110101",  # Beijing, Dongcheng
    "110102",  # Beijing, Xicheng
    "110105",  # Beijing, Chaoyang
    "110106",  # Beijing, Fengtai
    "110108",  # Beijing, Haidian
    "120101",  # Tianjin, Heping
    "120103",  # Tianjin, Hexi
    "120104",  # Tianjin, Nankai
    "130102",  # Hebei, Shijiazhuang Chang'an
    "130104",  # Hebei, Shijiazhuang Qiaoxi
    "140105",  # Shanxi, Taiyuan Xiaodian
    "140106",  # Shanxi, Taiyuan Yingze
    "150102",  # Inner Mongolia, Hohhot Xincheng
    "150103",  # Inner Mongolia, Hohhot Huimin
    "210102",  # Liaoning, Shenyang Heping
    "210103",  # Liaoning, Shenyang Shenhe
    "210202",  # Liaoning, Dalian Zhongshan
    "220102",  # Jilin, Changchun Nanguan
    "220104",  # Jilin, Changchun Chaoyang
    "230102",  # Heilongjiang, Harbin Daoli
    "230103",  # Heilongjiang, Harbin Nangang
    "310101",  # Shanghai, Huangpu
    "310104",  # Shanghai, Xuhui
    "310105",  # Shanghai, Changning
    "310106",  # Shanghai, Jing'an
    "310115",  # Shanghai, Pudong
    "320102",  # Jiangsu, Nanjing Xuanwu
    "320104",  # Jiangsu, Nanjing Qinhuai
    "320505",  # Jiangsu, Suzhou Huqiu
    "320506",  # Jiangsu, Suzhou Wuzhong
    "330102",  # Zhejiang, Hangzhou Shangcheng
    "330106",  # Zhejiang, Hangzhou Xihu
    "330203",  # Zhejiang, Ningbo Haishu
    "340102",  # Anhui, Hefei Yaohai
    "340104",  # Anhui, Hefei Shushan
    "350102",  # Fujian, Fuzhou Gulou
    "350203",  # Fujian, Xiamen Siming
    "350206",  # Fujian, Xiamen Huli
    "360102",  # Jiangxi, Nanchang Donghu
    "370102",  # Shandong, Jinan Lixia
    "370202",  # Shandong, Qingdao Shinan
    "370203",  # Shandong, Qingdao Shibei
    "410102",  # Henan, Zhengzhou Zhongyuan
    "410105",  # Henan, Zhengzhou Jinshui
    "420102",  # Hubei, Wuhan Jiang'an
    "420106",  # Hubei, Wuhan Wuchang
    "420111",  # Hubei, Wuhan Hongshan
    "430102",  # Hunan, Changsha Furong
    "430104",  # Hunan, Changsha Yuelu
    "440103",  # Guangdong, Guangzhou Liwan
    "440104",  # Guangdong, Guangzhou Yuexiu
    "440106",  # Guangdong, Guangzhou Tianhe
    "440303",  # Guangdong, Shenzhen Luohu
    "440304",  # Guangdong, Shenzhen Futian
    "440305",  # Guangdong, Shenzhen Nanshan
    "450102",  # Guangxi, Nanning Xingning
    "450103",  # Guangxi, Nanning Qingxiu
    "460105",  # Hainan, Haikou Xiuying
    "460106",  # Hainan, Haikou Longhua
    "500103",  # Chongqing, Yuzhong
    "500105",  # Chongqing, Jiangbei
    "510104",  # Sichuan, Chengdu Jinjiang
    "510105",  # Sichuan, Chengdu Qingyang
    "510107",  # Sichuan, Chengdu Wuhou
    "520102",  # Guizhou, Guiyang Nanming
    "520103",  # Guizhou, Guiyang Yunyan
    "530102",  # Yunnan, Kunming Wuhua
    "530103",  # Yunnan, Kunming Panlong
    "540102",  # Tibet, Lhasa Chengguan
    "610102",  # Shaanxi, Xi'an Xincheng
    "610113",  # Shaanxi, Xi'an Yanta
    "620102",  # Gansu, Lanzhou Chengguan
    "630102",  # Qinghai, Xining Chengdong
    "640104",  # Ningxia, Yinchuan Xingqing
    "650102",  # Xinjiang, Urumqi Tianshan
    "650103",  # Xinjiang, Urumqi Saybag
)

RESIDENT_ID_LENGTH = 18
MIN_BIRTH_DATE = datetime.date(1900, 1, 1)

_CHECK_WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"

_RESIDENT_ID_RE = re.compile(r"[0-9]{17}[0-9X]")
_PASSPORT_RE = re.compile(r"[A-Z0-9]{5,17}")
_HK_MACAO_PERMIT_RE = re.compile(r"[HM](?:[0-9]{8}|[0-9]{10})")
_TAIWAN_PERMIT_RE = re.compile(r"[0-9]{8}|[0-9]{10}")
_FOREIGN_PR_OLD_RE = re.compile(r"[A-Z]{3}[0-9]{12}")
_FOREIGN_PR_NEW_RE = re.compile(r"9[0-9]{16}[0-9X]")
_OTHER_ID_MAX_LENGTH = 30

_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
_MOBILE_SEPARATORS_RE = re.compile(r"[\s\-]+")


@dataclass(frozen=True)
class ResidentId:
    """A parsed and validated 18-character resident identity number."""

    number: str
    region_code: str
    birth_date: datetime.date
    gender: str  # "M" or "F"

    @property
    def province_code(self) -> str:
        """Two-digit code of the province-level division (83 counts as Taiwan, 71)."""
        return _RESIDENCE_PERMIT_REGIONS.get(self.region_code, self.region_code[:2])

    @property
    def province(self) -> str:
        """English name of the province-level division of the region code."""
        return PROVINCE_NAMES_EN.get(self.province_code, "")

    @property
    def province_zh(self) -> str:
        """Chinese name of the province-level division of the region code."""
        return PROVINCES.get(self.province_code, "")

    @property
    def sequence(self) -> int:
        """The three-digit sequence number (odd for men, even for women)."""
        return int(self.number[14:17])


def _normalise_text(value: str | None) -> str:
    """NFKC-normalise (full-width digits and letters to ASCII) and strip whitespace."""
    if value is None:
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip()


def resident_id_check_char(first17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character for the first 17 digits of an ID."""
    if len(first17) != RESIDENT_ID_LENGTH - 1 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"Expected exactly 17 ASCII digits, got {first17!r}.")
    total = sum(map(operator.mul, map(int, first17), _CHECK_WEIGHTS))
    return _CHECK_CHARS[total % 11]


def _is_valid_region_code(region_code: str) -> bool:
    if region_code[:2] not in _VALID_PROVINCE_PREFIXES:
        return False
    if region_code[:2] in {"81", "82", "83"}:
        # Residence permits of Hong Kong, Macao and Taiwan residents use fixed codes.
        return region_code in _RESIDENCE_PERMIT_REGIONS
    # A province-level code such as 110000 never identifies a person's place of registration.
    return region_code[2:] != "0000"


def parse_resident_id(value: str, *, today: datetime.date | None = None) -> ResidentId:
    """Validate an 18-character resident ID number (GB 11643-1999) and parse its fields.

    Surrounding whitespace is stripped, full-width characters are converted and a
    lowercase ``x`` check character is normalised to ``X``. The birth date must be a real
    date between 1900-01-01 and ``today`` (default: ``date.today()``).
    """
    number = _normalise_text(value).upper()
    if len(number) != RESIDENT_ID_LENGTH:
        raise ValidationError(
            _("A resident ID number must have 18 characters, not %(length)d."),
            code="id_length",
            params={"length": len(number)},
        )
    if not _RESIDENT_ID_RE.fullmatch(number):
        raise ValidationError(
            _("A resident ID number may only contain digits, except for an X as the last character."),
            code="id_chars",
        )

    region_code = number[:6]
    if not _is_valid_region_code(region_code):
        raise ValidationError(
            _("The region code %(region)s is not a valid place of registration."),
            code="id_region",
            params={"region": region_code},
        )

    birth_digits = number[6:14]
    try:
        birth_date = datetime.date(int(birth_digits[:4]), int(birth_digits[4:6]), int(birth_digits[6:]))
    except ValueError:
        raise ValidationError(
            _("The birth date %(date)s in the ID number is not a real date."),
            code="id_birth_date",
            params={"date": birth_digits},
        ) from None
    if birth_date < MIN_BIRTH_DATE:
        raise ValidationError(
            _("The birth date %(date)s in the ID number is before 1900."),
            code="id_birth_date",
            params={"date": birth_date.isoformat()},
        )
    if today is None:
        today = datetime.date.today()
    if birth_date > today:
        raise ValidationError(
            _("The birth date %(date)s in the ID number is in the future."),
            code="id_birth_date",
            params={"date": birth_date.isoformat()},
        )

    expected = resident_id_check_char(number[:17])
    if number[17] != expected:
        raise ValidationError(
            _("The check digit should be %(expected)s, not %(actual)s."),
            code="id_check_digit",
            params={"expected": expected, "actual": number[17]},
        )

    gender = "M" if int(number[16]) % 2 else "F"
    return ResidentId(number=number, region_code=region_code, birth_date=birth_date, gender=gender)


def make_resident_id(
    *,
    region_code: str,
    birth_date: datetime.date,
    sequence: int,
    gender: str | None = None,
) -> str:
    """Build a resident ID number with a correct check character.

    ``sequence`` is the three-digit sequence number (0..999). When ``gender`` ("M" or
    "F") is given, the parity of the last sequence digit is adjusted to match it (odd for
    men, even for women). Intended for demo data and tests; the birth date is not checked
    against today.
    """
    if len(region_code) != 6 or not region_code.isascii() or not region_code.isdigit():
        raise ValueError(f"region_code must be 6 digits, got {region_code!r}.")
    if not 0 <= sequence <= 999:
        raise ValueError(f"sequence must be between 0 and 999, got {sequence!r}.")
    if gender not in (None, "M", "F"):
        raise ValueError(f"gender must be 'M', 'F' or None, got {gender!r}.")
    if gender is not None and (sequence % 2 == 1) != (gender == "M"):
        sequence ^= 1  # flip the parity; stays within 0..999
    first17 = f"{region_code}{birth_date.year:04d}{birth_date.month:02d}{birth_date.day:02d}{sequence:03d}"
    return first17 + resident_id_check_char(first17)


def _validate_foreign_permanent_resident(number: str) -> str:
    if _FOREIGN_PR_OLD_RE.fullmatch(number):
        return number
    if _FOREIGN_PR_NEW_RE.fullmatch(number):
        expected = resident_id_check_char(number[:17])
        if number[17] != expected:
            raise ValidationError(
                _("The check digit should be %(expected)s, not %(actual)s."),
                code="id_check_digit",
                params={"expected": expected, "actual": number[17]},
            )
        return number
    raise ValidationError(
        _(
            "A foreign permanent resident ID number has either 3 letters followed by "
            "12 digits, or 18 characters starting with 9."
        ),
        code="id_format",
    )


def validate_id_number(id_type: str, value: str, *, today: datetime.date | None = None) -> str:
    """Validate an ID number of the given :class:`IdType` and return it normalised.

    Raises :class:`ValidationError` with code ``id_type`` for an unknown type,
    ``id_format`` for a number of the wrong shape, ``id_check_digit`` for a wrong check
    character and the codes of :func:`parse_resident_id` for resident ID numbers.
    """
    if id_type not in IdType.values:
        raise ValidationError(
            _("Unknown ID type %(id_type)s."),
            code="id_type",
            params={"id_type": id_type},
        )

    if id_type == IdType.RESIDENT_ID:
        return parse_resident_id(value, today=today).number

    if id_type == IdType.OTHER:
        number = (value or "").strip()
        if not 1 <= len(number) <= _OTHER_ID_MAX_LENGTH or any(
            not char.isprintable() or char.isspace() for char in number
        ):
            raise ValidationError(
                _("An ID number must have 1 to 30 characters without spaces."),
                code="id_format",
            )
        return number

    number = _normalise_text(value).upper()
    if id_type == IdType.PASSPORT:
        if not _PASSPORT_RE.fullmatch(number):
            raise ValidationError(
                _("A passport number must have 5 to 17 letters and digits."),
                code="id_format",
            )
    elif id_type == IdType.HK_MACAO_PERMIT:
        if not _HK_MACAO_PERMIT_RE.fullmatch(number):
            raise ValidationError(
                _(
                    "A Hong Kong or Macao travel permit number starts with H or M, "
                    "followed by 8 or 10 digits."
                ),
                code="id_format",
            )
    elif id_type == IdType.TAIWAN_PERMIT:
        if not _TAIWAN_PERMIT_RE.fullmatch(number):
            raise ValidationError(_("A Taiwan travel permit number has 8 or 10 digits."), code="id_format")
    elif id_type == IdType.FOREIGN_PERMANENT_RESIDENT:
        return _validate_foreign_permanent_resident(number)
    return number


def derive_birth_date_and_gender(id_type: str, id_number: str) -> tuple[datetime.date | None, str | None]:
    """Return (birth date, gender) encoded in the ID number, if the ID type has them.

    Only resident ID numbers (type 01) carry this information. For other types, and for
    resident ID numbers that do not validate, ``(None, None)`` is returned; validate the
    number with :func:`validate_id_number` first to report errors to the user.
    """
    if id_type != IdType.RESIDENT_ID:
        return None, None
    try:
        parsed = parse_resident_id(id_number)
    except ValidationError:
        return None, None
    return parsed.birth_date, parsed.gender


def normalise_mobile(value: str) -> str:
    """Remove spaces, hyphens and a leading +86 / 86 country code from a mobile number.

    The country code is only removed when 11 digits remain. The result is not validated;
    use :func:`validate_mobile` for that.
    """
    number = _MOBILE_SEPARATORS_RE.sub("", _normalise_text(value))
    for prefix in ("+86", "86"):
        rest = number.removeprefix(prefix)
        if rest != number and len(rest) == 11 and rest.isascii() and rest.isdigit():
            return rest
    return number


def validate_mobile(value: str) -> str:
    """Validate a mainland China mobile number and return it as 11 digits."""
    number = normalise_mobile(value)
    if number and not (number.isascii() and number.isdigit()):
        raise ValidationError(
            _("A mobile number may only contain digits, spaces, hyphens and a +86 prefix."),
            code="mobile",
        )
    if len(number) != 11:
        raise ValidationError(
            _("A mobile number must have 11 digits, not %(length)d."),
            code="mobile",
            params={"length": len(number)},
        )
    if not _MOBILE_RE.fullmatch(number):
        raise ValidationError(
            _("A mobile number must start with 13 to 19."),
            code="mobile",
        )
    return number
