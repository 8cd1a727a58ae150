"""Units file: who reports to whom (``code,name,level,parent,email``, optional ``place``;
CSV or XLSX)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from toolkit.spec.campaign import LEVELS
from toolkit.spec.text import nfc

REQUIRED_COLUMNS = ("code", "name", "level", "parent", "email")
LEVEL_NAMES = {"tinh": "cấp tỉnh", "huyen": "cấp huyện", "co_so": "cấp cơ sở"}


class UnitsError(Exception):
    """The units file cannot be used; the message is Vietnamese and names the row."""


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    level: str
    parent: str
    email: str
    place: str = ""  # where its documents are signed ("Thọ Xuân, ngày … tháng … năm …")


@dataclass(frozen=True)
class UnitRegistry:
    """All units of a units file, checked: unique codes, known parents, known levels."""

    units: dict[str, Unit]
    source: str = ""

    def get(self, code: str) -> Unit:
        try:
            return self.units[code]
        except KeyError:
            raise UnitsError(
                f"Không có đơn vị mã {code!r} trong tệp đơn vị {self.source}"
            ) from None

    def __contains__(self, code: object) -> bool:
        return code in self.units

    @property
    def root(self) -> Unit:
        """The unit without a parent: the default office."""
        roots = [u for u in self.units.values() if not u.parent]
        return roots[0]

    def children(self, code: str) -> list[Unit]:
        """Direct subordinate units of ``code``, in file order."""
        return [u for u in self.units.values() if u.parent == code]

    def parent_of(self, unit: Unit) -> Unit | None:
        return self.units.get(unit.parent) if unit.parent else None

    def office(self, code: str | None) -> Unit:
        """The office running the campaign: ``code`` or the root of the file."""
        if code is None:
            return self.root
        if code not in self.units:
            raise UnitsError(f"Không tìm thấy đơn vị (văn phòng) mã {code!r} trong tệp "
                             f"{self.source}")
        unit = self.units[code]
        if not self.children(code):
            raise UnitsError(f"Đơn vị {code} ({unit.name}) không có đơn vị trực thuộc nào "
                             f"trong tệp {self.source}")
        return unit


def _read_rows(path: Path) -> list[dict[str, str]]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".ods", ".xls"):
        from python_calamine import CalamineWorkbook

        try:
            book = CalamineWorkbook.from_path(str(path))
            data = book.get_sheet_by_index(0).to_python()
        except Exception as exc:  # calamine raises several error types for broken files
            raise UnitsError(f"Không đọc được tệp đơn vị {path}: {exc}") from None
        if not data:
            raise UnitsError(f"Tệp đơn vị {path} trống")
        header = [str(h).strip().lower() for h in data[0]]
        rows = []
        for raw in data[1:]:
            values = [_cell_text(v) for v in raw]
            rows.append(dict(zip(header, values, strict=False)))
        return rows
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnitsError(f"Tệp đơn vị {path} không phải UTF-8; hãy lưu lại dạng "
                         "CSV UTF-8") from None
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None:
        raise UnitsError(f"Tệp đơn vị {path} trống")
    reader.fieldnames = [f.strip().lower() for f in reader.fieldnames]
    return [{k: (v or "") for k, v in row.items() if k is not None} for row in reader]


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def load_units(path: str | Path) -> UnitRegistry:
    """Read and check a units file. Every problem is a :class:`UnitsError` naming the row."""
    path = Path(path)
    if not path.exists():
        raise UnitsError(f"Không tìm thấy tệp đơn vị: {path}")
    if path.is_dir():
        raise UnitsError(f"{path} là thư mục, không phải tệp đơn vị")
    rows = _read_rows(path)
    if not rows:
        raise UnitsError(f"Tệp đơn vị {path} không có dòng dữ liệu nào")
    missing = [c for c in REQUIRED_COLUMNS if c not in rows[0]]
    if missing:
        raise UnitsError(f"Tệp đơn vị {path} thiếu cột: {', '.join(missing)} "
                         f"(cần đủ các cột {','.join(REQUIRED_COLUMNS)})")
    units: dict[str, Unit] = {}
    for line, row in enumerate(rows, start=2):
        values = {k: nfc(str(row.get(k, "")).strip()) for k in REQUIRED_COLUMNS}
        if not any(values.values()):
            continue
        where = f"{path.name}, dòng {line}"
        if not values["code"]:
            raise UnitsError(f"{where}: thiếu mã đơn vị (cột code)")
        if not values["name"]:
            raise UnitsError(f"{where}: thiếu tên đơn vị (cột name)")
        if values["level"] not in LEVELS:
            raise UnitsError(f"{where}: cấp {values['level']!r} không hợp lệ "
                             f"(dùng: {', '.join(LEVELS)})")
        if values["code"] in units:
            raise UnitsError(f"{where}: mã đơn vị {values['code']!r} bị trùng")
        units[values["code"]] = Unit(**values, place=nfc(str(row.get("place") or "").strip()))
    if not units:
        raise UnitsError(f"Tệp đơn vị {path} không có dòng dữ liệu nào")
    for unit in units.values():
        if unit.parent and unit.parent not in units:
            raise UnitsError(f"{path.name}: đơn vị {unit.code} ({unit.name}) có đơn vị cấp trên "
                             f"{unit.parent!r} không có trong tệp")
        if unit.parent == unit.code:
            raise UnitsError(f"{path.name}: đơn vị {unit.code} là cấp trên của chính nó")
    if not any(not u.parent for u in units.values()):
        raise UnitsError(f"{path.name}: không có đơn vị gốc (đơn vị không có cấp trên)")
    cycle = _parent_cycle(units)
    if cycle:
        chain = " → ".join(cycle)
        raise UnitsError(f"{path.name}: các đơn vị {chain} là cấp trên của nhau thành vòng; "
                         "sửa cột parent để mỗi đơn vị dẫn lên đơn vị gốc")
    return UnitRegistry(units=units, source=str(path))


def _parent_cycle(units: dict[str, Unit]) -> list[str]:
    """The first chain of parents that comes back to where it started (``A → B → A``), in
    file order; empty when every unit leads up to a root. Beside a real root such a loop
    would make an office expect a report from its own superior."""
    done: set[str] = set()
    for start in units:
        path: list[str] = []
        seen: dict[str, int] = {}
        code = start
        while code and code not in done:
            if code in seen:
                return [*path[seen[code]:], code]
            seen[code] = len(path)
            path.append(code)
            code = units[code].parent
        done.update(path)
    return []
