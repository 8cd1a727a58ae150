"""What the office's page keeps between runs besides the files (issue 15 item 4): the earlier
period's figures (loaded again only when that period's files or the units change) and a
file's longest text. Each kept answer must equal the one worked out afresh."""

from __future__ import annotations

from pathlib import Path

from toolkit.check.validate import EXCEL_CELL_CHARS, long_texts
from toolkit.history.compare import compare_run
from toolkit.history.store import FileValues, HistoryStore
from toolkit.spec.load import load_campaign
from toolkit.spec.models import PackedCells, Submission
from toolkit.spec.units import Unit, UnitRegistry

CAMPAIGN = load_campaign("nq02-2020")
OFFICE = Unit(code="TX", name="Huyện đoàn Thọ Xuân", level="huyen", parent="", email="")
EARLIER = "2011 - 2015"


def _units(successors: dict[str, str] | None = None) -> UnitRegistry:
    units = {"TX": OFFICE}
    for i in range(1, 5):
        code = f"X{i}"
        units[code] = Unit(code=code, name=f"Đoàn xã {i}", level="co_so", parent="TX",
                           email="", successor=(successors or {}).get(code, ""))
    return UnitRegistry(units=units, source="test")


def _record(history: Path, run: str, files: dict[str, float]) -> None:
    """Files of the earlier period: each unit's PL2 «bch_so_luong»."""
    with HistoryStore(history) as store:
        store.record(campaign=CAMPAIGN.id, period=EARLIER, office="TX", generated_at=run,
                     spec_sha256=CAMPAIGN.spec_sha256, inbox_digest=run, source="test",
                     files=[FileValues(code, f"{code}-{value}", f"{code}.xlsx",
                                       [("PL2", "-", "bch_so_luong", value)])
                            for code, value in files.items()])


def _both(history: Path, units: UnitRegistry, memo: dict) -> dict:
    """compare_run with the memo, checked equal to compare_run without it."""
    kept = compare_run(history, CAMPAIGN, {}, units, "TX", memo)
    fresh = compare_run(history, CAMPAIGN, {}, units, "TX")
    assert kept == fresh
    return kept[1]


def test_the_earlier_period_is_kept_until_its_files_or_the_units_change(tmp_path):
    history = tmp_path / "lich-su.sqlite"
    _record(history, "r1", {"X1": 10.0, "X2": 20.0})
    memo: dict = {}
    first = _both(history, _units(), memo)
    assert first == {("X1", "PL2", "-", "bch_so_luong"): 10.0,
                     ("X2", "PL2", "-", "bch_so_luong"): 20.0}
    assert _both(history, _units(), memo) is first  # kept: nothing changed
    # a unit's file of that period arrives late (imported): the figures are loaded again
    _record(history, "r2", {"X3": 7.0})
    assert _both(history, _units(), memo)[("X3", "PL2", "-", "bch_so_luong")] == 7.0
    # a unit resends with another figure: its earlier file is superseded
    _record(history, "r3", {"X1": 12.0})
    assert _both(history, _units(), memo)[("X1", "PL2", "-", "bch_so_luong")] == 12.0
    # X2 merged into X3: its figure counts under X3 from now on
    merged = _both(history, _units({"X2": "X3"}), memo)
    assert merged[("X3", "PL2", "-", "bch_so_luong")] == 27.0
    assert ("X2", "PL2", "-", "bch_so_luong") not in merged


def test_a_long_text_is_found_in_packed_cells_kept_between_runs():
    place = ("PL2", "-", "ghi_chu", "K9")
    for length, found in ((EXCEL_CELL_CHARS, 0), (EXCEL_CELL_CHARS + 1, 1)):
        cells = PackedCells([place, ("PL2", "-", "bch_so_luong", "D9")], ["x" * length, 3.0])
        for _run in range(2):  # the second run takes the length the first worked out
            sub = Submission(file="a.xlsx", path=Path("a.xlsx"), sha256="a", size=1,
                             status="accepted", cells=cells)
            long_texts(CAMPAIGN, [sub])
            assert [f.code for f in sub.findings] == ["text_truncated"] * found
            assert [f.cell for f in sub.findings] == ["K9"] * found
