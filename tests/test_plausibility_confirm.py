"""A unit confirms a flagged figure in its template's «Xác nhận số liệu đúng» cell, and the
figure is not flagged again (issue 17 item 3).

Real templates are filled with realistic figures and typos planted in several units; each
unit writes something else in a confirmation cell («x», a cell list with a reason, a
lowercase reference, ``PL2!N9``, junk, a cell that holds no value, another form's cell). The
same inbox is consolidated without any confirmation first: the warnings that go away are
exactly the confirmed ones, read back from findings.csv and the feedback workbooks. Cells
come from each template's own ``_meta`` map; expectations from the values this test typed.
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
from openpyxl.utils.cell import coordinate_from_string

from toolkit._infra.paths import samples_dir
from toolkit.history.confirm import references
from toolkit.pipeline import consolidate
from toolkit.report.feedback import FEEDBACK_SHEET
from toolkit.report.outputs import write_outputs
from toolkit.spec.confirm import CONFIRM_KEY, CONFIRM_LABEL, CONFIRM_ROW
from toolkit.spec.load import load_campaign
from toolkit.spec.meta import META_SHEET, parse_meta
from toolkit.spec.units import load_units
from toolkit.testing import fill_workbook, realistic_values, typical_levels, unit_levels
from toolkit.write.templates import template_bytes

CAMPAIGN = load_campaign("nq02-2020")
UNITS = load_units(samples_dir() / "units.csv")
OFFICE = UNITS.get("TX")
CHILDREN = UNITS.children(OFFICE.code)
PL4_A = ("PL4", "2018", "co_so_so_nguoi")
PL4_B = ("PL4", "2018", "tinh_so_nguoi")
PL2_A = ("PL2", "-", "bch_so_luong")
WHEN = dt.datetime(2021, 1, 15, 9, 0)


def _confirm(form: str) -> tuple[str, str, str]:
    return (form, CONFIRM_ROW, CONFIRM_KEY)


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def _map(book_bytes: bytes) -> dict[tuple[str, str, str], str]:
    book = load_workbook(io.BytesIO(book_bytes), read_only=True)
    meta = parse_meta([tuple(r) for r in book[META_SHEET].iter_rows(values_only=True)])
    return {(c.form, c.row, c.column): c.cell for c in meta.cells}


def _plans() -> list[tuple[str, tuple[tuple[str, str, str], ...], Any, Any]]:
    """(name, planted cells, confirmation texts per form from the map, what is confirmed:
    the planted keys, or "PL4" for the whole form)."""
    return [
        ("x", (PL4_A, PL2_A), lambda m: {"PL4": "x"}, "PL4"),
        ("list", (PL4_A, PL4_B),
         lambda m: {"PL4": f"{m[PL4_A]}, số liệu đúng vì năm 2018 mở thêm lớp"}, {PL4_A}),
        ("two", (PL4_A, PL4_B), lambda m: {"PL4": f"{m[PL4_A]};{m[PL4_B]}"}, {PL4_A, PL4_B}),
        ("lower", (PL4_A,), lambda m: {"PL4": m[PL4_A].lower()}, {PL4_A}),
        ("sheet", (PL2_A, PL4_A), lambda m: {"PL2": f"PL2!{m[PL2_A]}"}, {PL2_A}),
        ("formula", (PL4_A, PL2_A), lambda m: {"PL4": "=1+1"}, "PL4"),
        ("sql", (PL4_A,), lambda m: {"PL4": "'; DROP TABLE values; --"}, "PL4"),
        ("nocell", (PL4_A,), lambda m: {"PL4": "Z99 đúng"}, set()),
        ("otherform", (PL4_A,), lambda m: {"PL6": "x"}, set()),
        ("words", (PL4_A,), lambda m: {"PL4": "Đã kiểm tra, số liệu PL4 đúng"}, "PL4"),
    ]


def _write_inbox(inbox: Path, *, confirm: bool) -> dict[str, Any]:
    inbox.mkdir()
    rng = random.Random("plausibility-confirm")
    typical = typical_levels(CAMPAIGN, rng)
    values = {u.code: realistic_values(CAMPAIGN, unit_levels(typical, rng), rng)
              for u in CHILDREN}
    medians = {k: statistics.median(float(v[k]) for v in values.values())
               for k in (PL4_A, PL4_B, PL2_A)}
    plans = _plans()
    planted: dict[str, tuple[Any, ...]] = {}
    maps: dict[str, dict[tuple[str, str, str], str]] = {}
    for unit, (name, cells, texts, confirmed) in zip(CHILDREN[2::3], plans, strict=False):
        for key in cells:
            values[unit.code][key] = max(round(medians[key]), 5) * 60
        planted[unit.code] = (name, cells, texts, confirmed)
    for unit in CHILDREN:
        template = template_bytes(CAMPAIGN, unit, OFFICE)
        maps[unit.code] = _map(template)
        typed = dict(values[unit.code])
        if confirm and unit.code in planted:
            for form, text in planted[unit.code][2](maps[unit.code]).items():
                typed[_confirm(form)] = text
        (inbox / f"{unit.code}.xlsx").write_bytes(fill_workbook(template, typed,
                                                                modified=WHEN))
    return {"planted": planted, "maps": maps, "values": values}


def _warnings(path: Path) -> set[tuple[str, str, str]]:
    return {(r["unit_code"], r["form"], r["cell"]) for r in _csv(path)
            if r["code"].startswith("plausibility")}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("confirm")
    out: dict[str, Any] = {}
    for name, confirm in (("plain", False), ("confirmed", True)):
        made = _write_inbox(tmp / f"hop-thu-{name}", confirm=confirm)
        result = consolidate(tmp / f"hop-thu-{name}", CAMPAIGN, UNITS, OFFICE,
                             cache=tmp / f"cache-{name}.sqlite")
        paths = write_outputs(result, None, tmp / f"ket-qua-{name}")
        out[name] = {**made, "result": result, "paths": paths}
    out["tmp"] = tmp
    return out


def _expected_gone(run: dict[str, Any], before: set[tuple[str, str, str]]
                   ) -> set[tuple[str, str, str]]:
    gone = set()
    for unit, (_name, _cells, _texts, confirmed) in run["planted"].items():
        m = run["maps"][unit]
        if confirmed == "PL4":
            gone |= {w for w in before if w[0] == unit and w[1] == "PL4"}
        else:
            gone |= {(unit, key[0], m[key]) for key in confirmed}
    return gone


def test_every_planted_figure_is_flagged_without_a_confirmation(runs: dict[str, Any]) -> None:
    run = runs["plain"]
    flagged = _warnings(run["paths"].findings_csv)
    for unit, (_name, cells, _texts, _c) in run["planted"].items():
        for key in cells:
            assert (unit, key[0], run["maps"][unit][key]) in flagged, (unit, key)
    assert len(run["planted"]) == len(_plans())


def test_exactly_the_confirmed_warnings_disappear(runs: dict[str, Any]) -> None:
    before = _warnings(runs["plain"]["paths"].findings_csv)
    after = _warnings(runs["confirmed"]["paths"].findings_csv)
    gone = _expected_gone(runs["confirmed"], before)
    assert gone <= before
    assert after == before - gone
    # every kind of confirmation took something away, except those that confirm nothing
    by_name = {p[0]: unit for unit, p in runs["confirmed"]["planted"].items()}
    for name in ("x", "list", "two", "lower", "sheet", "formula", "sql", "words"):
        assert any(w[0] == by_name[name] for w in before - after), name
    for name in ("nocell", "otherform"):
        unit = by_name[name]
        assert {w for w in before if w[0] == unit} == {w for w in after if w[0] == unit}


def test_files_stay_accepted_and_the_note_is_never_a_value(runs: dict[str, Any]) -> None:
    run = runs["confirmed"]
    subs = {r["unit_code"]: r["status"] for r in _csv(run["paths"].submissions_csv)}
    assert all(subs[u.code] == "accepted" for u in CHILDREN)
    rows = _csv(run["paths"].values_csv)
    assert CONFIRM_KEY not in {r["column"] for r in rows}
    notes = [note for unit, (_n, _cells, texts, _c) in run["planted"].items()
             for note in texts(run["maps"][unit]).values()]
    assert len(notes) == len(_plans()) and not set(notes) & {r["value"] for r in rows}
    plain = _csv(runs["plain"]["paths"].values_csv)
    assert len(rows) == len(plain)  # the same figures, the notes added nothing
    found = [f for f in run["result"].findings
             if f.code in ("spec_changed", "formula_in_input", "layout_shifted",
                           "layout_damaged")]
    assert found == []
    summary = load_workbook(run["paths"].summary, read_only=True)
    shown = {str(v) for ws in summary.worksheets for r in ws.iter_rows(values_only=True)
             for v in r if v is not None}
    assert not any("DROP TABLE" in v or v == "=1+1" for v in shown)


def test_the_warning_says_where_to_confirm(runs: dict[str, Any]) -> None:
    run = runs["confirmed"]
    by_name = {p[0]: unit for unit, p in run["planted"].items()}
    unit = by_name["list"]  # PL4_A confirmed, PL4_B still flagged
    m = run["maps"][unit]
    rows = [r for r in _csv(run["paths"].findings_csv)
            if r["unit_code"] == unit and r["code"].startswith("plausibility")]
    assert [r["cell"] for r in rows] == [m[PL4_B]]
    hint = (f"Nếu số liệu đúng, ghi «x» hoặc {m[PL4_B]} vào ô Xác nhận "
            f"(PL4!{m[_confirm('PL4')]}) rồi gửi lại")
    assert hint in rows[0]["message"]
    (path,) = [p for p in run["paths"].feedback if p.name.startswith(f"{unit}_")]
    book = load_workbook(path)
    listed = [str(v) for r in book[FEEDBACK_SHEET].iter_rows(values_only=True) for v in r
              if v is not None]
    assert any(hint in v for v in listed)
    assert not any(m[PL4_A] in v and "Cảnh báo" in v for v in listed if "!" in v)
    # the unit's own text is still in its file, beside the label
    ws = book["PL4"]
    cell = ws[m[_confirm("PL4")]]
    assert str(cell.value).startswith(m[PL4_A])
    assert str(ws.cell(cell.row, 1).value).startswith(CONFIRM_LABEL)


def test_a_rerun_from_the_read_cache_confirms_the_same(runs: dict[str, Any]) -> None:
    tmp = runs["tmp"]
    again = consolidate(tmp / "hop-thu-confirmed", CAMPAIGN, UNITS, OFFICE,
                        cache=tmp / "cache-confirmed.sqlite")
    assert again.cache is not None and again.cache.hits == len(CHILDREN)
    first = {(f.unit_code, f.form, f.cell) for f in runs["confirmed"]["result"].findings
             if f.code.startswith("plausibility")}
    assert {(f.unit_code, f.form, f.cell) for f in again.findings
            if f.code.startswith("plausibility")} == first


def test_the_template_has_one_confirmation_cell_per_form_with_figures() -> None:
    data = template_bytes(CAMPAIGN, CHILDREN[0], OFFICE)
    cells = _map(data)
    book = load_workbook(io.BytesIO(data))
    assert not any(f == "PL1" and k == CONFIRM_KEY for f, _r, k in cells)  # a list: no cell
    for form in (f for f in CAMPAIGN.forms if f.id != "PL1"):
        a1 = cells[_confirm(form.id)]
        ws = book[form.sheet]
        cell = ws[a1]
        assert cell.protection.locked is False
        assert str(ws.cell(cell.row, 1).value).startswith(CONFIRM_LABEL)
        merged = next((r for r in ws.merged_cells.ranges if a1 in r), None)
        values = [ws[c] for (f, _r, k), c in cells.items() if f == form.id and k != CONFIRM_KEY]
        # as wide as the rest of the table: it ends under the last column number "(n)"
        numbers = next(r for r in ws.iter_rows() if r[0].value == "(1)")
        last = max(c.column for c in numbers if str(c.value or "").startswith("("))
        assert (merged.max_col if merged else cell.column) == last
        assert cell.row > max(v.row for v in values)
        area = ws.print_area if isinstance(ws.print_area, str) else ws.print_area[0]
        last_printed = int(area.rsplit("$", 1)[1])
        assert last_printed > cell.row + 2  # the signature block comes after it


def test_an_older_template_without_the_cell_reads_as_before(tmp_path: Path) -> None:
    """A template made before the confirmation cell existed (its map has no such row)."""
    unit = CHILDREN[0]
    template = template_bytes(CAMPAIGN, unit, OFFICE)
    book = load_workbook(io.BytesIO(template))
    meta = book[META_SHEET]
    for row in reversed(range(1, meta.max_row + 1)):
        if meta.cell(row, 4).value == CONFIRM_KEY:
            meta.delete_rows(row)
    old = io.BytesIO()
    book.save(old)
    rng = random.Random("old-template")
    values = realistic_values(CAMPAIGN, unit_levels(typical_levels(CAMPAIGN, rng), rng), rng)
    assert _confirm("PL4") not in _map(old.getvalue())
    inbox = tmp_path / "hop-thu"
    inbox.mkdir()
    (inbox / "cu.xlsx").write_bytes(fill_workbook(old.getvalue(), values, modified=WHEN))
    result = consolidate(inbox, CAMPAIGN, UNITS, OFFICE)
    (sub,) = result.submissions
    assert sub.status == "accepted", sub.findings
    assert not [f for f in sub.findings if f.code == "spec_changed"]
    assert sub.confirmations == []
    def plain(v: Any) -> Any:
        return v.date() if isinstance(v, dt.datetime) else v

    typed = {(c.form, c.row, c.column): plain(c.raw) for c in sub.cells if c.raw is not None}
    assert typed == {k: plain(v) for k, v in values.items() if v is not None}


@pytest.mark.parametrize(("text", "expected"), [
    ("x", []),
    ("D14", [("", "D14")]),
    ("d14, f14", [("", "D14"), ("", "F14")]),
    ("PL2!D14; E15 lý do: mở rộng", [("PL2", "D14"), ("", "E15")]),
    ("$D$14.", [("", "D14")]),
    ("=1+1", []),
    ("'; DROP TABLE x; --", []),
    ("Biểu PL4 đúng", []),
    ("TX01 2018", []),
])
def test_references_in_a_confirmation(text: str, expected: list[tuple[str, str]]) -> None:
    assert references(text, ["PL4", "PL2"]) == expected


def _filled(unit_code: str, typed: dict[tuple[str, str, str], Any]
            ) -> tuple[bytes, dict[tuple[str, str, str], str]]:
    unit = UNITS.get(unit_code)
    template = template_bytes(CAMPAIGN, unit, OFFICE)
    rng = random.Random(unit_code)
    values = realistic_values(CAMPAIGN, unit_levels(typical_levels(CAMPAIGN, rng), rng), rng)
    return fill_workbook(template, {**values, **typed}, modified=WHEN), _map(template)


def _read_one(tmp_path: Path, data: bytes) -> Any:
    inbox = tmp_path / "hop-thu"
    inbox.mkdir()
    (inbox / "tep.xlsx").write_bytes(data)
    (sub,) = consolidate(inbox, CAMPAIGN, UNITS, OFFICE).submissions
    return sub


def test_rows_inserted_above_the_table_move_the_confirmation_too(tmp_path: Path) -> None:
    """A unit that unprotected PL4 and inserted two rows above the table: the figures and the
    confirmation are read where they went (beside the label)."""
    data, cells = _filled(CHILDREN[1].code, {_confirm("PL4"): "E14 đúng"})
    book = load_workbook(io.BytesIO(data))
    book["PL4"].insert_rows(1, 2)
    moved = io.BytesIO()
    book.save(moved)
    sub = _read_one(tmp_path, moved.getvalue())
    (note,) = [c for c in sub.confirmations if c.form == "PL4"]
    old = cells[_confirm("PL4")]
    assert note.raw == "E14 đúng"
    letter, row = coordinate_from_string(old)
    assert note.cell == f"{letter}{row + 2}"
    assert "layout_shifted" in {f.code for f in sub.findings}


def test_without_its_label_the_cell_is_not_read(tmp_path: Path) -> None:
    """The label is what says the cell is the confirmation: a sheet whose label was
    overwritten gives no confirmation (a value is never taken from a cell that may be
    another), and the file is read as usual."""
    data, cells = _filled(CHILDREN[1].code, {_confirm("PL4"): "x"})
    book = load_workbook(io.BytesIO(data))
    ws = book["PL4"]
    ws.cell(ws[cells[_confirm("PL4")]].row, 1).value = "Ghi chú của đơn vị"
    changed = io.BytesIO()
    book.save(changed)
    sub = _read_one(tmp_path, changed.getvalue())
    assert sub.status == "accepted"
    assert [c.form for c in sub.confirmations] == ["PL2", "PL3", "PL5", "PL6"]
    assert all(c.raw is None for c in sub.confirmations)
