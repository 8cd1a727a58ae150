"""parse_value: raw cell → what the user meant, as a table of cases."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit.check.values import parse_value, raw_text
from toolkit.spec.campaign import Column
from toolkit.spec.findings import CODES, make_finding
from toolkit.spec.text import format_number

COUNT = Column("so_nguoi", ("Số người",), "count", min=0)
NUMBER = Column("so_tien", ("Số tiền",), "number")
MONEY = Column("tien", ("Số tiền (triệu đồng)",), "money", min=0)
PERCENT = Column("ty_le", ("Tỷ lệ (%)",), "percent", min=0, max=100, aggregate="none")
DATE = Column("ngay", ("Ngày ban hành",), "date", aggregate="none")
TEXT = Column("ghi_chu", ("Ghi chú",), "text", aggregate="concat")
CHOICE = Column("loai", ("Thể loại",), "choice", aggregate="concat",
                choices=("Nghị quyết", "Kế hoạch", "Báo cáo", "Khác"))

CONVERTED = "number_as_text_converted"
D = dt.date(2021, 1, 20)

# (raw, column, expected value, expected problem, expected warning)
CASES = [
    # blanks are blank, never 0
    (None, COUNT, None, None, None),
    ("", COUNT, None, None, None),
    ("   ", COUNT, None, None, None),
    ("\u00a0\u200b", COUNT, None, None, None),
    (float("nan"), COUNT, None, None, None),
    (None, TEXT, None, None, None),
    ("  ", CHOICE, None, None, None),
    ("", DATE, None, None, None),
    # numbers as stored
    (12.0, COUNT, 12.0, None, None),
    (12, COUNT, 12.0, None, None),
    (0.0, COUNT, 0.0, None, None),
    (12.5, NUMBER, 12.5, None, None),
    (-3.5, NUMBER, -3.5, None, None),
    # numbers typed as text
    ("12", COUNT, 12.0, None, CONVERTED),
    (" 12 ", COUNT, 12.0, None, CONVERTED),
    ("'12", COUNT, 12.0, None, CONVERTED),
    ("\u00a012\u00a0", COUNT, 12.0, None, CONVERTED),
    ("１２", COUNT, 12.0, None, CONVERTED),  # full-width digits (NFKC)
    ("1.234", COUNT, 1234.0, None, CONVERTED),  # Vietnamese thousands dot
    ("1.234.567", COUNT, 1234567.0, None, CONVERTED),
    ("1 234", COUNT, 1234.0, None, CONVERTED),
    ("1.234,5", NUMBER, 1234.5, None, CONVERTED),
    ("1,234.5", NUMBER, 1234.5, None, CONVERTED),
    ("3,5", NUMBER, 3.5, None, CONVERTED),
    ("3.5", NUMBER, 3.5, None, CONVERTED),
    ("0.125", NUMBER, 0.125, None, CONVERTED),
    ("12,50", MONEY, 12.5, None, CONVERTED),
    ("1,234", NUMBER, 1.234, None, CONVERTED),  # single comma = decimal separator
    ("1,234,567", COUNT, 1234567.0, None, CONVERTED),
    ("-3,5", NUMBER, -3.5, None, CONVERTED),
    ("\u22123", NUMBER, -3.0, None, CONVERTED),  # typographic minus
    # not numbers
    ("12 người", COUNT, None, "not_a_number", None),
    ("mười", COUNT, None, "not_a_number", None),
    ("abc", COUNT, None, "not_a_number", None),
    ("12abc", COUNT, None, "not_a_number", None),
    ("1.2.3,4,5", NUMBER, None, "not_a_number", None),
    ("1..2", NUMBER, None, "not_a_number", None),
    ("-", COUNT, None, "not_a_number", None),
    ("=SUM(B1:B3)", COUNT, None, "not_a_number", None),
    ("#DIV/0!", COUNT, None, "not_a_number", None),
    (True, COUNT, None, "not_a_number", None),
    (False, NUMBER, None, "not_a_number", None),
    (D, COUNT, None, "not_a_number", None),  # "1/2" auto-converted to a date by Excel
    (float("inf"), NUMBER, None, "not_a_number", None),
    ("45%", COUNT, None, "not_a_number", None),  # % only in percent columns
    # limits
    ("-3", COUNT, None, "negative", CONVERTED),
    (-3.0, COUNT, None, "negative", None),
    (-1.0, MONEY, None, "negative", None),
    (2.5, COUNT, None, "not_integer", None),
    ("2,5", COUNT, None, "not_integer", CONVERTED),
    ("1,234", COUNT, 1234.0, None, "thousands_comma_read"),  # a count has no decimals
    (130.0, PERCENT, None, "out_of_range", None),
    ("130", PERCENT, None, "out_of_range", CONVERTED),
    (100.0, PERCENT, 100.0, None, None),
    # percents
    ("45%", PERCENT, 45.0, None, CONVERTED),
    ("45 %", PERCENT, 45.0, None, CONVERTED),
    ("0,45", PERCENT, 0.45, None, CONVERTED),  # no ×100 guessing
    (0.45, PERCENT, 0.45, None, None),
    (85.0, PERCENT, 85.0, None, None),
    # dates
    (dt.datetime(2021, 1, 20, 0, 0), DATE, D, None, None),
    (dt.datetime(2021, 1, 20, 15, 30), DATE, D, None, None),
    (D, DATE, D, None, None),
    (44216.0, DATE, D, None, None),  # Excel serial
    (44216, DATE, D, None, None),
    ("20/01/2021", DATE, D, None, None),  # day first (Vietnamese)
    ("20-01-2021", DATE, D, None, None),
    ("20.01.2021", DATE, D, None, None),
    ("2021-01-20", DATE, D, None, None),
    ("2021/01/20", DATE, D, None, None),
    ("20/01/2021 00:00:00", DATE, D, None, None),
    (" 5/3/2016 ", DATE, dt.date(2016, 3, 5), None, None),
    ("31/02/2021", DATE, None, "bad_date", None),
    ("13/13/2021", DATE, None, "bad_date", None),
    ("20/01/21", DATE, None, "bad_date", None),
    ("hôm qua", DATE, None, "bad_date", None),
    (2021.0, DATE, None, "bad_date", None),  # a year, not a serial of 1905
    (True, DATE, None, "bad_date", None),
    # choices
    ("Kế hoạch", CHOICE, "Kế hoạch", None, None),
    ("  kế   HOẠCH ", CHOICE, "Kế hoạch", None, None),
    ("Ke\u0302\u0301 hoa\u0323ch", CHOICE, "Kế hoạch", None, None),  # NFD input
    ("Ke hoach", CHOICE, "Kế hoạch", None, "text_normalised"),  # typed without diacritics
    ("Tờ trình", CHOICE, None, "not_in_choices", None),
    (1.0, CHOICE, None, "not_in_choices", None),
    # text: NFC, stripped, never evaluated
    ("  Lớp cảm tình Đoàn ", TEXT, "Lớp cảm tình Đoàn", None, None),
    ("Đoa\u0300n", TEXT, "Đoàn", None, None),  # NFD → NFC silently
    ('=HYPERLINK("http://x.invalid","Bấm")', TEXT, '=HYPERLINK("http://x.invalid","Bấm")',
     None, None),
    (161.0, TEXT, "161", None, None),
    (2.5, TEXT, "2.5", None, None),
    (D, TEXT, "20/01/2021", None, None),
]


@pytest.mark.parametrize(("raw", "column", "value", "problem", "warning"), CASES,
                         ids=[f"{c[1].type}:{c[0]!r}" for c in CASES])
def test_parse_value(raw, column, value, problem, warning):
    parsed = parse_value(raw, column)
    assert parsed.problem == problem
    assert parsed.warning == warning
    if isinstance(value, float):
        assert parsed.value == pytest.approx(value)
    else:
        assert parsed.value == value


def test_without_range_checks_limits_are_left_to_the_schema():
    assert parse_value(-3.0, COUNT, check_range=False).value == -3.0
    assert parse_value(2.5, COUNT, check_range=False).value == 2.5
    assert parse_value(130, PERCENT, check_range=False).value == 130.0
    assert parse_value("Tờ trình", CHOICE, check_range=False).value == "Tờ trình"
    assert parse_value("12 người", COUNT, check_range=False).problem == "not_a_number"


@pytest.mark.parametrize("code", sorted(set(c[3] for c in CASES if c[3]) | set(
    c[4] for c in CASES if c[4])))
def test_every_code_has_a_message(code):
    assert code in CODES
    f = make_finding(code, file="a.xlsx", unit_code="TX01", form="PL2", cell="E9",
                     value="x", label="Số lượng")
    assert f.message.startswith("PL2!E9")
    assert f.severity in ("error", "warning")


def test_display_helpers():
    assert format_number(12.0) == "12"
    assert format_number(2.5) == "2,5"
    assert raw_text(12.0) == "12"
    assert raw_text(None) == ""
    assert raw_text(dt.datetime(2021, 1, 20)) == "20/01/2021"


anything = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(), st.text(alphabet="0123456789.,- %'\u00a0"), st.dates(), st.datetimes(),
    st.times(), st.timedeltas(),
)


@given(anything)
def test_never_raises_and_result_is_consistent(raw):
    for col in (COUNT, NUMBER, MONEY, PERCENT, DATE, TEXT, CHOICE):
        parsed = parse_value(raw, col)
        assert parsed.problem is None or parsed.value is None
        if parsed.problem:
            assert parsed.problem in CODES
        if col.is_numeric and parsed.value is not None:
            assert isinstance(parsed.value, float) and math.isfinite(parsed.value)
            if col.type == "count":
                assert parsed.value.is_integer() and parsed.value >= 0
            if col.type == "percent":
                assert 0 <= parsed.value <= 100
        if col.type == "choice" and parsed.value is not None:
            assert parsed.value in col.choices
