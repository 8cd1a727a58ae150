"""Property: random values in every input cell type of a real workbook never crash a run,
and every value is either accepted exactly or reported at its cell."""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from pathlib import Path

from builders import cell_of, write_workbook
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit._infra.paths import samples_dir
from toolkit.check.validate import validate
from toolkit.check.values import parse_value
from toolkit.read.ingest import ingest
from toolkit.read.selection import select
from toolkit.spec.load import load_campaign
from toolkit.spec.units import load_units

CAMPAIGN = load_campaign("nq02-2020")
UNITS = load_units(samples_dir() / "units.csv")
# one input cell of every column type: (form, row, column)
CELLS = {
    "count": ("PL2", "-", "bt_so_luong"),
    "percent": ("PL5", "-", "tap_hop_chi_tieu"),
    "money": ("PL5", "-", "lam_nha_so_tien"),
    "date": ("PL1", "1", "ngay_ban_hanh"),
    "choice": ("PL1", "1", "loai_van_ban"),
    "text": ("PL4", "2016", "ghi_chu"),
}
cell_value = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**9),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.text(max_size=40), st.text(alphabet="0123456789.,- %'\u00a0１２", max_size=12),
    st.text(alphabet="§µ¸·¶¹©ª«¬®ßøûïäëñö aeoAEO", max_size=20),
    st.dates(dt.date(1900, 3, 1), dt.date(2100, 1, 1)),
    st.sampled_from(["=HYPERLINK(\"x\")", "+SUM(1)", "@A1", "-1", "45%", "0,45", "1.234,5",
                     "20/01/2021", "Kế hoạch", "ke hoach"]),
)


def _legal(value: object) -> bool:
    """What a spreadsheet can store in a cell (no control characters, 32,767 chars)."""
    return not isinstance(value, str) or all(c >= " " or c in "\t\n" for c in value)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({k: cell_value.filter(_legal) for k in CELLS}))
def test_random_values_are_accepted_exactly_or_reported(typed):
    values: dict = {}
    for kind, (form, row, col) in CELLS.items():
        values.setdefault(form, {}).setdefault(row, {})[col] = typed[kind]
    with tempfile.TemporaryDirectory() as folder:
        inbox = Path(folder)
        write_workbook(inbox / "TX01.xlsx", CAMPAIGN, values=values)
        result = ingest(inbox, CAMPAIGN)
        select(result.submissions, UNITS, UNITS.get("TX"), CAMPAIGN)
        frames = validate(CAMPAIGN, result.submissions)
    (sub,) = result.submissions
    assert sub.status in ("accepted", "rejected"), sub.findings
    raws = {(c.form, c.row, c.column): c.raw for c in sub.cells}
    reported = {(f.form, f.cell) for f in sub.findings}
    for form, row, col in CELLS.values():
        column = CAMPAIGN.form(form).column(col)
        parsed = parse_value(raws[(form, row, col)], column)
        where = (form, cell_of(CAMPAIGN, form, row, col))
        if parsed.problem or parsed.warning:
            assert where in reported, (where, typed, parsed)
        if sub.status != "accepted" or parsed.value is None:
            continue
        frame = frames[form]
        got = list(frame.loc[frame["row"] == row, col])
        assert len(got) == 1
        if isinstance(parsed.value, float):
            assert math.isclose(got[0], parsed.value), (where, got, parsed)
        else:
            assert got[0] == parsed.value, (where, got, parsed)
