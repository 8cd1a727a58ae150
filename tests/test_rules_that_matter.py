"""Three rules that a one-line change could break without anything else noticing.

1. Who sent a file: the ``_meta`` sheet's identity beats the custom document properties;
   the properties only fill keys ``_meta`` lacks.
2. Money rules (``sum(left) op right``) compare with a small tolerance: sums that hold in
   decimals hold even when the float sum is off in the last bit; a real excess is an error.
3. A number typed with a leading decimal separator (``,5``, ``.5``) is 0.5, never 5.
4. ``parse_value`` turns bad values into codes, but a bug in the parser is raised.

Every expected value is computed here from the test's own input, never by the code under test.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import zipfile
from decimal import Decimal
from functools import reduce
from itertools import permutations
from operator import add
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
import yaml
from builders import submission
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

import toolkit.check.values as values_module
from toolkit._infra.paths import samples_dir
from toolkit.check.validate import validate
from toolkit.check.values import parse_number_text, parse_value
from toolkit.pipeline import consolidate
from toolkit.read.ingest import ingest
from toolkit.spec.campaign import Campaign, Column
from toolkit.spec.load import load_campaign
from toolkit.spec.meta import IDENTITY_KEYS, META_SHEET
from toolkit.spec.units import Unit, load_units
from toolkit.testing import fill_workbook, sample_values
from toolkit.write.templates import template_bytes

CAMPAIGN = load_campaign("nq02-2020")
OTHER_CAMPAIGN = "giua-nhiem-ky-2017-2022"  # another built-in campaign's id
UNITS = load_units(samples_dir() / "units.csv")
TX = UNITS.get("TX")
CONVERTED = "number_as_text_converted"


# =========================================================================== 1. identity


def _template(unit: Unit, seed: int) -> bytes:
    values = sample_values(CAMPAIGN, random.Random(seed), list_rows=2)
    return fill_workbook(template_bytes(CAMPAIGN, unit, TX), values,
                         modified=dt.datetime(2021, 1, 15, 9, 0))


def _rewrite_properties(data: bytes, props: dict[str, str]) -> bytes:
    """The same xlsx with the named custom properties (``docProps/custom.xml``) given new
    text; every other zip member byte for byte as it was."""
    src = zipfile.ZipFile(io.BytesIO(data))
    xml = src.read("docProps/custom.xml").decode("utf-8")
    for name, value in props.items():
        pattern = re.compile(
            rf'(<property\b[^>]*\bname="{re.escape(name)}"[^>]*>\s*<vt:(\w+)\b[^>]*>)[^<]*(</vt:\2>)')
        xml, n = pattern.subn(lambda m, v=value: m.group(1) + escape(v) + m.group(3), xml)
        assert n == 1, f"property {name!r} not found once in custom.xml"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            dst.writestr(info, xml.encode("utf-8") if info.filename == "docProps/custom.xml"
                         else body)
    return out.getvalue()


def _properties_in(data: bytes) -> dict[str, str]:
    xml = zipfile.ZipFile(io.BytesIO(data)).read("docProps/custom.xml").decode("utf-8")
    pattern = r'<property\b[^>]*\bname="([^"]+)"[^>]*>\s*<vt:\w+\b[^>]*>([^<]*)<'
    return dict(re.findall(pattern, xml))


def _meta_identity(data: bytes) -> dict[str, str]:
    """The identity block of the file's ``_meta`` sheet, read here with openpyxl: the key /
    value rows above the first blank row."""
    rows = load_workbook(io.BytesIO(data), read_only=True)[META_SHEET].iter_rows(
        values_only=True)
    block: dict[str, str] = {}
    for row in rows:
        if not row or row[0] in (None, ""):
            break
        block[str(row[0])] = "" if len(row) < 2 or row[1] is None else str(row[1])
    return block


def _edit_meta(data: bytes, key: str, how: str) -> bytes:
    """``_meta`` without ``key``'s row (``how="deleted"``) or with its value blank."""
    book = load_workbook(io.BytesIO(data))
    ws = book[META_SHEET]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == key)
    if how == "deleted":
        ws.delete_rows(row)
    else:
        ws.cell(row, 2).value = None
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _only(tmp_path: Path, data: bytes, name: str = "bao cao.xlsx"):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / name).write_bytes(data)
    result = ingest(inbox, CAMPAIGN, units=UNITS)
    assert result.skipped == [], result.skipped
    assert len(result.submissions) == 1
    return inbox, result.submissions[0]


# (unit the template was made for, unit the properties are rewritten to name): both exist
UNIT_PAIRS = [("TX09", "TX04"), ("TX01", "TX32"), ("TX17", "TX18"), ("TX28", "TX02")]


@pytest.mark.parametrize(("meta_code", "props_code"), UNIT_PAIRS)
def test_meta_unit_beats_the_unit_named_by_the_custom_properties(tmp_path, meta_code,
                                                                  props_code):
    meta_unit, props_unit = UNITS.get(meta_code), UNITS.get(props_code)
    data = _rewrite_properties(_template(meta_unit, seed=len(meta_code + props_code)),
                               {"unit_code": props_unit.code, "unit_name": props_unit.name})
    # the file really says two different things
    assert _meta_identity(data)["unit_code"] == meta_unit.code
    assert _properties_in(data)["unit_code"] == props_unit.code
    assert _properties_in(data)["unit_name"] == props_unit.name

    inbox, sub = _only(tmp_path, data)
    assert (sub.unit_code, sub.unit_name) == (meta_unit.code, meta_unit.name)

    result = consolidate(inbox, CAMPAIGN, UNITS, TX)
    assert result.status_of(meta_unit.code) == "accepted"
    assert result.status_of(props_unit.code) == "missing"
    [chosen] = result.submissions
    assert chosen.unit_code == meta_unit.code and chosen.status == "accepted"
    for form in CAMPAIGN.forms:
        assert set(result.frames[form.id]["unit_code"]) <= {meta_unit.code}


PROPERTY_LIES = {
    "campaign": {"campaign": OTHER_CAMPAIGN},
    "kind": {"kind": "summary"},
    "version": {"template_version": "99", "spec_sha256": "0" * 64},
    "everything": {"campaign": OTHER_CAMPAIGN, "unit_code": "TX05",
                   "unit_name": "Đoàn xã Xuân Trường", "kind": "summary",
                   "template_version": "99", "spec_sha256": "0" * 64,
                   "generated_at": "1999-01-01T00:00:00"},
}


@pytest.mark.parametrize("lie", sorted(PROPERTY_LIES))
def test_every_identity_key_of_meta_beats_the_properties(tmp_path, lie):
    data = _rewrite_properties(_template(UNITS.get("TX09"), seed=3), PROPERTY_LIES[lie])
    meta = _meta_identity(data)
    assert set(meta) == set(IDENTITY_KEYS) and all(meta.values())
    props = _properties_in(data)
    assert all(props[k] != meta[k] for k in PROPERTY_LIES[lie])

    _inbox, sub = _only(tmp_path, data)  # read as this campaign, not skipped as another
    assert sub.identity == meta
    assert sub.status == "" and sub.cells


# identity keys a reader can do without in _meta (campaign must be there for _meta to parse)
FILLABLE = ["unit_code", "unit_name", "kind", "template_version", "generated_at"]


@pytest.mark.parametrize("how", ["deleted", "blank"])
@pytest.mark.parametrize("key", FILLABLE)
def test_a_key_meta_lacks_is_taken_from_the_properties(tmp_path, key, how):
    other = UNITS.get("TX04")
    stand_in = {"unit_code": other.code, "unit_name": other.name, "kind": "template",
                "template_version": "7", "generated_at": "2020-12-31T08:00:00"}[key]
    original = _template(UNITS.get("TX09"), seed=5)
    before = _meta_identity(original)
    data = _rewrite_properties(_edit_meta(original, key, how), {key: stand_in})
    meta = _meta_identity(data)
    assert meta.get(key, "") == "" and _properties_in(data)[key] == stand_in

    _inbox, sub = _only(tmp_path, data)
    assert sub.identity[key] == stand_in
    for k in IDENTITY_KEYS:  # every other key still from _meta
        if k != key:
            assert sub.identity[k] == before[k], k


# =========================================================================== 2. money rules


def _money_form(form_id: str, op: str) -> dict[str, Any]:
    return {
        "id": form_id,
        "title": f"Kinh phí ({op})",
        "kind": "single_row",
        "columns": [
            {"key": "a", "header": ["Kinh phí (triệu đồng)", "Nguồn A"], "type": "money"},
            {"key": "b", "header": ["Kinh phí (triệu đồng)", "Nguồn B"], "type": "money"},
            {"key": "c", "header": ["Kinh phí (triệu đồng)", "Nguồn C"], "type": "money"},
            {"key": "tong", "header": ["Kinh phí (triệu đồng)", "Tổng"], "type": "money"},
        ],
        "rules": [{"sum": ["a", "b", "c"], "op": op, "right": "tong"}],
    }


OPS = ("le", "ge", "eq")
FORM_OF = {op: f"F{op.upper()}" for op in OPS}


@pytest.fixture(scope="module")
def money(tmp_path_factory) -> Campaign:
    """A campaign of three money forms, one per rule operator: sum(a, b, c) op tong."""
    folder = tmp_path_factory.mktemp("money")
    spec = {"id": "kinh-phi", "title": "Báo cáo kinh phí", "issuer": "BTV Huyện đoàn Thử",
            "document_number": "1-KH/ĐTN", "document_date": "2021-01-06",
            "deadlines": {"co_so": "2021-01-20"},
            "forms": [f"{op}.yaml" for op in OPS]}
    (folder / "campaign.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True),
                                          encoding="utf-8")
    for op in OPS:
        (folder / f"{op}.yaml").write_text(
            yaml.safe_dump(_money_form(FORM_OF[op], op), allow_unicode=True), encoding="utf-8")
    campaign = load_campaign(folder / "campaign.yaml")
    for op in OPS:  # the spec says what the test thinks it says
        [rule] = campaign.form(FORM_OF[op]).rules
        assert (rule.left, rule.op, rule.right) == (("a", "b", "c"), op, "tong")
        assert all(c.type == "money" for c in campaign.form(FORM_OF[op]).input_columns)
    return campaign


def _float_sums(parts: list[Decimal]) -> set[float]:
    """What a float sum of the cells can come to, in any order of addition."""
    return {reduce(add, p) for p in permutations([float(x) for x in parts])}


def _breaks_in_floats(op: str, parts: list[Decimal], right: Decimal) -> bool:
    """True when every float sum breaks ``sum op right`` though the decimal sum keeps it."""
    r = float(right)
    sums = _float_sums(parts)
    return {"le": all(s > r for s in sums), "ge": all(s < r for s in sums),
            "eq": all(s != r for s in sums)}[op]


CLASSICS = {  # op → (parts, right) typed by hand
    "le": [(["0.1", "0.2"], "0.3"), (["1.1", "2.2"], "3.3"), (["0.1", "0.1", "0.1"], "0.3")],
    "ge": [(["0.1", "0.7"], "0.8"), (["0.3", "0.3", "0.3"], "0.9")],
    "eq": [(["0.1", "0.2"], "0.3"), (["1.1", "2.2"], "3.3"), (["0.3", "0.3", "0.3"], "0.9")],
}


def _exact_cases(op: str, n: int, seed: int) -> list[tuple[list[str], str]]:
    """Money amounts whose decimal sum is exactly the total, but whose float sum breaks
    ``op``: the hand-picked classics, then random ones (1–2 decimals, up to 10^6)."""
    cases = [(p, r) for p, r in CLASSICS[op]
             if _breaks_in_floats(op, [Decimal(x) for x in p], Decimal(r))]
    rng = random.Random(seed)
    while len(cases) < n:
        places = rng.choice((1, 2))
        parts = [Decimal(rng.randint(1, 10 ** rng.choice((2, 3, 5, 8)))).scaleb(-places)
                 for _ in range(rng.choice((2, 3)))]
        total = sum(parts, Decimal(0))
        if _breaks_in_floats(op, parts, total):
            cases.append(([str(p) for p in parts], str(total)))
    return cases


EXACT = [(op, parts, right) for op in OPS for parts, right in _exact_cases(op, 10, seed=7)]


def _row(parts: list[str], right: str) -> dict[str, float]:
    return {**{k: float(v) for k, v in zip("abc", parts, strict=False)}, "tong": float(right)}


def _rule_findings(sub, form_id: str) -> list:
    return [f for f in sub.findings if f.code == "rule_violation" and f.form == form_id]


def test_the_cases_really_break_in_floats():
    assert 0.1 + 0.2 > 0.3 and 1.1 + 2.2 > 3.3 and 0.1 + 0.7 < 0.8
    for op in OPS:
        for parts, right in CLASSICS[op]:  # every hand-picked case is kept
            assert _breaks_in_floats(op, [Decimal(x) for x in parts], Decimal(right))
            assert (op, parts, right) in EXACT
        assert sum(1 for case in EXACT if case[0] == op) == 10


@pytest.mark.parametrize(("op", "parts", "right"), EXACT,
                         ids=[f"{'+'.join(p)}-{op}-{r}" for op, p, r in EXACT])
def test_money_sums_that_hold_in_decimals_are_not_errors(money, op, parts, right):
    parts_d = [Decimal(p) for p in parts]
    assert sum(parts_d, Decimal(0)) == Decimal(right)  # holds exactly, for every op
    assert _breaks_in_floats(op, parts_d, Decimal(right))  # but not in floats
    form_id = FORM_OF[op]
    sub = submission(money, {form_id: {"-": _row(parts, right)}})
    validate(money, [sub])
    assert _rule_findings(sub, form_id) == []
    assert sub.status == "accepted", [f.message for f in sub.findings]


def _excess_cases(seed: int) -> list[tuple[str, list[str], str, str]]:
    """(op, parts, right, delta): the total misses the decimal sum by ``delta`` (0.01 or
    0.001 triệu đồng, far beyond any rounding of amounts below 1000) the wrong way."""
    rng = random.Random(seed)
    out = []
    for op in OPS:
        for _ in range(6):
            parts = [Decimal(rng.randint(1, 99999)).scaleb(-2) for _ in range(rng.choice((2, 3)))]
            delta = Decimal(rng.choice(("0.01", "0.001")))
            total = sum(parts, Decimal(0))
            if op == "le":
                right = total - delta
            elif op == "ge":
                right = total + delta
            else:
                right = total + rng.choice((delta, -delta))
            out.append((op, [str(p) for p in parts], str(right), str(delta)))
    return out


EXCESS = _excess_cases(seed=11)


@pytest.mark.parametrize(("op", "parts", "right", "delta"), EXCESS,
                         ids=[f"{'+'.join(p)}-{op}-{r}" for op, p, r, _d in EXCESS])
def test_a_real_money_excess_is_a_rule_violation(money, op, parts, right, delta):
    total = sum((Decimal(p) for p in parts), Decimal(0))
    broken = {"le": total > Decimal(right), "ge": total < Decimal(right),
              "eq": total != Decimal(right)}[op]
    assert broken and abs(total - Decimal(right)) == Decimal(delta)
    form_id = FORM_OF[op]
    sub = submission(money, {form_id: {"-": _row(parts, right)}})
    validate(money, [sub])
    [finding] = _rule_findings(sub, form_id)
    assert finding.column == "tong" and finding.severity == "error"
    assert sub.status == "rejected"


# =========================================================================== 3. ",5" is 0.5


COUNT = Column("so_nguoi", ("Số người",), "count", min=0)
NUMBER = Column("so_km", ("Số km",), "number")
MONEY = Column("tien", ("Số tiền (triệu đồng)",), "money", min=0)
PERCENT = Column("ty_le", ("Tỷ lệ (%)",), "percent", min=0, max=100, aggregate="none")
FRACTIONAL = (NUMBER, MONEY, PERCENT)  # where 0.d is in range
digits = st.text(alphabet="0123456789", min_size=1, max_size=12)


@given(d=digits, sep=st.sampled_from(",."), pad=st.sampled_from(["", " ", "'", "\u00a0"]))
def test_leading_separator_is_a_decimal_point(d, sep, pad):
    expected = float("0." + d)
    text = f"{pad}{sep}{d}"
    assert parse_number_text(text) == expected
    assert parse_number_text(f"0{sep}{d}") == expected
    for col in FRACTIONAL:
        assert parse_value(text, col) == (expected, None, CONVERTED), col.type
        assert parse_value(f"0{sep}{d}", col) == (expected, None, CONVERTED), col.type


@given(d=digits, sep=st.sampled_from(",."), minus=st.sampled_from(["-", "\u2212", "- "]))
def test_leading_separator_after_a_minus_sign(d, sep, minus):
    expected = -float("0." + d)
    assert parse_number_text(f"{minus}{sep}{d}") == expected
    assert parse_value(f"{minus}{sep}{d}", NUMBER).value == expected  # no lower bound
    if expected < 0:  # money cannot be negative: said so, not read as -d
        assert parse_value(f"{minus}{sep}{d}", MONEY).problem == "negative"


@given(d=digits.filter(lambda d: d.strip("0") != ""), sep=st.sampled_from(",."))
def test_leading_separator_in_a_count_is_a_fraction_not_a_whole(d, sep):
    fraction = float("0." + d)  # strictly between 0 and 1: never a whole count
    assert 0 < fraction < 1
    assert parse_value(f"{sep}{d}", COUNT, check_range=False).value == fraction
    assert parse_value(f"{sep}{d}", COUNT).problem == "not_integer"


@given(d=digits, sep=st.sampled_from(",."))
def test_leading_separator_before_percent_sign(d, sep):
    assert parse_value(f"{sep}{d}%", PERCENT) == (float("0." + d), None, CONVERTED)


@pytest.mark.parametrize(("text", "value"), [
    (",5", 0.5), (".5", 0.5), ("0,5", 0.5), ("0.5", 0.5), (",05", 0.05), (".25", 0.25),
    (",125", 0.125), (".125", 0.125), (",999", 0.999),
])
@pytest.mark.parametrize("col", FRACTIONAL, ids=lambda c: c.type)
def test_leading_separator_table(text, value, col):
    assert parse_value(text, col) == (value, None, CONVERTED)


# =========================================================================== 4. bugs surface


@pytest.mark.parametrize(("helper", "raw", "col"), [
    ("_parse_date", "20/01/2021", Column("ngay", ("Ngày",), "date", aggregate="none")),
    ("_as_text", "ghi chú", Column("ghi_chu", ("Ghi chú",), "text", aggregate="concat")),
], ids=["date", "text"])
def test_a_bug_in_the_parser_is_raised_not_reported_as_a_bad_value(monkeypatch, helper, raw,
                                                                    col):
    def broken(*_args: Any) -> Any:
        raise TypeError("a bug")

    monkeypatch.setattr(values_module, helper, broken)
    with pytest.raises(TypeError, match="a bug"):
        parse_value(raw, col)
