import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from customers.masking import (
    DEFAULT_RULES,
    get_rule,
    mask_account_no,
    mask_address,
    mask_contact,
    mask_email,
    mask_id_number,
    mask_mobile,
    mask_name,
    mask_phone,
    mask_value,
)

MASK_FUNCTIONS = [
    mask_id_number,
    mask_account_no,
    mask_mobile,
    mask_phone,
    mask_email,
    mask_address,
    mask_name,
]
KINDS = ["id_number", "account_no", "mobile", "phone", "email", "address", "name"]


# --- spec examples ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mask", "value", "expected"),
    [
        (mask_id_number, "110105199001011234", "110***********1234"),
        (mask_id_number, "11010519491231002X", "110***********002X"),
        (mask_id_number, "E12345678", "E12**5678"),  # passport
        (mask_id_number, "USA110012345678", "USA********5678"),
        (mask_id_number, " 110105199001011234 ", "110***********1234"),
        (mask_account_no, "6225758012341496", "622575******1496"),
        (mask_account_no, "6225 7580 1234 1496", "622575******1496"),
        (mask_account_no, "6217-0000-1234-5678-901", "621700*********8901"),
        (mask_mobile, "13812345678", "138****5678"),
        (mask_mobile, "+86 138-1234-5678", "138****5678"),
        (mask_mobile, "8613812345678", "138****5678"),
        (mask_phone, "12345678", "****5678"),
        (mask_phone, "010-12345678", "*******5678"),
        (mask_phone, "(0755) 8888 1234", "********1234"),
        (mask_email, "zhangsan@example.com", "z***@example.com"),
        (
            mask_email,
            "zs@example.com",
            "z***@example.com",
        ),  # always exactly three stars
        (mask_email, "Very.Long.Local.Part@bank.com.cn", "V***@bank.com.cn"),
        (mask_name, "张三", "张*"),
        (mask_name, "张三丰", "张*"),
        (mask_name, "欧阳娜娜", "欧阳*"),
        (mask_name, "司马光", "司马*"),
        (mask_name, "诸葛亮", "诸葛*"),
        (mask_name, "上官婉儿", "上官*"),
        (mask_name, "慕容复", "慕容*"),
        (mask_name, "欧阳", "欧*"),  # two characters: surname 欧 and given name 阳
        (mask_name, " 李四 ", "李*"),
        (mask_name, "John Smith", "J*"),
        (mask_name, "Li", "L*"),
    ],
)
def test_mask_examples(mask, value, expected):
    assert mask(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("广东省深圳市南山区科技园", "广东省深圳市南山区****"),
        ("北京市海淀区中关村大街27号", "北京市海淀区****"),
        (
            "新疆维吾尔自治区乌鲁木齐市天山区解放北路1号",
            "新疆维吾尔自治区乌鲁木齐市天山区****",
        ),
        ("新疆维吾尔自治区乌鲁木齐市天山区xx", "新疆维吾尔自治区乌鲁木齐市天山区****"),
        ("上海市浦东新区世纪大道100号", "上海市浦东新区****"),
        ("重庆市石柱土家族自治县南宾街道", "重庆市石柱土家族自治县****"),
        ("天津市和平区南京路", "天津市和平区****"),
        ("重庆市渝中区朝天门市场", "重庆市渝中区****"),  # municipality: no prefecture level
        ("北京海淀区中关村", "北京海淀区****"),
        ("浙江省杭州市西湖区文三路90号", "浙江省杭州市西湖区****"),
        ("江苏省苏州市昆山市玉山镇", "江苏省苏州市昆山市****"),  # county-level city
        ("山东省济南市市中区经四路", "山东省济南市市中区****"),
        ("吉林省延边朝鲜族自治州延吉市人民路", "吉林省延边朝鲜族自治州延吉市****"),
        ("内蒙古自治区锡林郭勒盟锡林浩特市", "内蒙古自治区锡林郭勒盟锡林浩特市****"),
        (
            "内蒙古自治区呼伦贝尔市鄂温克族自治旗",
            "内蒙古自治区呼伦贝尔市鄂温克族自治旗****",
        ),
        ("西藏自治区阿里地区噶尔县狮泉河镇", "西藏自治区阿里地区噶尔县****"),
        ("湖北省神农架林区松柏镇", "湖北省神农架林区****"),  # no prefecture level
        (
            "广东省东莞市南城街道鸿福路88号",
            "广东省东莞市****",
        ),  # city without districts
        (
            "广东省深圳市阳光小区3栋",
            "广东省深圳市****",
        ),  # a residential compound is no district
        ("香港特别行政区中西区皇后大道中1号", "香港特别行政区中西区****"),
        ("台湾省台北市中正区重庆南路", "台湾省台北市中正区****"),
        ("广东省 深圳市 南山区 科技园", "广东省深圳市南山区****"),
        ("广东省深圳市", "广东省深圳市****"),
        ("广东省", "广东省****"),
        # Unrecognisable and non-Chinese addresses keep nothing.
        ("科技园南区1栋", "****"),
        ("深圳市南山区科技园", "****"),
        ("人民路沃尔玛超市", "****"),
        ("1600 Amphitheatre Parkway, Mountain View, CA", "****"),
        ("Flat 5, 10 Downing Street, London", "****"),
        ("   ", "****"),
    ],
)
def test_mask_address(value, expected):
    assert mask_address(value) == expected


# --- short, empty and odd values --------------------------------------------------------


@pytest.mark.parametrize(
    ("mask", "value", "expected"),
    [
        (mask_id_number, "1234567", "*******"),  # 3 + 4 visible: nothing left to hide
        (mask_id_number, "12345678", "123*5678"),
        (mask_id_number, "A", "*"),
        (mask_account_no, "1234567890", "**********"),
        (mask_account_no, "12345678901", "123456*8901"),
        (mask_mobile, "1381234", "*******"),
        (mask_mobile, "138", "***"),
        (mask_phone, "1234", "****"),
        (mask_phone, "12345", "*2345"),
        (mask_email, "a@example.com", "***@example.com"),  # 1-character local part
        (mask_email, "not-an-email", "***"),
        (mask_email, "@example.com", "***"),
        (mask_email, "someone@", "***"),
        (mask_name, "张", "*"),
        (mask_name, "J", "*"),
    ],
)
def test_short_values_are_fully_starred(mask, value, expected):
    assert mask(value) == expected


@pytest.mark.parametrize("mask", MASK_FUNCTIONS)
@pytest.mark.parametrize("value", [None, ""])
def test_empty_values(mask, value):
    assert mask(value) == ""


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("value", [None, ""])
def test_mask_value_empty(kind, value):
    assert mask_value(kind, value) == ""


@pytest.mark.parametrize("contact_type", ["MOBILE", "HOME", "WORK", "EMAIL", "ADDRESS", "FAX"])
@pytest.mark.parametrize("value", [None, ""])
def test_mask_contact_empty(contact_type, value):
    assert mask_contact(contact_type, value) == ""


# --- dispatchers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("id_number", "110105199001011234", "110***********1234"),
        ("account_no", "6225758012341496", "622575******1496"),
        ("mobile", "13812345678", "138****5678"),
        ("phone", "12345678", "****5678"),
        ("email", "zhangsan@example.com", "z***@example.com"),
        ("address", "北京市海淀区中关村大街27号", "北京市海淀区****"),
        ("name", "欧阳娜娜", "欧阳*"),
    ],
)
def test_mask_value(kind, value, expected):
    assert mask_value(kind, value) == expected


@pytest.mark.parametrize("kind", ["ssn", "", "ID_NUMBER"])
def test_mask_value_unknown_kind(kind):
    with pytest.raises(ValueError):
        mask_value(kind, "110105199001011234")


@pytest.mark.parametrize(
    ("contact_type", "value", "expected"),
    [
        ("MOBILE", "+86 138-1234-5678", "138****5678"),
        ("mobile", "13812345678", "138****5678"),
        ("HOME", "010-12345678", "*******5678"),
        ("WORK", "12345678", "****5678"),
        ("EMAIL", "zhangsan@example.com", "z***@example.com"),
        ("ADDRESS", "广东省深圳市南山区科技园", "广东省深圳市南山区****"),
        ("FAX", "010-12345678", "****"),  # unknown types are masked completely
        ("", "13812345678", "****"),
    ],
)
def test_mask_contact(contact_type, value, expected):
    assert mask_contact(contact_type, value) == expected


# --- configurable rules -----------------------------------------------------------------


def test_default_rules():
    assert DEFAULT_RULES == {
        "id_number": (3, 4),
        "account_no": (6, 4),
        "mobile": (3, 4),
        "phone": (0, 4),
    }


@pytest.mark.parametrize(
    ("rules", "mask", "value", "expected"),
    [
        (
            {"id_number": (1, 2)},
            mask_id_number,
            "110105199001011234",
            "1***************34",
        ),
        ({"id_number": (0, 0)}, mask_id_number, "110105199001011234", "*" * 18),
        (
            {"account_no": (4, 4)},
            mask_account_no,
            "6225758012341496",
            "6225********1496",
        ),
        ({"mobile": (3, 0)}, mask_mobile, "13812345678", "138********"),
        (
            {"mobile": [0, 4]},
            mask_mobile,
            "13812345678",
            "*******5678",
        ),  # lists work too
        ({"phone": (0, 2)}, mask_phone, "12345678", "******78"),
        # Tightening one rule leaves the others alone.
        ({"id_number": (1, 2)}, mask_mobile, "13812345678", "138****5678"),
    ],
)
def test_tightened_rules(rules, mask, value, expected):
    with override_settings(PII_MASK_RULES=rules):
        assert mask(value) == expected


@pytest.mark.parametrize(
    ("rules", "mask", "value", "expected"),
    [
        # Looser rules are clamped to the defaults.
        (
            {"id_number": (6, 6)},
            mask_id_number,
            "110105199001011234",
            "110***********1234",
        ),
        (
            {"id_number": (18, 0)},
            mask_id_number,
            "110105199001011234",
            "110***************",
        ),
        (
            {"account_no": (10, 2)},
            mask_account_no,
            "6225758012341496",
            "622575********96",
        ),
        ({"mobile": (11, 11)}, mask_mobile, "13812345678", "138****5678"),
        ({"phone": (4, 4)}, mask_phone, "12345678", "****5678"),
        # Negative counts show nothing.
        ({"mobile": (-1, -5)}, mask_mobile, "13812345678", "***********"),
    ],
)
def test_looser_rules_are_clamped(rules, mask, value, expected):
    with override_settings(PII_MASK_RULES=rules):
        assert mask(value) == expected


@override_settings(PII_MASK_RULES={"id_number": (2, 3), "ssn": (9, 9)})
def test_rules_read_at_call_time_via_decorator():
    assert mask_id_number("110105199001011234") == "11*************234"
    assert get_rule("id_number") == (2, 3)
    assert get_rule("account_no") == (6, 4)


def test_rules_without_setting():
    with override_settings(PII_MASK_RULES=None):
        assert get_rule("id_number") == (3, 4)
    with override_settings():
        del settings.PII_MASK_RULES
        assert mask_id_number("110105199001011234") == "110***********1234"


@pytest.mark.parametrize("rule", [(3,), (1, 2, 3), "ab", 5, None, ("a", "b")])
def test_malformed_rule(rule):
    with (
        override_settings(PII_MASK_RULES={"id_number": rule}),
        pytest.raises(ImproperlyConfigured),
    ):
        mask_id_number("110105199001011234")


def test_get_rule_unknown_kind():
    with pytest.raises(ValueError):
        get_rule("email")


# --- properties -------------------------------------------------------------------------

DIGITS = "0123456789"
_rule_counts = st.integers(min_value=-2, max_value=20)


@given(st.text(alphabet=DIGITS, min_size=18, max_size=18))
def test_id_mask_never_reveals_middle_digits(number):
    masked = mask_id_number(number)
    assert len(masked) == len(number)
    assert masked[:3] == number[:3]
    assert masked[-4:] == number[-4:]
    assert masked[3:-4] == "*" * 11


@given(
    number=st.text(alphabet=DIGITS, min_size=18, max_size=18),
    head=_rule_counts,
    tail=_rule_counts,
)
def test_id_mask_never_reveals_more_than_default(number, head, tail):
    with override_settings(PII_MASK_RULES={"id_number": (head, tail)}):
        masked = mask_id_number(number)
    visible_head = max(0, min(head, 3))
    visible_tail = max(0, min(tail, 4))
    assert len(masked) == 18
    # Characters 3..13 are always hidden, whatever the rule says.
    assert masked[3:14] == "*" * 11
    assert masked.count("*") == 18 - visible_head - visible_tail
    assert masked[:visible_head] == number[:visible_head]
    assert masked[18 - visible_tail :] == number[18 - visible_tail :]


@given(st.text(alphabet=DIGITS, min_size=12, max_size=19))
def test_account_mask_never_reveals_middle_digits(number):
    masked = mask_account_no(number)
    assert masked == number[:6] + "*" * (len(number) - 10) + number[-4:]


@given(st.text(alphabet=DIGITS, min_size=0, max_size=7))
def test_too_short_id_numbers_are_never_shown(number):
    assert mask_id_number(number) == "*" * len(number)


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_mobile_mask_never_reveals_middle_digits(number):
    assert mask_mobile(number) == number[:3] + "****" + number[-4:]
