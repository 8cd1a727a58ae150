"""Plausibility warnings end to end: real templates filled with realistic figures, a few
typos planted, ``consolidate`` → the warning on the unit's cell in its feedback workbook, in
findings.csv, in the summary's «Cần kiểm tra» column and on the terminal; the files stay
accepted and their figures are summed.

Cells are found through each template's own ``_meta`` map; the expected numbers come from the
values this test put into the workbooks.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import statistics
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from toolkit._infra.paths import samples_dir
from toolkit.pipeline import consolidate
from toolkit.report.feedback import FEEDBACK_SHEET, WARNING_FILL
from toolkit.report.outputs import write_outputs
from toolkit.report.terminal import render_run_summary
from toolkit.spec.load import load_campaign
from toolkit.spec.meta import META_SHEET, parse_meta
from toolkit.spec.units import load_units
from toolkit.testing import fill_workbook, realistic_values, typical_levels, unit_levels
from toolkit.write.templates import template_bytes

CAMPAIGN = load_campaign("nq02-2020")
UNITS = load_units(samples_dir() / "units.csv")
OFFICE = UNITS.get("TX")
PEER = ("PL4", "2018", "co_so_so_nguoi")  # a ×50 typo: far from the other communes
JUMP = ("PL2", "-", "btv_so_luong")  # 15 → 150 since the unit's last report


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def _cell_of(book_bytes: bytes, key: tuple[str, str, str]) -> tuple[str, str]:
    book = load_workbook(io.BytesIO(book_bytes), read_only=True)
    meta = parse_meta([tuple(r) for r in book[META_SHEET].iter_rows(values_only=True)])
    return next((c.sheet, c.cell) for c in meta.cells if (c.form, c.row, c.column) == key)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("plausibility")
    inbox, out = tmp / "hop-thu", tmp / "ket-qua"
    inbox.mkdir()
    rng = random.Random("plausibility-e2e")
    typical = typical_levels(CAMPAIGN, rng)
    children = UNITS.children(OFFICE.code)
    values = {u.code: realistic_values(CAMPAIGN, unit_levels(typical, rng), rng)
              for u in children}
    peer_unit, jump_unit = children[4].code, children[9].code
    plain = statistics.median(float(v[PEER]) for v in values.values())
    values[peer_unit][PEER] = round(plain) * 50
    values[jump_unit][JUMP] = 150
    previous = {(jump_unit, *JUMP): 15.0}
    templates = {}
    for unit in children:
        templates[unit.code] = template_bytes(CAMPAIGN, unit, OFFICE)
        book = fill_workbook(templates[unit.code], values[unit.code],
                             modified=dt.datetime(2021, 1, 15, 9, 0))
        (inbox / f"{unit.code}.xlsx").write_bytes(book)
    result = consolidate(inbox, CAMPAIGN, UNITS, OFFICE, previous=previous)
    paths = write_outputs(result, None, out)
    return {"result": result, "paths": paths, "values": values, "templates": templates,
            "peer_unit": peer_unit, "jump_unit": jump_unit, "children": children,
            "median": statistics.median(float(v[PEER]) for v in values.values())}


def test_warnings_are_on_their_cells_in_findings_csv(run: dict[str, Any]) -> None:
    rows = [r for r in _csv(run["paths"].findings_csv) if r["code"].startswith("plausibility")]
    peer_cell = _cell_of(run["templates"][run["peer_unit"]], PEER)
    jump_cell = _cell_of(run["templates"][run["jump_unit"]], JUMP)
    got = {(r["unit_code"], r["form"], r["cell"], r["code"], r["severity"]) for r in rows}
    assert got == {
        (run["peer_unit"], peer_cell[0], peer_cell[1], "plausibility_peer", "warning"),
        (run["jump_unit"], jump_cell[0], jump_cell[1], "plausibility_jump", "warning"),
    }
    peer = next(r for r in rows if r["code"] == "plausibility_peer")
    typed = run["values"][run["peer_unit"]][PEER]
    times = round(typed / run["median"])
    n = len(run["children"])
    assert (f"PL4!{peer_cell[1]} — Cơ sở tổ chức › Số người tham gia (năm 2018): "
            f"{typed:,}".replace(",", ".") + f", gấp {times} lần trung vị của {n} cơ sở"
            in peer["message"]), peer["message"]
    jump = next(r for r in rows if r["code"] == "plausibility_jump")
    assert "150, gấp 10 lần kỳ báo cáo trước (15); kiểm tra lại" in jump["message"]


def test_warned_files_stay_accepted_and_summed(run: dict[str, Any]) -> None:
    subs = {r["unit_code"]: r for r in _csv(run["paths"].submissions_csv)}
    assert subs[run["peer_unit"]]["status"] == subs[run["jump_unit"]]["status"] == "accepted"
    assert all(subs[u.code]["status"] == "accepted" for u in run["children"])
    values = {(r["unit_code"], r["form"], r["row"], r["column"]): r["value"]
              for r in _csv(run["paths"].values_csv)}
    assert float(values[(run["peer_unit"], *PEER)]) == run["values"][run["peer_unit"]][PEER]


def test_feedback_workbook_shows_the_warning_at_the_cell(run: dict[str, Any]) -> None:
    unit = run["peer_unit"]
    (path,) = [p for p in run["paths"].feedback if p.name.startswith(f"{unit}_")]
    book = load_workbook(path)
    sheet, cell = _cell_of(run["templates"][unit], PEER)
    marked = book[sheet][cell]
    assert marked.fill.fgColor.rgb.endswith(WARNING_FILL)
    assert marked.comment is not None and marked.comment.text.startswith("Cảnh báo:")
    assert "gấp" in marked.comment.text and "trung vị" in marked.comment.text
    rows = list(book[FEEDBACK_SHEET].iter_rows(values_only=True))
    listed = [r for r in rows if cell in r and "Cảnh báo" in r]
    assert len(listed) == 1 and any("kiểm tra lại" in str(v) for v in listed[0])
    assert any("Không có lỗi; có 1 cảnh báo cần xem lại" in str(v) for r in rows for v in r)
    # only the warned units get a feedback workbook for it
    assert not [p for p in run["paths"].feedback
                if p.name.startswith(run["children"][0].code + "_")]


def test_status_sheet_lists_the_cells_to_check(run: dict[str, Any]) -> None:
    book = load_workbook(run["paths"].summary)
    rows = list(book["Tình hình nộp"].iter_rows(values_only=True))
    top = next(i for i, r in enumerate(rows) if r[0] == "TT")
    col = rows[top].index("Cần kiểm tra")
    shown = {r[1]: r[col] for r in rows[top + 1:] if r[1]}
    peer = "!".join(_cell_of(run["templates"][run["peer_unit"]], PEER))
    jump = "!".join(_cell_of(run["templates"][run["jump_unit"]], JUMP))
    assert shown.pop(run["peer_unit"]) == peer
    assert shown.pop(run["jump_unit"]) == jump
    assert set(shown.values()) <= {None, ""}
    assert int(book["Tình hình nộp"].page_setup.paperSize) == 9  # still A4


def test_terminal_names_the_units_and_cells(run: dict[str, Any]) -> None:
    text = render_run_summary(run["result"], run["paths"])
    assert "Số liệu cần kiểm tra lại (2 ô, 2 đơn vị" in text
    name = UNITS.get(run["peer_unit"]).name
    peer = "!".join(_cell_of(run["templates"][run["peer_unit"]], PEER))
    assert f"  {name} ({run['peer_unit']}): {peer}" in text


def test_a_failing_check_never_stops_the_run(run: dict[str, Any], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import toolkit.pipeline

    def broken(*_a: Any, **_k: Any) -> list[Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(toolkit.pipeline, "plausibility_findings", broken)
    inbox = run["paths"].summary.parent.parent / "hop-thu"
    result = consolidate(inbox, CAMPAIGN, UNITS, OFFICE)
    assert all(result.status_of(u.code) == "accepted" for u in run["children"])
    assert not [f for f in result.findings if f.code.startswith("plausibility")]
