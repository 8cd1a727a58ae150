"""Units file: CSV (with or without BOM) or XLSX, checked row by row with Vietnamese
messages that name the row."""

from __future__ import annotations

from pathlib import Path

import pytest
import xlsxwriter

from toolkit.spec.units import UnitRegistry, UnitsError, load_units

HEADER = "code,name,level,parent,email"
ROWS = [
    "TX,Huyện đoàn Thọ Xuân,huyen,,vp@tx.example",
    "TX01,Đoàn thị trấn Thọ Xuân,co_so,TX,a@tx.example",
    "TX02,Đoàn xã Xuân Hồng,co_so,TX,b@tx.example",
]


def write_csv(tmp_path: Path, lines: list[str], *, bom: bool = False,
              name: str = "units.csv") -> Path:
    path = tmp_path / name
    text = "\n".join(lines) + "\n"
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def test_sample_units(units: UnitRegistry) -> None:
    assert units.root.code == "TDTH"
    assert [u.code for u in units.children("TDTH")] == ["TX", "TS", "NL"]
    assert len(units.children("TX")) == 32
    assert units.parent_of(units.get("TX01")).code == "TX"
    assert units.office(None).code == "TDTH"
    assert units.office("TX").name == "Huyện đoàn Thọ Xuân"


def test_csv_with_bom(tmp_path: Path) -> None:
    reg = load_units(write_csv(tmp_path, [HEADER, *ROWS], bom=True))
    assert list(reg.units) == ["TX", "TX01", "TX02"]  # header "code" despite the BOM
    assert reg.get("TX02").name == "Đoàn xã Xuân Hồng"


def test_header_is_case_and_space_tolerant_and_blank_rows_skipped(tmp_path: Path) -> None:
    reg = load_units(write_csv(tmp_path, [" Code , Name,LEVEL,parent,email", ROWS[0], ",,,,",
                                          ROWS[1]]))
    assert list(reg.units) == ["TX", "TX01"]


def test_names_are_nfc(tmp_path: Path) -> None:
    decomposed = "TX01,Đoa\u0300n xa\u0303 Xuân Hô\u0300ng,co_so,TX,"
    reg = load_units(write_csv(tmp_path, [HEADER, ROWS[0], decomposed]))
    assert reg.get("TX01").name == "Đoàn xã Xuân Hồng"


def test_xlsx_units_file(tmp_path: Path) -> None:
    path = tmp_path / "units.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Đơn vị")
    rows = [["code", "name", "level", "parent", "email"],
            ["TX", "Huyện đoàn Thọ Xuân", "huyen", "", "vp@tx.example"],
            [101, "Đoàn xã Một", "co_so", "TX", ""]]  # a numeric code typed in Excel
    for r, row in enumerate(rows):
        ws.write_row(r, 0, row)
    wb.close()
    reg = load_units(path)
    assert list(reg.units) == ["TX", "101"]
    assert reg.get("101").parent == "TX"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UnitsError, match="Không tìm thấy tệp đơn vị"):
        load_units(tmp_path / "khong-co.csv")


def test_folder_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(UnitsError, match="thư mục"):
        load_units(tmp_path)


def test_missing_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path, ["code,name,parent,email", "TX,Huyện đoàn,,"])
    with pytest.raises(UnitsError, match="thiếu cột: level"):
        load_units(path)


def test_duplicate_code(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [HEADER, *ROWS, "TX01,Đoàn khác,co_so,TX,"])
    with pytest.raises(UnitsError, match=r"dòng 5: mã đơn vị 'TX01' bị trùng"):
        load_units(path)


def test_unknown_parent(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [HEADER, ROWS[0], "TX09,Đoàn xã Chín,co_so,TY,"])
    with pytest.raises(UnitsError, match=r"TX09.*'TY' không có trong tệp"):
        load_units(path)


def test_bad_level(tmp_path: Path) -> None:
    # "xa" (Xã) is a level word now (toolkit.spec.levels); "thon" (a hamlet) is not
    path = write_csv(tmp_path, [HEADER, ROWS[0], "TX01,Đoàn xã,thon,TX,"])
    with pytest.raises(UnitsError, match=r"dòng 3: cấp 'thon' không hợp lệ"):
        load_units(path)


def test_missing_code_or_name(tmp_path: Path) -> None:
    with pytest.raises(UnitsError, match="dòng 3: thiếu mã đơn vị"):
        load_units(write_csv(tmp_path, [HEADER, ROWS[0], ",Đoàn xã,co_so,TX,"]))
    with pytest.raises(UnitsError, match="dòng 3: thiếu tên đơn vị"):
        load_units(write_csv(tmp_path, [HEADER, ROWS[0], "TX01,,co_so,TX,"]))


def test_no_root(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [HEADER, "A,Đoàn A,huyen,B,", "B,Đoàn B,huyen,A,"])
    with pytest.raises(UnitsError, match="không có đơn vị gốc"):
        load_units(path)


def test_own_parent(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [HEADER, ROWS[0], "A,Đoàn A,co_so,A,"])
    with pytest.raises(UnitsError, match="cấp trên của chính nó"):
        load_units(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_bytes((HEADER + "\nTX,Huyện đoàn Thọ Xuân,huyen,,\n").encode("utf-16-le"))
    with pytest.raises(UnitsError, match="không phải UTF-8"):
        load_units(path)


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(UnitsError, match=r"trống|không có dòng"):
        load_units(write_csv(tmp_path, [HEADER]))


def test_unknown_office_code(tmp_path: Path) -> None:
    reg = load_units(write_csv(tmp_path, [HEADER, *ROWS]))
    with pytest.raises(UnitsError, match="'TZ'"):
        reg.office("TZ")
    with pytest.raises(UnitsError, match="không có đơn vị trực thuộc"):
        reg.office("TX01")
    with pytest.raises(UnitsError, match="Không có đơn vị mã 'TZ'"):
        reg.get("TZ")


@pytest.mark.parametrize("length", [2, 3, 5])
@pytest.mark.parametrize("beside_root", [True, False])
def test_a_parent_cycle_is_one_line_naming_the_cycle(tmp_path, length, beside_root):
    """A → B → … → A beside a real root (or with the root's children) is refused: the office
    would otherwise expect a report from its own superior."""
    loop = [f"V{i}" for i in range(length)]
    rows = ["code,name,level,parent,email", "T,Tỉnh đoàn,tinh,,t@x.vn",
            "H,Huyện đoàn,huyen,T,h@x.vn"]
    for i, code in enumerate(loop):
        parent = loop[(i + 1) % length]
        rows.append(f"{code},Đơn vị {code},co_so,{parent},{code.lower()}@x.vn")
    if not beside_root:
        rows.append(f"C,Cơ sở C,co_so,{loop[0]},c@x.vn")  # hangs below the loop
    path = tmp_path / "units.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(UnitsError) as err:
        load_units(path)
    message = str(err.value)
    assert "\n" not in message and "vòng" in message
    named = message.split("các đơn vị ", 1)[1].split(" là cấp trên", 1)[0].split(" → ")
    assert named[0] == named[-1] and set(named) == set(loop)
