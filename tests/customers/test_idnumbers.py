import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from customers.idnumbers import (
    PROVINCES,
    REGION_CODES,
    IdType,
    ResidentId,
    derive_birth_date_and_gender,
    make_resident_id,
    normalise_mobile,
    parse_resident_id,
    resident_id_check_char,
    validate_id_number,
    validate_mobile,
)

TODAY = datetime.date(2024, 1, 1)


def _error_code(excinfo: pytest.ExceptionInfo[ValidationError]) -> str | None:
    return excinfo.value.code


# --- check character ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first17", "expected"),
    [
        ("11010519491231002", "X"),
        ("44030519900307123", "6"),
        ("31011520000229456", "7"),
        ("65010219850615789", "6"),
        ("33010619780101005", "X"),
        ("11010518991231001", "5"),
    ],
)
def test_resident_id_check_char(first17, expected):
    assert resident_id_check_char(first17) == expected


@pytest.mark.parametrize("first17", ["1101051949123100", "110105194912310021", "1101051949123100A"])
def test_resident_id_check_char_rejects_bad_input(first17):
    with pytest.raises(ValueError):
        resident_id_check_char(first17)


# --- parse_resident_id: valid numbers ---------------------------------------------------


@pytest.mark.parametrize(
    ("value", "number", "region", "birth_date", "gender", "province"),
    [
        (
            "11010519491231002X",
            "11010519491231002X",
            "110105",
            datetime.date(1949, 12, 31),
            "F",
            "Beijing",
        ),
        (
            "440305199003071236",
            "440305199003071236",
            "440305",
            datetime.date(1990, 3, 7),
            "M",
            "Guangdong",
        ),
        # Leap day.
        (
            "310115200002294567",
            "310115200002294567",
            "310115",
            datetime.date(2000, 2, 29),
            "F",
            "Shanghai",
        ),
        (
            "650102198506157896",
            "650102198506157896",
            "650102",
            datetime.date(1985, 6, 15),
            "M",
            "Xinjiang",
        ),
        (
            "510104190012310112",
            "510104190012310112",
            "510104",
            datetime.date(1900, 12, 31),
            "M",
            "Sichuan",
        ),
        # Lowercase x and surrounding spaces are normalised.
        (
            "  33010619780101005x ",
            "33010619780101005X",
            "330106",
            datetime.date(1978, 1, 1),
            "M",
            "Zhejiang",
        ),
        # Full-width digits as typed with a Chinese input method.
        (
            "１１０１０５１９４９１２３１００２Ｘ",
            "11010519491231002X",
            "110105",
            datetime.date(1949, 12, 31),
            "F",
            "Beijing",
        ),
        # Residence permits of Hong Kong and Taiwan residents.
        (
            "810000199505050313",
            "810000199505050313",
            "810000",
            datetime.date(1995, 5, 5),
            "M",
            "Hong Kong",
        ),
        (
            "830000198808080447",
            "830000198808080447",
            "830000",
            datetime.date(1988, 8, 8),
            "F",
            "Taiwan",
        ),
        # Born on the reference date itself.
        (
            "110108202401010013",
            "110108202401010013",
            "110108",
            datetime.date(2024, 1, 1),
            "M",
            "Beijing",
        ),
    ],
)
def test_parse_resident_id_valid(value, number, region, birth_date, gender, province):
    parsed = parse_resident_id(value, today=TODAY)
    assert parsed == ResidentId(number=number, region_code=region, birth_date=birth_date, gender=gender)
    assert parsed.province == province


def test_province_zh():
    assert parse_resident_id("440305199003071236").province_zh == "广东省"
    assert parse_resident_id("830000198808080447").province_zh == "台湾省"


def test_parse_resident_id_defaults_to_today():
    # 2024-01-02 would be in the future relative to TODAY, but not relative to date.today().
    assert parse_resident_id("11010520240102001X").birth_date == datetime.date(2024, 1, 2)


# --- parse_resident_id: invalid numbers -------------------------------------------------
# Every invalid example except the check-digit cases carries a correct check character, so
# the test fails if the specific validation is missing.


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("11010519491231002", "id_length"),  # 17 characters
        ("11010519491231002X1", "id_length"),  # 19 characters
        ("", "id_length"),
        ("1101051949123100 2X", "id_length"),
        ("110105194912310 2X", "id_chars"),  # inner space
        ("1101051949A231002X", "id_chars"),  # letter in the middle
        ("X10105194912310020", "id_chars"),  # X not at the end
        ("11010519491231002Y", "id_chars"),
        ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", "id_chars"),  # non-ASCII (Arabic-Indic) digits
        ("11010519491231002-", "id_chars"),
        ("99010519800101001X", "id_region"),  # no province 99
        ("010105198001010012", "id_region"),
        ("110000198001010019", "id_region"),  # province code, not a county
        ("810101199001010010", "id_region"),  # HK permits only use 810000
        ("110105202302300016", "id_birth_date"),  # 30 February
        ("110105190002290017", "id_birth_date"),  # 1900 was no leap year
        ("110105198013010013", "id_birth_date"),  # month 13
        ("110105189912310015", "id_birth_date"),  # before 1900
        ("11010520240102001X", "id_birth_date"),  # the day after TODAY
        ("110105194912310021", "id_check_digit"),
        ("440305199003071237", "id_check_digit"),
        ("110105194912310020", "id_check_digit"),  # 0 instead of X
        ("33010619780101005I", "id_chars"),
    ],
)
def test_parse_resident_id_invalid(value, code):
    with pytest.raises(ValidationError) as excinfo:
        parse_resident_id(value, today=TODAY)
    assert _error_code(excinfo) == code


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("440305199003071233", "The check digit should be 6, not 3."),
        ("11010519491231002", "A resident ID number must have 18 characters, not 17."),
        (
            "99010519800101001X",
            "The region code 990105 is not a valid place of registration.",
        ),
        (
            "110105202302300016",
            "The birth date 20230230 in the ID number is not a real date.",
        ),
        (
            "11010520240102001X",
            "The birth date 2024-01-02 in the ID number is in the future.",
        ),
        (
            "110105189912310015",
            "The birth date 1899-12-31 in the ID number is before 1900.",
        ),
    ],
)
def test_parse_resident_id_messages(value, message):
    with pytest.raises(ValidationError) as excinfo, translation.override("en"):
        parse_resident_id(value, today=TODAY)
    with translation.override("en"):
        assert excinfo.value.messages == [message]


# --- make_resident_id -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sequence", "gender", "expected_sequence"),
    [
        (2, None, "002"),
        (3, None, "003"),
        (2, "F", "002"),
        (2, "M", "003"),
        (3, "F", "002"),
        (0, "M", "001"),
        (999, "F", "998"),
        (999, "M", "999"),
        (998, "M", "999"),
    ],
)
def test_make_resident_id_sequence_and_gender(sequence, gender, expected_sequence):
    number = make_resident_id(
        region_code="110105",
        birth_date=datetime.date(1949, 12, 31),
        sequence=sequence,
        gender=gender,
    )
    assert number[:14] == "11010519491231"
    assert number[14:17] == expected_sequence
    assert number[17] == resident_id_check_char(number[:17])


def test_make_resident_id_known_example():
    number = make_resident_id(region_code="110105", birth_date=datetime.date(1949, 12, 31), sequence=2)
    assert number == "11010519491231002X"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"region_code": "11010", "sequence": 1},
        {"region_code": "11010A", "sequence": 1},
        {"region_code": "110105", "sequence": -1},
        {"region_code": "110105", "sequence": 1000},
        {"region_code": "110105", "sequence": 1, "gender": "X"},
    ],
)
def test_make_resident_id_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        make_resident_id(birth_date=datetime.date(1980, 1, 1), **kwargs)


@given(
    region_code=st.sampled_from(REGION_CODES),
    birth_date=st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date.today()),
    sequence=st.integers(min_value=0, max_value=999),
    gender=st.sampled_from([None, "M", "F"]),
)
def test_make_resident_id_round_trip(region_code, birth_date, sequence, gender):
    number = make_resident_id(
        region_code=region_code, birth_date=birth_date, sequence=sequence, gender=gender
    )
    parsed = parse_resident_id(number)
    assert parsed.number == number
    assert parsed.region_code == region_code
    assert parsed.birth_date == birth_date
    expected_gender = gender or ("M" if sequence % 2 else "F")
    assert parsed.gender == expected_gender
    assert abs(parsed.sequence - sequence) <= 1


@given(
    birth_date=st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2024, 1, 1)),
    sequence=st.integers(min_value=0, max_value=999),
    position=st.integers(min_value=0, max_value=16),
    delta=st.integers(min_value=1, max_value=9),
)
def test_single_digit_change_is_detected(birth_date, sequence, position, delta):
    """MOD 11-2 detects every single-digit substitution."""
    number = make_resident_id(region_code="440305", birth_date=birth_date, sequence=sequence)
    digit = (int(number[position]) + delta) % 10
    changed = number[:position] + str(digit) + number[position + 1 :]
    with pytest.raises(ValidationError):
        parse_resident_id(changed, today=TODAY)


def test_region_codes_are_county_level_and_valid():
    assert len(REGION_CODES) >= 60
    assert len(set(REGION_CODES)) == len(REGION_CODES)
    for code in REGION_CODES:
        assert code[:2] in PROVINCES
        number = make_resident_id(region_code=code, birth_date=datetime.date(1980, 1, 1), sequence=1)
        assert parse_resident_id(number).region_code == code
    assert len({code[:2] for code in REGION_CODES}) >= 25


def test_provinces():
    assert PROVINCES["11"] == "北京市"
    assert PROVINCES["65"] == "新疆维吾尔自治区"
    assert PROVINCES["71"] == "台湾省"
    assert PROVINCES["81"] == "香港特别行政区"
    assert PROVINCES["82"] == "澳门特别行政区"
    assert len(PROVINCES) == 34


# --- derive_birth_date_and_gender -------------------------------------------------------


@pytest.mark.parametrize(
    ("id_type", "id_number", "expected"),
    [
        (IdType.RESIDENT_ID, "11010519491231002X", (datetime.date(1949, 12, 31), "F")),
        ("01", "440305199003071236", (datetime.date(1990, 3, 7), "M")),
        ("01", "11010519491231002x", (datetime.date(1949, 12, 31), "F")),
        ("01", "440305199003071237", (None, None)),  # invalid number
        (IdType.PASSPORT, "E12345678", (None, None)),
        ("03", "H1234567801", (None, None)),
        ("99", "11010519491231002X", (None, None)),
    ],
)
def test_derive_birth_date_and_gender(id_type, id_number, expected):
    assert derive_birth_date_and_gender(id_type, id_number) == expected


# --- validate_id_number -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("id_type", "value", "expected"),
    [
        ("01", " 11010519491231002x ", "11010519491231002X"),
        (IdType.RESIDENT_ID, "440305199003071236", "440305199003071236"),
        ("02", "E12345678", "E12345678"),
        ("02", "g12345678", "G12345678"),
        ("02", "ab123", "AB123"),  # 5 characters
        ("02", "X" * 17, "X" * 17),
        ("02", " 123456789 ", "123456789"),
        ("03", "H12345678", "H12345678"),
        ("03", "m1234567890", "M1234567890"),
        ("04", "12345678", "12345678"),
        ("04", "1234567890", "1234567890"),
        ("05", "USA110012345678", "USA110012345678"),
        ("05", "can440012345678", "CAN440012345678"),
        ("05", "91101561990010100X", "91101561990010100X"),
        ("05", "91101561990010100x", "91101561990010100X"),
        ("99", "军官证-12345", "军官证-12345"),
        ("99", " A ", "A"),
        ("99", "x" * 30, "x" * 30),
    ],
)
def test_validate_id_number_valid(id_type, value, expected):
    assert validate_id_number(id_type, value, today=TODAY) == expected


@pytest.mark.parametrize(
    ("id_type", "value", "code"),
    [
        ("01", "440305199003071237", "id_check_digit"),
        ("01", "11010519491231002", "id_length"),
        ("01", "11010520240102001X", "id_birth_date"),
        ("02", "E123", "id_format"),  # 4 characters
        ("02", "X" * 18, "id_format"),
        ("02", "E1234-5678", "id_format"),
        ("02", "E 12345678", "id_format"),
        ("02", "护照12345678", "id_format"),
        ("02", "", "id_format"),
        ("03", "12345678", "id_format"),  # no prefix letter
        ("03", "A12345678", "id_format"),
        ("03", "H1234567", "id_format"),  # 7 digits
        ("03", "H123456789", "id_format"),  # 9 digits
        ("03", "H12345678901", "id_format"),  # 11 digits
        ("04", "1234567", "id_format"),
        ("04", "123456789", "id_format"),
        ("04", "12345678(B)", "id_format"),
        ("04", "T12345678", "id_format"),
        ("05", "US1100123456789", "id_format"),  # 2 letters
        ("05", "USA11001234567", "id_format"),  # 11 digits
        ("05", "81101561990010100X", "id_format"),  # 18 digits not starting with 9
        ("05", "911015619900101001", "id_check_digit"),
        ("99", "", "id_format"),
        ("99", "   ", "id_format"),
        ("99", "x" * 31, "id_format"),
        ("99", "AB 12", "id_format"),
        ("99", "AB\x0012", "id_format"),
        ("00", "11010519491231002X", "id_type"),
        ("1", "11010519491231002X", "id_type"),
        ("", "11010519491231002X", "id_type"),
        ("PASSPORT", "E12345678", "id_type"),
    ],
)
def test_validate_id_number_invalid(id_type, value, code):
    with pytest.raises(ValidationError) as excinfo:
        validate_id_number(id_type, value, today=TODAY)
    assert _error_code(excinfo) == code


def test_id_type_choices():
    assert IdType.values == ["01", "02", "03", "04", "05", "99"]
    with translation.override("en"):
        assert str(IdType.RESIDENT_ID.label) == "Resident identity card"
        assert str(IdType.OTHER.label) == "Other"


# --- mobile numbers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13800138000", "13800138000"),
        (" 13800138000 ", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("+8613800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("86 13800138000", "13800138000"),
        ("19912345678", "19912345678"),
        ("１３８００１３８０００", "13800138000"),  # full-width digits
    ],
)
def test_validate_mobile_valid(value, expected):
    assert normalise_mobile(value) == expected
    assert validate_mobile(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # The prefix is only removed when 11 digits remain.
        ("861380013800", "861380013800"),
        ("+861380013800", "+861380013800"),
        ("86138001380001", "86138001380001"),
        ("+861380013800a", "+861380013800a"),
        ("(010) 1234", "(010)1234"),
    ],
)
def test_normalise_mobile_keeps_prefix_unless_11_digits_remain(value, expected):
    assert normalise_mobile(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        "23800138000",  # starts with 2
        "12800138000",  # second digit 2
        "10800138000",  # second digit 0
        "1380013800a",  # letter
        "138OO138OOO",  # letters O instead of zeros
        "+85213800138000",  # Hong Kong country code
        "+86 1380013800",  # 10 digits after the prefix
        "861380013800",  # 86 prefix + 10 digits
        "",
        "   ",
        "138.0013.8000",
    ],
)
def test_validate_mobile_invalid(value):
    with pytest.raises(ValidationError) as excinfo:
        validate_mobile(value)
    assert _error_code(excinfo) == "mobile"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1380013800", "A mobile number must have 11 digits, not 10."),
        ("23800138000", "A mobile number must start with 13 to 19."),
        (
            "1380013800a",
            "A mobile number may only contain digits, spaces, hyphens and a +86 prefix.",
        ),
    ],
)
def test_validate_mobile_messages(value, message):
    with pytest.raises(ValidationError) as excinfo:
        validate_mobile(value)
    with translation.override("en"):
        assert excinfo.value.messages == [message]


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_validate_mobile_accepts_all_mainland_numbers(number):
    assert validate_mobile(number) == number
    assert validate_mobile(f"+86 {number[:3]}-{number[3:7]}-{number[7:]}") == number
