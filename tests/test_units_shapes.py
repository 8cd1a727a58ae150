"""Units files as offices keep them (issue 18 item 13): every combination of separator
(``,`` ``;``), a title row above the header or not, English or Vietnamese headers, level
keys or Vietnamese level names, and the office code typed in another case — each written
as a real file (CSV, and the same table as .xlsx) and read back to the same units."""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path

import pytest
import xlsxwriter

from toolkit.spec.units import UnitsError, load_units

EN = ("code", "name", "level", "parent", "email")
VI = ("Mã", "Tên đơn vị", "Cấp", "Đơn vị cấp trên", "Email")
# (code, name, level key, parent, email); names carry commas and semicolons on purpose
UNITS = (
    ("TX", "Huyện đoàn Thọ Xuân", "huyen", "", "vp@tx.example"),
    ("TX01", "Đoàn thị trấn Thọ Xuân", "co_so", "TX", "a@tx.example"),
    ("TX02", "Đoàn xã Xuân Hồng; Xuân Trường", "co_so", "TX", "b@tx.example"),
    ("TX03", "Đoàn trường THPT Lê Lợi, Thọ Xuân", "co_so", "TX", ""),
)
LEVELS_VI = {"huyen": "Huyện", "co_so": "Cơ sở", "tinh": "Tỉnh"}
TITLE = ("DANH SÁCH CƠ SỞ ĐOÀN TRỰC THUỘC HUYỆN ĐOÀN THỌ XUÂN",)


def _table(header: tuple[str, ...], title: bool, vi_levels: bool, lower: bool) -> list[list[str]]:
    rows: list[list[str]] = [list(TITLE)] if title else []
    if title:
        rows.append([])  # an empty row under the title, as offices leave it
    rows.append(list(header))
    for code, name, level, parent, email in UNITS:
        rows.append([code.lower() if lower else code, name,
                     LEVELS_VI[level] if vi_levels else level,
                     parent.lower() if lower else parent, email])
    return rows


def _csv(path: Path, rows: list[list[str]], sep: str) -> Path:
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\r\n").writerows(rows)
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))
    return path


def _xlsx(path: Path, rows: list[list[str]]) -> Path:
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("Danh sách")
    for r, row in enumerate(rows):
        ws.write_row(r, 0, row)
    book.close()
    return path


SHAPES = list(itertools.product([",", ";", "xlsx"], [False, True], ["en", "vi"],
                                [False, True], [False, True]))


@pytest.mark.parametrize(("sep", "title", "lang", "vi_levels", "lower"), SHAPES)
def test_every_shape_reads_to_the_same_units(tmp_path: Path, sep: str, title: bool, lang: str,
                                             vi_levels: bool, lower: bool) -> None:
    rows = _table(VI if lang == "vi" else EN, title, vi_levels, lower)
    path = (_xlsx(tmp_path / "don-vi.xlsx", rows) if sep == "xlsx"
            else _csv(tmp_path / "don-vi.csv", rows, sep))
    reg = load_units(path)
    expected = [(c.lower() if lower else c, n, lv, p.lower() if lower else p, e)
                for c, n, lv, p, e in UNITS]
    assert [(u.code, u.name, u.level, u.parent, u.email) for u in reg.units.values()] == (
        expected)
    # the office typed in any case names the same office and its three units
    for typed in ("TX", "tx", " Tx "):
        office = reg.office(typed)
        assert office.name == "Huyện đoàn Thọ Xuân"
        assert [u.name for u in reg.children(office.code)] == [u[1] for u in UNITS[1:]]
    assert reg.get("tx02").name == "Đoàn xã Xuân Hồng; Xuân Trường"


def test_a_bad_row_is_named_by_the_line_the_clerk_sees(tmp_path: Path) -> None:
    rows = _table(VI, True, True, False)
    rows[4][2] = "Thôn"  # TX01's level, on line 5 of the file (title, blank, header, TX)
    with pytest.raises(UnitsError, match=r"dòng 5: cấp 'Thôn' không hợp lệ.*Cơ sở"):
        load_units(_csv(tmp_path / "don-vi.csv", rows, ";"))


def test_parent_given_by_name(tmp_path: Path) -> None:
    """A "Đơn vị cấp trên" column that holds the parent's name, not its code."""
    rows = _table(VI, False, True, False)
    for row in rows[2:]:
        row[3] = "Huyện đoàn Thọ Xuân"
    reg = load_units(_csv(tmp_path / "don-vi.csv", rows, ";"))
    assert [u.code for u in reg.children("TX")] == ["TX01", "TX02", "TX03"]


def test_missing_column_says_both_names(tmp_path: Path) -> None:
    rows = [list(TITLE), ["Mã", "Tên đơn vị", "Đơn vị cấp trên", "Email"], ["TX", "Huyện đoàn",
                                                                           "", ""]]
    with pytest.raises(UnitsError) as err:
        load_units(_csv(tmp_path / "don-vi.csv", rows, ";"))
    assert "thiếu cột: level (Cấp)" in str(err.value)


def test_office_code_ambiguous_by_case_is_not_guessed(tmp_path: Path) -> None:
    rows = [list(EN), ["T", "Tỉnh đoàn", "tinh", "", ""], ["AB", "Huyện đoàn AB", "huyen", "T", ""],
            ["ab", "Huyện đoàn ab", "huyen", "T", ""], ["AB1", "Đoàn xã", "co_so", "AB", ""]]
    reg = load_units(_csv(tmp_path / "don-vi.csv", rows, ","))
    assert reg.office("AB").code == "AB"
    with pytest.raises(UnitsError, match="'Ab'"):
        reg.office("Ab")
