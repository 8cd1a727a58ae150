"""Units files of the five-level hierarchy: every spelling of a level a clerk may type,
parents at any higher level, merged and renamed units (successor column and date), and the
Vietnamese messages for a successor that cannot be used."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook

from toolkit.spec.units import UnitsError, load_units

# what a clerk types → the level it means (this test's own table)
SPELLINGS: dict[str, tuple[str, ...]] = {
    "trung_uong": ("trung_uong", "Trung ương", "TW", "tw", "cấp trung ương", "Cấp Trung Ương",
                   "Trung ương Đoàn", "TRUNG UONG"),
    "tinh": ("tinh", "Tỉnh", "TỈNH", "cấp tỉnh", "Tỉnh đoàn", "tinh doan"),
    "huyen": ("huyen", "Huyện", "cấp huyện", "Huyện đoàn", "Quận", "Quận đoàn", "Thị đoàn",
              "Thị xã", "Đoàn Khối", "đoàn khối", "Đoàn trực thuộc"),
    "co_so": ("co_so", "co so", "Cơ sở", "cấp cơ sở", "Đoàn cơ sở", "Cơ sở Đoàn",
              "Chi đoàn cơ sở", "Xã", "xã", "Phường", "Thị trấn", "Đặc khu", "Đoàn xã",
              "cấp xã"),
    "chi_doan": ("chi_doan", "Chi đoàn", "cấp chi đoàn", "CHI ĐOÀN"),
}
CHAIN = ("trung_uong", "tinh", "huyen", "co_so", "chi_doan")
HEADER = "code,name,level,parent,email"


def _write(tmp_path: Path, lines: list[str], name: str = "don-vi.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _chain(levels: dict[str, str]) -> list[str]:
    """A five-level chain A → B → C → D → E with each level spelled as given."""
    lines = [HEADER]
    parent = ""
    for i, key in enumerate(CHAIN):
        code = "ABCDE"[i]
        lines.append(f'{code},Đơn vị {code},"{levels[key]}",{parent},')
        parent = code
    return lines


@pytest.mark.parametrize("key", CHAIN)
def test_every_spelling_of_every_level(tmp_path: Path, key: str) -> None:
    for n, spelling in enumerate(SPELLINGS[key]):
        levels = {k: SPELLINGS[k][0] for k in CHAIN} | {key: spelling}
        units = load_units(_write(tmp_path, _chain(levels), f"u{n}.csv"))
        got = {u.code: u.level for u in units.units.values()}
        assert got == dict(zip("ABCDE", CHAIN, strict=True)), spelling


def test_thanh_doan_is_ambiguous_and_says_so(tmp_path: Path) -> None:
    lines = [HEADER, "T,Tỉnh đoàn,Tỉnh,,", "HN,Thành đoàn Thanh Hóa,Thành đoàn,T,"]
    with pytest.raises(UnitsError, match=r"dòng 3: cấp 'Thành đoàn' không hợp lệ.*Tỉnh "
                                         r"hoặc Huyện"):
        load_units(_write(tmp_path, lines))


def test_children_at_any_lower_level(tmp_path: Path) -> None:
    lines = [HEADER, "TW,Trung ương Đoàn,TW,,", "T,Tỉnh đoàn,Tỉnh,TW,",
             "X1,Đoàn xã 1,Xã,T,", "K,Đoàn Khối,Đoàn Khối,T,", "C,Chi đoàn 1,Chi đoàn,T,",
             "X2,Đoàn xã 2,Xã,K,"]
    units = load_units(_write(tmp_path, lines))
    assert [(u.code, u.level) for u in units.children("T")] == [
        ("X1", "co_so"), ("K", "huyen"), ("C", "chi_doan")]
    assert [u.code for u in units.children("TW")] == ["T"]


@pytest.mark.parametrize(("child", "parent"), [
    ("tinh", "tinh"), ("huyen", "co_so"), ("tinh", "huyen"), ("trung_uong", "tinh"),
    ("co_so", "chi_doan"), ("co_so", "co_so")])
def test_a_parent_below_or_beside_its_child_is_refused(tmp_path: Path, child: str,
                                                       parent: str) -> None:
    lines = [HEADER, f"P,Đơn vị trên,{parent},,", f"C,Đơn vị dưới,{child},P,"]
    with pytest.raises(UnitsError, match=r"dòng 3: đơn vị C \(Đơn vị dưới, .*\) không thể "
                                         r"trực thuộc Đơn vị trên .*phải ở cấp cao hơn"):
        load_units(_write(tmp_path, lines))


# ------------------------------------------------------------------ merged and renamed units

MERGE_HEADERS = [("successor", "merged_on"), ("thay_the_boi", "Ngày sáp nhập"),
                 ("merged_into", "merged_on"), ("Thay thế bởi", "Ngày sáp nhập"),
                 ("Sáp nhập vào", "Ngày sáp nhập"), ("Đơn vị kế thừa", "Ngày sáp nhập")]
DATES = ["01/07/2025", "1/7/2025", "2025-07-01", "01-07-2025", "01.07.2025"]


@pytest.mark.parametrize(("succ", "when"), MERGE_HEADERS)
@pytest.mark.parametrize("date", DATES)
def test_successor_columns_and_dates(tmp_path: Path, succ: str, when: str, date: str) -> None:
    lines = [f"{HEADER},{succ},{when}", "T,Tỉnh đoàn,Tỉnh,,,,",
             "X1,Đoàn xã Xuân Hòa,Xã,T,,,", f"X2,Đoàn xã Xuân Minh,Xã,T,,X1,{date}",
             "X3,Đoàn xã Xuân Lập,Xã,T,,Đoàn xã Xuân Hòa,", "X4,Đoàn xã Mới,Xã,T,,x1,"]
    units = load_units(_write(tmp_path, lines))
    assert units.get("X2").successor == "X1"
    assert units.get("X2").merged_on == dt.date(2025, 7, 1)
    assert units.get("X3").successor == "X1"  # by name
    assert units.get("X4").successor == "X1"  # code in another case
    assert [u.code for u in units.children("T")] == ["X1"]
    assert [u.code for u in units.children("T", merged=True)] == ["X1", "X2", "X3", "X4"]
    assert units.current("X2").code == "X1"
    assert [u.code for u in units.predecessors("X1")] == ["X2", "X3", "X4"]


def test_chain_of_mergers_ends_at_the_unit_that_reports(tmp_path: Path) -> None:
    lines = [f"{HEADER},successor", "T,Tỉnh đoàn,Tỉnh,,,", "A,Đoàn xã A,Xã,T,,B",
             "B,Đoàn xã B,Xã,T,,C", "C,Đoàn xã C,Xã,T,,"]
    units = load_units(_write(tmp_path, lines))
    assert units.current("A").code == "C"
    assert [u.code for u in units.children("T")] == ["C"]


def test_merger_date_from_a_workbook_date_cell_and_an_excel_number(tmp_path: Path) -> None:
    book = Workbook()
    ws = book.active
    ws.append(["Mã", "Tên đơn vị", "Cấp", "Đơn vị cấp trên", "Email", "Thay thế bởi",
               "Ngày sáp nhập"])
    ws.append(["T", "Tỉnh đoàn", "Tỉnh", None, None, None, None])
    ws.append(["X1", "Đoàn xã 1", "Xã", "T", None, None, None])
    ws.append(["X2", "Đoàn xã 2", "Xã", "T", None, "X1", dt.datetime(2025, 7, 1)])
    ws.append(["X3", "Đoàn xã 3", "Xã", "T", None, "X1", 45839])  # 2025-07-01 as a number
    path = tmp_path / "don-vi.xlsx"
    book.save(path)
    units = load_units(path)
    assert units.get("X2").merged_on == dt.date(2025, 7, 1)
    assert units.get("X3").merged_on == dt.date(2025, 7, 1)


BAD_SUCCESSORS = [
    (["A,Đoàn xã A,Xã,T,,ZZ"], r"dòng 3: đơn vị A \(Đoàn xã A\) ghi «Thay thế bởi» 'ZZ', "
                               r"không có đơn vị nào mã hoặc tên như vậy"),
    (["A,Đoàn xã A,Xã,T,,A"], r"dòng 3: đơn vị A \(Đoàn xã A\) không thể được thay thế bởi "
                              r"chính nó"),
    (["A,Đoàn xã A,Xã,T,,B", "B,Đoàn xã B,Xã,T,,A"],
     r"dòng 3: các đơn vị A → B → A thay thế nhau thành vòng"),
    (["A,Đoàn xã A,Xã,T,,B", "B,Đoàn xã B,Xã,T,,C", "C,Đoàn xã C,Xã,T,,Đoàn xã A"],
     r"các đơn vị A → B → C → A thay thế nhau thành vòng"),
    (["A,Đoàn xã A,Xã,T,,", "B,Đoàn xã A,Xã,T,,", "C,Đoàn xã C,Xã,T,,Đoàn xã A"],
     r"dòng 5: «Thay thế bởi» 'Đoàn xã A' của đơn vị C trùng tên nhiều đơn vị \(A, B\)"),
]


@pytest.mark.parametrize(("rows", "message"), BAD_SUCCESSORS)
def test_unusable_successor_is_refused_in_vietnamese(tmp_path: Path, rows: list[str],
                                                     message: str) -> None:
    lines = [f"{HEADER},Thay thế bởi", "T,Tỉnh đoàn,Tỉnh,,,", *rows]
    with pytest.raises(UnitsError, match=message):
        load_units(_write(tmp_path, lines))


@pytest.mark.parametrize("date", ["31/02/2025", "hôm qua", "2025-13-01", "7/2025"])
def test_bad_merger_date_is_refused(tmp_path: Path, date: str) -> None:
    lines = [f"{HEADER},Thay thế bởi,Ngày sáp nhập", "T,Tỉnh đoàn,Tỉnh,,,,",
             "A,Đoàn xã A,Xã,T,,,", f"B,Đoàn xã B,Xã,T,,A,{date}"]
    with pytest.raises(UnitsError, match=rf"dòng 4: ngày sáp nhập '{date}' không hợp lệ"):
        load_units(_write(tmp_path, lines))


def test_a_date_without_a_successor_is_refused(tmp_path: Path) -> None:
    lines = [f"{HEADER},Thay thế bởi,Ngày sáp nhập", "T,Tỉnh đoàn,Tỉnh,,,,",
             "A,Đoàn xã A,Xã,T,,,01/07/2025"]
    with pytest.raises(UnitsError, match=r"dòng 3: có ngày sáp nhập nhưng chưa ghi đơn vị "
                                         r"thay thế"):
        load_units(_write(tmp_path, lines))


def test_an_office_whose_children_all_merged_away_has_none(tmp_path: Path) -> None:
    lines = [f"{HEADER},successor", "T,Tỉnh đoàn,Tỉnh,,,", "H,Huyện đoàn,Huyện,T,,",
             "A,Đoàn xã A,Xã,H,,B", "B,Đoàn xã B,Xã,T,,"]
    units = load_units(_write(tmp_path, lines))
    with pytest.raises(UnitsError, match="không có đơn vị trực thuộc nào"):
        units.office("H")


@pytest.mark.parametrize("seed", range(12))
def test_generated_trees_with_skipped_levels(tmp_path: Path, seed: int) -> None:
    """Random trees where each unit sits at any level below its parent (levels skipped at
    random, spelled at random): every unit keeps its level and parent, every office lists
    exactly its children."""
    import random

    rng = random.Random(seed)
    rows = [HEADER, "R,Đơn vị gốc,Trung ương,,"]
    want: dict[str, tuple[str, str]] = {"R": ("trung_uong", "")}
    frontier = ["R"]
    while frontier and len(want) < 40:
        parent = frontier.pop(0)
        below = CHAIN[CHAIN.index(want[parent][0]) + 1:]
        for _ in range(rng.randint(0, 4) if below else 0):
            level = rng.choice(below)
            code = f"U{len(want)}"
            rows.append(f'{code},Đơn vị {code},"{rng.choice(SPELLINGS[level])}",{parent},')
            want[code] = (level, parent)
            frontier.append(code)
    units = load_units(_write(tmp_path, rows))
    assert {u.code: (u.level, u.parent) for u in units.units.values()} == want
    for code in want:
        assert [u.code for u in units.children(code)] == [
            c for c, (_lv, p) in want.items() if p == code]
