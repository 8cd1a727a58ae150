"""Units file: who reports to whom (``code,name,level,parent,email``, optional ``phone``,
``place``, and ``successor`` with ``merged_on`` for a merged or renamed unit; CSV or XLSX).

The file is read as offices keep it (``;`` or ``,``, a title row, Vietnamese headers and
levels: :mod:`toolkit.spec.units_file`); codes are matched without regard to case when
that is unambiguous (``--office tx``). Levels are those of :mod:`toolkit.spec.levels`; a
unit's parent is at any higher level (a commune may report straight to its province). A
unit with a successor no longer reports: it is nobody's expected child, and a file it still
sends is counted for its successor (:mod:`toolkit.read.selection`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from toolkit.spec.levels import LEVEL_NAMES, level_of, level_problem, name_of, rank
from toolkit.spec.text import nfc
from toolkit.spec.units_file import (
    REQUIRED_COLUMNS,
    UnitsFileShapeError,
    fold,
    read_table,
)

__all__ = ["LEVEL_NAMES", "Unit", "UnitRegistry", "UnitsError", "load_units"]


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
    phone: str = ""  # optional column: the number to call (Điện thoại)
    # merged or renamed: the code of the unit that carries on its reporting (thay_the_boi),
    # and since when; empty for a unit that still exists
    successor: str = ""
    merged_on: dt.date | None = None


@dataclass(frozen=True)
class UnitRegistry:
    """All units of a units file, checked: unique codes, known parents, known levels."""

    units: dict[str, Unit]
    source: str = ""

    def lookup(self, code: str) -> str | None:
        """The code as the file spells it: ``code`` itself, or the one code equal to it
        but for case and surrounding spaces (``tx`` → ``TX``); None when there is none."""
        if code in self.units:
            return code
        wanted = nfc(str(code)).strip().casefold()
        same = [c for c in self.units if c.casefold() == wanted]
        return same[0] if len(same) == 1 else None

    def get(self, code: str) -> Unit:
        found = self.lookup(code)
        if found is None:
            raise UnitsError(f"Không có đơn vị mã {code!r} trong tệp đơn vị {self.source}")
        return self.units[found]

    def __contains__(self, code: object) -> bool:
        return code in self.units

    @property
    def root(self) -> Unit:
        """The unit without a parent: the default office."""
        roots = [u for u in self.units.values() if not u.parent]
        return roots[0]

    def children(self, code: str, *, merged: bool = False) -> list[Unit]:
        """Direct subordinate units of ``code`` that report today, in file order: a unit
        merged into another (it has a successor) is nobody's expected child, gets no template
        and no reminder. ``merged=True`` lists those too (the units page shows them)."""
        return [u for u in self.units.values()
                if u.parent == code and (merged or not u.successor)]

    def current(self, code: str) -> Unit:
        """The unit that reports today for ``code``: ``code`` itself, or the end of its chain
        of successors (A merged into B, B renamed C → C). History and files of a merged unit
        are counted under it."""
        unit = self.get(code)
        seen = {unit.code}
        while unit.successor and unit.successor in self.units and unit.successor not in seen:
            unit = self.units[unit.successor]
            seen.add(unit.code)
        return unit

    def predecessors(self, code: str) -> list[Unit]:
        """Every unit whose chain of successors ends at ``code`` (not ``code`` itself), in
        file order: the units whose past figures add up under it."""
        target = self.get(code).code
        return [u for u in self.units.values()
                if u.successor and u.code != target and self.current(u.code).code == target]

    def parent_of(self, unit: Unit) -> Unit | None:
        return self.units.get(unit.parent) if unit.parent else None

    def office(self, code: str | None) -> Unit:
        """The office running the campaign: ``code`` or the root of the file."""
        if code is None:
            return self.root
        found = self.lookup(code)
        if found is None:
            raise UnitsError(f"Không tìm thấy đơn vị (văn phòng) mã {code!r} trong tệp "
                             f"{self.source}")
        unit = self.units[found]
        if not self.children(found):
            raise UnitsError(f"Đơn vị {code} ({unit.name}) không có đơn vị trực thuộc nào "
                             f"trong tệp {self.source}")
        return unit


def load_units(path: str | Path) -> UnitRegistry:
    """Read and check a units file. Every problem is a :class:`UnitsError` naming the row."""
    path = Path(path)
    if not path.exists():
        raise UnitsError(f"Không tìm thấy tệp đơn vị: {path}")
    if path.is_dir():
        raise UnitsError(f"{path} là thư mục, không phải tệp đơn vị")
    try:
        rows = read_table(path)
    except UnitsFileShapeError as exc:
        raise UnitsError(str(exc)) from None
    units: dict[str, Unit] = {}
    lines: dict[str, int] = {}  # code → the line a clerk sees, for messages
    for line, row in rows:
        values = {k: nfc(str(row.get(k, "")).strip()) for k in REQUIRED_COLUMNS}
        if not any(values.values()):
            continue
        where = f"{path.name}, dòng {line}"
        if not values["code"]:
            raise UnitsError(f"{where}: thiếu mã đơn vị (cột code)")
        if not values["name"]:
            raise UnitsError(f"{where}: thiếu tên đơn vị (cột name)")
        level = level_of(values["level"])
        if level is None:
            raise UnitsError(f"{where}: {level_problem(values['level'])}")
        values["level"] = level
        if values["code"] in units:
            raise UnitsError(f"{where}: mã đơn vị {values['code']!r} bị trùng")
        successor = nfc(str(row.get("successor") or "").strip())
        merged_text = nfc(str(row.get("merged_on") or "").strip())
        merged_on = _date(merged_text)
        if merged_text and merged_on is None:
            raise UnitsError(f"{where}: ngày sáp nhập {merged_text!r} không hợp lệ "
                             "(ghi dạng ngày/tháng/năm, ví dụ 01/07/2025)")
        if merged_on is not None and not successor:
            raise UnitsError(f"{where}: có ngày sáp nhập nhưng chưa ghi đơn vị thay thế "
                             "(cột «Thay thế bởi»)")
        lines[values["code"]] = line
        units[values["code"]] = Unit(
            code=values["code"], name=values["name"], level=level, parent=values["parent"],
            email=values["email"], place=nfc(str(row.get("place") or "").strip()),
            phone=nfc(str(row.get("phone") or "").strip()), successor=successor,
            merged_on=merged_on)
    if not units:
        raise UnitsError(f"Tệp đơn vị {path} không có dòng dữ liệu nào")
    units = _parents_by_code(units)
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
    for unit in units.values():
        parent = units.get(unit.parent)
        if parent is not None and rank(unit.level) <= rank(parent.level):
            raise UnitsError(
                f"{path.name}, dòng {lines[unit.code]}: đơn vị {unit.code} ({unit.name}, "
                f"{name_of(unit.level)}) không thể trực thuộc {parent.name} "
                f"({name_of(parent.level)}): đơn vị cấp trên phải ở cấp cao hơn")
    units = _successors_by_code(units, path.name, lines)
    return UnitRegistry(units=units, source=str(path))


_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%Y/%m/%d", "%d/%m/%y")
EXCEL_EPOCH = dt.date(1899, 12, 30)


def _date(text: str) -> dt.date | None:
    """A merger date as a clerk writes it (01/07/2025, 1-7-2025, 2025-07-01, a date cell,
    an Excel day number such as 45839); None when it is not one."""
    text = text.strip()
    if not text:
        return None
    head = text.split(" ", 1)[0].split("T", 1)[0]  # "2025-07-01 00:00:00"
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(head, fmt).date()
        except ValueError:
            continue
    if head.isdigit() and 20000 <= int(head) <= 80000:  # an Excel serial day (1954–2119)
        return EXCEL_EPOCH + dt.timedelta(days=int(head))
    return None


def _matcher(units: dict[str, Unit]) -> Callable[[str], list[str]]:
    """The codes a clerk's reference to a unit may mean: the code in another case (``tx``),
    else the unit's name ("Huyện đoàn Thọ Xuân"); the parent and successor columns hold
    either."""
    by_case: dict[str, list[str]] = {}
    by_name: dict[str, list[str]] = {}
    for code, unit in units.items():
        by_case.setdefault(code.casefold(), []).append(code)
        by_name.setdefault(fold(unit.name), []).append(code)
    return lambda text: by_case.get(text.casefold()) or by_name.get(fold(text)) or []


def _successors_by_code(units: dict[str, Unit], name: str,
                        lines: dict[str, int]) -> dict[str, Unit]:
    """Each ``successor`` as a known code (a code in another case or the successor's name
    are accepted, as for parents), never the unit itself, never a loop (A → B → A)."""
    matches = _matcher(units)
    fixed: dict[str, Unit] = {}
    for code, unit in units.items():
        target = unit.successor
        if target and target not in units:
            match = matches(target)
            if len(match) != 1:
                raise UnitsError(
                    f"{name}, dòng {lines[code]}: đơn vị {code} ({unit.name}) ghi «Thay thế "
                    f"bởi» {target!r}, không có đơn vị nào mã hoặc tên như vậy trong tệp"
                    if not match else
                    f"{name}, dòng {lines[code]}: «Thay thế bởi» {target!r} của đơn vị {code} "
                    f"trùng tên nhiều đơn vị ({', '.join(match)}); ghi mã đơn vị")
            target = match[0]
        if target == code:
            raise UnitsError(f"{name}, dòng {lines[code]}: đơn vị {code} ({unit.name}) không "
                             "thể được thay thế bởi chính nó (cột «Thay thế bởi»)")
        fixed[code] = unit if target == unit.successor else replace(unit, successor=target)
    for start in fixed:
        seen = [start]
        code = fixed[start].successor
        while code:
            if code in seen:
                loop = [*seen[seen.index(code):], code]
                raise UnitsError(
                    f"{name}, dòng {lines[start]}: các đơn vị {' → '.join(loop)} thay thế "
                    "nhau thành vòng (cột «Thay thế bởi»); đơn vị cuối cùng của chuỗi sáp "
                    "nhập phải để trống cột này")
            seen.append(code)
            code = fixed[code].successor
    return fixed


def _parents_by_code(units: dict[str, Unit]) -> dict[str, Unit]:
    """Each ``parent`` as the code the file spells: a code in another case (``tx``) or the
    parent's name ("Huyện đoàn Thọ Xuân", as a "Đơn vị cấp trên" column often holds) is
    replaced by the code when exactly one unit matches; anything else is left for the
    checks below to name."""
    matches = _matcher(units)
    fixed: dict[str, Unit] = {}
    for code, unit in units.items():
        parent = unit.parent
        if parent and parent not in units:
            match = matches(parent)
            if len(match) == 1:
                parent = match[0]
        fixed[code] = unit if parent == unit.parent else replace(unit, parent=parent)
    return fixed


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
