"""The allocation workbook: the office's targets (chỉ tiêu) per child unit and indicator.

``toolkit make-allocation`` writes it: one sheet per ``targets`` form, the office's own
target on the first row, one row per child unit, one column per indicator, live totals and
the gap to the office's own target, validation on every cell. It is self-describing like
every workbook of the toolkit: a hidden ``_meta`` (kind ``allocation``) maps
``form | sheet | row | column | cell`` with row = unit code and column = indicator key, so
``make-templates --targets FILE`` reads it back through the file's own map (a clerk may
reorder nothing, but an older file still reads) and reports problems as findings with the
cell, in the same words as a consolidation.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlsxwriter
from python_calamine import CalamineWorkbook

from toolkit.check.values import parse_value, raw_text
from toolkit.spec.campaign import Campaign, Form
from toolkit.spec.findings import make_finding
from toolkit.spec.layout import HEADER_TOP, a1, rowcol
from toolkit.spec.meta import META_SHEET, CellRef, meta_rows, parse_meta
from toolkit.spec.models import Finding
from toolkit.spec.targets import TARGET_COLUMNS, UnitTargets, target_column
from toolkit.spec.text import format_number, is_blank, nfc
from toolkit.spec.units import Unit, UnitRegistry
from toolkit.write.styles import (
    WORKBOOK_OPTIONS,
    Styles,
    set_properties,
    setup_print,
    source_line,
    wrapped_lines,
    write_heading,
    write_text,
)
from toolkit.write.templates import default_generated_at, identity_for, validation_options

KIND = "allocation"
FIXED = (("TT", 5.0), ("Mã đơn vị", 9.0), ("Tên đơn vị", 30.0))
INDICATOR_WIDTH = 12.0
Key = tuple[str, str, str]  # (form, unit code, indicator key), as in the map


class AllocationError(Exception):
    """The file is not an allocation workbook of this campaign (one Vietnamese line)."""


@dataclass
class Allocation:
    """What an allocation workbook says: each child's targets, the office's own, findings."""

    targets: dict[str, dict[str, dict[str, float | None]]] = field(default_factory=dict)
    own: dict[str, dict[str, float | None]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def for_unit(self, code: str) -> UnitTargets | None:
        return self.targets.get(code)


def targets_forms(campaign: Campaign) -> list[Form]:
    return [f for f in campaign.forms if f.kind == "targets"]


def allocation_filename(campaign: Campaign, office: Unit) -> str:
    return f"phan-bo-chi-tieu_{campaign.id}_{office.code}.xlsx"


class _Sheet:
    """One targets form's allocation sheet; remembers its value cells for ``_meta``."""

    def __init__(self, wb: Any, st: Styles, campaign: Campaign, form: Form, office: Unit,
                 parent: Unit | None, children: list[Unit]) -> None:
        self.wb, self.st, self.form = wb, st, form
        self.campaign, self.office, self.parent, self.children = campaign, office, parent, children
        self.refs: list[CellRef] = []

    def write(self, values: Mapping[Key, float] | None) -> None:
        """The sheet; ``values`` None pre-fills each indicator's default target."""
        form, st = self.form, self.st
        ws = self.wb.add_worksheet(form.sheet)
        inds = form.indicators
        first = len(FIXED)
        last_col = first + len(inds) - 1
        widths = {i: w for i, (_l, w) in enumerate(FIXED)}
        widths.update({first + j: INDICATOR_WIDTH for j in range(len(inds))})
        write_heading(ws, st, widths, last_col, org=self.parent.name if self.parent else "",
                      unit=self.office.name, number=f"Phân bổ chỉ tiêu — {form.number}",
                      title=form.title, source=source_line(self.campaign))
        for i, (label, _w) in enumerate(FIXED):
            write_text(ws, HEADER_TOP, i, HEADER_TOP + 1, i, label, st.header())
        tallest = 1
        for j, ind in enumerate(inds):
            ws.write_string(HEADER_TOP, first + j, ind.name, st.header())
            ws.write_string(HEADER_TOP + 1, first + j, f"({ind.unit})" if ind.unit else "",
                            st.header())
            tallest = max(tallest, wrapped_lines(ind.name, INDICATOR_WIDTH, bold=True))
        ws.set_row(HEADER_TOP, min(409.0, 15.0 * tallest + 4))
        number_row = HEADER_TOP + 2
        for col in range(last_col + 1):
            ws.write_string(number_row, col, f"({col + 1})", st.number_row())
        row = number_row + 1
        own_row = row
        self._unit_row(ws, row, "", self.office, values, own=True)
        for n, unit in enumerate(self.children, start=1):
            row += 1
            self._unit_row(ws, row, str(n), unit, values)
        first_child, last_child = own_row + 1, row
        bold = st.value("number", bold=True)
        for label, kind in (("Tổng các đơn vị", "sum"), ("Chênh lệch (chỉ tiêu của "
                            f"{self.office.name} trừ tổng các đơn vị)", "gap")):
            row += 1
            write_text(ws, row, 0, row, first - 1, label, st.label(bold=True))
            ws.set_row(row, 15.0 * wrapped_lines(label, 44.0, bold=True) + 4)
            for j, ind in enumerate(inds):
                c = first + j
                if ind.is_rate or not self.children:
                    ws.write_string(row, c, "—", st.label(align="center"))
                elif kind == "sum":
                    ws.write_formula(row, c, f"=SUM({a1(first_child, c)}:{a1(last_child, c)})",
                                     bold, self._sum(values, ind.key))
                else:
                    ws.write_formula(row, c, f'=IF(ISNUMBER({a1(own_row, c)}),{a1(own_row, c)}'
                                     f'-{a1(row - 1, c)},"")', bold, "")
        setup_print(ws, widths, last_row=row, last_col=last_col,
                    repeat=(HEADER_TOP, number_row), freeze=(number_row + 1, first))
        ws.protect("", {"format_columns": True, "format_rows": True})

    def _sum(self, values: Mapping[Key, float] | None, key: str) -> float:
        """The cached value of a total formula (what a reader sees before recalculation)."""
        if values is None:
            default = self.form.indicator(key).default_target or 0.0
            return float(default * len(self.children))
        return float(sum(values.get((self.form.id, u.code, key)) or 0 for u in self.children))

    def _unit_row(self, ws: Any, row: int, number: str, unit: Unit,
                  values: Mapping[Key, float] | None, *, own: bool = False) -> None:
        st = self.st
        ws.write_string(row, 0, number, st.label(align="center"))
        ws.write_string(row, 1, unit.code, st.label(bold=own, align="center"))
        name = f"{unit.name} (chỉ tiêu được giao)" if own else unit.name
        ws.write_string(row, 2, name, st.label(bold=own))
        ws.set_row(row, 15.0 * wrapped_lines(name, FIXED[2][1], bold=own) + 3)
        for j, ind in enumerate(self.form.indicators):
            c = len(FIXED) + j
            value = (ind.default_target if values is None
                     else values.get((self.form.id, unit.code, ind.key)))
            fmt = st.input("number")
            if value is None:
                ws.write_blank(row, c, None, fmt)
            else:
                ws.write_number(row, c, float(value), fmt)
            allocated = target_column(ind, allocating=True)
            ws.data_validation(row, c, row, c, validation_options(allocated))
            self.refs.append(CellRef(self.form.id, self.form.sheet, unit.code, ind.key,
                                     a1(row, c)))


def allocation_bytes(campaign: Campaign, units: UnitRegistry, office: Unit, *,
                     values: Mapping[Key, float] | None = None,
                     generated_at: dt.datetime | None = None) -> bytes:
    """The allocation workbook of ``office`` for ``campaign``; ``values`` pre-fills cells
    (default: each indicator's ``default_target``). A campaign without a targets form
    gets a one-sheet workbook saying so."""
    when = generated_at or default_generated_at(campaign)
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    st = Styles(wb)
    sheets = [_Sheet(wb, st, campaign, form, office, units.parent_of(office),
                     units.children(office.code)) for form in targets_forms(campaign)]
    for sheet in sheets:
        sheet.write(values)
    if not sheets:
        ws = wb.add_worksheet("Phân bổ")
        ws.write_string(0, 0, f"Chiến dịch {campaign.id} không có biểu chỉ tiêu (targets).",
                        st.text(wrap=False))
        setup_print(ws, {0: 60.0}, last_row=0, last_col=0)
    identity = identity_for(campaign, office, KIND, when)
    _write_map(wb.add_worksheet(META_SHEET), identity, [r for s in sheets for r in s.refs])
    set_properties(wb, title=f"Phân bổ chỉ tiêu {campaign.document_number} — {office.name}",
                   subject=campaign.title, author=office.name, created=when, identity=identity)
    wb.close()
    return buffer.getvalue()


def _write_map(ws: Any, identity: dict[str, str], refs: list[CellRef]) -> None:
    """The very hidden ``_meta``: identity, then the map (row = unit code)."""
    for r, row in enumerate(meta_rows(identity, refs)):
        for c, value in enumerate(row):
            ws.write_string(r, c, str(value))
    ws.very_hidden()
    ws.protect("")


# --------------------------------------------------------------------------- reading


def read_allocation(source: Path | bytes, campaign: Campaign, units: UnitRegistry,
                    office: Unit) -> Allocation:
    """Read an allocation workbook through its own ``_meta`` map. Problems with single cells
    are warnings (the cell counts as "không giao"); a file that is no allocation of this
    campaign raises :class:`AllocationError`."""
    name = source.name if isinstance(source, Path) else "phan-bo.xlsx"
    try:
        data = source.read_bytes() if isinstance(source, Path) else source
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = {nfc(n): n for n in book.sheet_names}
        meta = parse_meta(book.get_sheet_by_name(sheets[META_SHEET]).to_python())
    except FileNotFoundError:
        raise AllocationError(f"Không tìm thấy tệp phân bổ chỉ tiêu: {name}") from None
    except Exception as exc:  # not a workbook, no _meta, broken map
        raise AllocationError(f"{name}: không phải tệp phân bổ chỉ tiêu do toolkit tạo "
                              f"({type(exc).__name__})") from None
    if meta.kind != KIND or meta.campaign != campaign.id:
        raise AllocationError(f"{name}: là tệp {meta.kind or '?'} của chiến dịch "
                              f"{meta.campaign or '?'}, không phải tệp phân bổ chỉ tiêu của "
                              f"{campaign.id}")
    result = Allocation()
    forms = {f.id: f for f in targets_forms(campaign)}
    children = {u.code: u for u in units.children(office.code)}
    rows_cache: dict[str, list[list[Any]]] = {}
    unknown: set[str] = set()
    cells: dict[Key, str] = {}
    for ref in meta.cells:
        form = forms.get(ref.form)
        if form is None or ref.column not in {i.key for i in form.indicators}:
            continue
        sheet = nfc(ref.sheet)
        if sheet not in rows_cache:
            rows_cache[sheet] = (book.get_sheet_by_name(sheets[sheet]).to_python(
                skip_empty_area=False) if sheet in sheets else [])
        rows = rows_cache[sheet]
        try:
            r, c = rowcol(ref.cell)
        except ValueError:
            continue
        raw = rows[r][c] if r < len(rows) and c < len(rows[r]) else None
        is_own = ref.row == office.code
        if not is_own and ref.row not in children:
            if ref.row not in unknown:
                unknown.add(ref.row)
                result.findings.append(make_finding(
                    "allocation_unit_unknown", file=name, unit_code=ref.row, form=form.id,
                    cell=ref.cell, office_name=office.name))
            continue
        ind = form.indicator(ref.column)
        unit_name = office.name if is_own else children[ref.row].name
        value = _value(result, name, ref, raw, ind.name, unit_name, office.code)
        cells[(form.id, ref.row, ref.column)] = ref.cell
        target = result.own if is_own else result.targets.setdefault(ref.row, {})
        target.setdefault(form.id, {})[ref.column] = value
    for code, unit in children.items():
        if code not in result.targets and forms:
            result.findings.append(make_finding("allocation_unit_missing", file=name,
                                                unit_code=code, unit_name=unit.name))
    _check_sums(result, name, forms, cells, office)
    _refuse_empty(result, name, forms)
    return result


def _refuse_empty(result: Allocation, name: str, forms: dict[str, Form]) -> None:
    """An allocation saved before anyone typed a target (only the pre-filled defaults) would
    make every template say «không giao» and still report success: one sentence instead."""
    typed = [ind.key for form in forms.values() for ind in form.indicators
             if ind.default_target is None]
    if not typed or not result.targets:
        return
    if any(per_form.get(key) is not None for unit in result.targets.values()
           for per_form in unit.values() for key in typed):
        return
    raise AllocationError(
        f"{name}: chưa có chỉ tiêu nào được điền cho các đơn vị (mọi ô chỉ tiêu không có sẵn "
        "đều trống), nên biểu mẫu nào cũng sẽ ghi «không giao». Hãy điền chỉ tiêu cho từng "
        "đơn vị, lưu tệp rồi chạy lại; hoặc bỏ --targets để đơn vị tự ghi chỉ tiêu")


def _value(result: Allocation, name: str, ref: CellRef, raw: Any, indicator: str,
           unit_name: str, office_code: str) -> float | None:
    common = {"file": name, "unit_code": ref.row, "form": ref.form, "cell": ref.cell,
              "column": ref.column, "indicator": indicator, "unit_name": unit_name}
    if is_blank(raw):  # the office's own target may stay blank: nothing is checked then
        if ref.row != office_code:
            result.findings.append(make_finding("allocation_blank", **common))
        return None
    parsed = parse_value(raw, TARGET_COLUMNS[0], check_range=False)  # a number; range below
    if parsed.problem or parsed.value is None:
        result.findings.append(make_finding("allocation_not_number", value=raw_text(raw),
                                            **common))
        return None
    if float(parsed.value) < 0:
        result.findings.append(make_finding("allocation_negative", value=raw_text(raw),
                                            **common))
        return None
    return float(parsed.value)


def _check_sums(result: Allocation, name: str, forms: Mapping[str, Form],
                cells: Mapping[Key, str], office: Unit) -> None:
    """A count's allocations must add up to the office's own target (a rate cannot be
    added: it is not checked)."""
    for form in forms.values():
        for ind in form.indicators:
            own = result.own.get(form.id, {}).get(ind.key)
            if ind.is_rate or own is None:
                continue
            given = [t.get(form.id, {}).get(ind.key) for t in result.targets.values()]
            total = sum(v for v in given if v is not None)
            if abs(total - own) > 1e-9:
                result.findings.append(make_finding(
                    "allocation_sum_mismatch", file=name, unit_code=office.code, form=form.id,
                    cell=cells.get((form.id, office.code, ind.key), ""), column=ind.key,
                    indicator=ind.name, total=format_number(total), own=format_number(own),
                    office_name=office.name))
