"""Write the Excel templates a unit fills in: one workbook per subordinate unit plus a blank.

Each workbook has an instruction sheet, one locked sheet per form whose only editable cells
are the shaded inputs (with Excel data validation by column type), and the hidden ``_meta``
sheet plus text custom properties that make the file self-describing (see DESIGN.md).
Files are reproducible: the creation time is fixed, so two runs give identical bytes and the
committed blank templates in ``workbook_templates/`` double as golden files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import re
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from toolkit._infra.atomic import OutputError, ensure_dir, write_bytes
from toolkit._infra.workers import ordered_map
from toolkit.spec.campaign import Campaign, Column, Form
from toolkit.spec.confirm import (
    CONFIRM_GUIDE,
    CONFIRM_LABEL,
    confirm_example,
    confirm_hint,
    confirm_place,
    has_confirmation,
)
from toolkit.spec.layout import DOTS, DataRow, FormLayout, a1, col_name
from toolkit.spec.levels import LEVELS, below, name_of
from toolkit.spec.meta import META_SHEET, cell_map, meta_rows, template_layout
from toolkit.spec.targets import UnitTargets
from toolkit.spec.units import Unit, UnitRegistry
from toolkit.write.styles import (
    PROTECT_OPTIONS,
    WORKBOOK_OPTIONS,
    Styles,
    fmt_date,
    place_date,
    set_properties,
    setup_guide_print,
    setup_sheet,
    source_line,
    wrapped_lines,
    write_confirm,
    write_header,
    write_heading,
    write_signature,
    write_text,
)
from toolkit.write.targets_sheets import write_template_rows

GUIDE_SHEET = "Hướng dẫn"
LISTS_SHEET = "_lists"  # only when a choice list cannot be written inline
BLANK_UNIT = "ĐƠN VỊ: ……………"
DATE_MIN = dt.date(1990, 1, 1)
DATE_MAX = dt.date(2100, 12, 31)
TEXT_MAX = 2000
GOLDEN_ENV = "TOOLKIT_REGENERATE_GOLDEN"


@dataclass(frozen=True)
class TemplatesResult:
    """What :func:`make_templates` wrote: one file per child unit, and the blank."""

    files: list[Path]
    blank: Path


# --------------------------------------------------------------------------- names


def default_generated_at(campaign: Campaign) -> dt.datetime:
    """Midnight of the plan's date: a fixed time so that every run gives the same bytes."""
    return dt.datetime.combine(campaign.document_date, dt.time())


def slugify(text: str) -> str:
    """ASCII, lowercase, dash-separated: ``Đoàn xã Xuân Hồng`` → ``doan-xa-xuan-hong``."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def _safe(code: str) -> str:
    """A unit code or campaign id made safe as part of a file name (no path separators)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", code).strip(".-") or "x"


def template_filename(campaign: Campaign, unit: Unit | None) -> str:
    """``nq02-2020_TX01_doan-thi-tran-tho-xuan.xlsx``; the blank is ``nq02-2020_mau-trong.xlsx``."""
    if unit is None:
        return f"{_safe(campaign.id)}_mau-trong.xlsx"
    slug = slugify(unit.name)[:60].strip("-")
    return f"{_safe(campaign.id)}_{_safe(unit.code)}" + (f"_{slug}" if slug else "") + ".xlsx"


# --------------------------------------------------------------------------- validation


def _clip(text: str, limit: int) -> str:
    """Excel refuses validation titles over 32 and messages over 255 characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:g}".replace(".", ",")


def validation_options(col: Column) -> dict[str, Any]:
    """Excel data validation for an input cell of ``col``: type, bounds, Vietnamese input
    prompt and a Stop error (units then cannot type ``12 người`` into a number)."""
    lo, hi = col.min, col.max
    opts: dict[str, Any]
    if col.type == "count":
        lo = 0 if lo is None else lo
        opts = {"validate": "integer"}
        if hi is None:
            opts.update(criteria=">=", value=int(lo))
            prompt = ("Nhập số nguyên không âm (ví dụ 12). Không nhập chữ hay đơn vị."
                      if lo == 0 else f"Nhập số nguyên từ {_num(lo)} trở lên. Không nhập chữ.")
        else:
            opts.update(criteria="between", minimum=int(lo), maximum=int(hi))
            prompt = f"Nhập số nguyên từ {_num(lo)} đến {_num(hi)}. Không nhập chữ hay đơn vị."
        title, error = "Số nguyên", "Ô này chỉ nhận số nguyên"
    elif col.type in ("number", "money"):
        opts = {"validate": "decimal"}
        what = "số tiền" if col.type == "money" else "số"
        if lo is not None and hi is not None:
            opts.update(criteria="between", minimum=lo, maximum=hi)
            prompt = f"Nhập {what} từ {_num(lo)} đến {_num(hi)}, có thể có phần thập phân."
        elif hi is not None:
            opts.update(criteria="<=", value=hi)
            prompt = f"Nhập {what} không quá {_num(hi)}, có thể có phần thập phân."
        else:
            opts.update(criteria=">=", value=-1e15 if lo is None else lo)
            bound = "" if lo is None else (" không âm" if lo == 0 else f" từ {_num(lo)} trở lên")
            prompt = f"Nhập {what}{bound}, có thể có phần thập phân."
        prompt += " Không nhập chữ hay đơn vị."
        title, error = ("Số tiền" if col.type == "money" else "Số"), "Ô này chỉ nhận số"
    elif col.type == "percent":
        lo = 0 if lo is None else lo
        hi = 100 if hi is None else hi
        opts = {"validate": "decimal", "criteria": "between", "minimum": lo, "maximum": hi}
        prompt = (f"Nhập tỷ lệ phần trăm từ {_num(lo)} đến {_num(hi)} (ví dụ 85 nghĩa là 85%)."
                  " Không nhập dấu %.")
        title, error = "Tỷ lệ (%)", "Ô này chỉ nhận tỷ lệ"
    elif col.type == "choice":
        opts = {"validate": "list", "source": list(col.choices)}
        prompt = "Chọn một giá trị trong danh sách (bấm mũi tên bên phải ô)."
        title, error = "Chọn trong danh sách", "Giá trị phải nằm trong danh sách"
    elif col.type == "date":
        opts = {"validate": "date", "criteria": "between", "minimum": DATE_MIN,
                "maximum": DATE_MAX}
        prompt = "Nhập ngày theo dạng ngày/tháng/năm, ví dụ 15/01/2020."
        title, error = "Ngày", "Ô này chỉ nhận ngày hợp lệ"
    else:
        opts = {"validate": "length", "criteria": "<=", "value": TEXT_MAX}
        prompt = "Nhập nội dung chữ, tối đa 2.000 ký tự."
        title, error = "Nội dung", "Nội dung quá dài"
    if col.required:
        prompt += " Bắt buộc nhập."
    if col.note:
        prompt += " " + col.note
    opts.update(
        ignore_blank=True,
        input_title=_clip(title, 32),
        input_message=_clip(prompt, 255),
        error_type="stop",
        error_title=_clip("Số liệu không hợp lệ", 32),
        error_message=_clip(f"{error}. {prompt}", 255),
    )
    return opts


def _choice_source(col: Column) -> bool:
    """True when the choices fit an inline list (Excel: ≤255 characters, no commas)."""
    return all("," not in c for c in col.choices) and len(",".join(col.choices)) <= 255


# --------------------------------------------------------------------------- form sheets


def _runs(rows: Sequence[DataRow]) -> list[tuple[int, int]]:
    """Contiguous (first, last) sheet rows of ``rows``."""
    runs: list[tuple[int, int]] = []
    for r in sorted(x.row for x in rows):
        if runs and runs[-1][1] == r - 1:
            runs[-1] = (runs[-1][0], r)
        else:
            runs.append((r, r))
    return runs


def ratio_formula(layout: FormLayout, row: int, col: Column) -> str:
    """``=IF(AND(ISNUMBER(den),den>0),num/den,"")`` for ratio column ``col`` on ``row``."""
    num = a1(row, layout.columns[str(col.numerator)])
    den = a1(row, layout.columns[str(col.denominator)])
    return f'=IF(AND(ISNUMBER({den}),{den}>0),{num}/{den},"")'


def sum_formula(col_index: int, runs: Sequence[tuple[int, int]]) -> str:
    parts = [a1(first, col_index) if first == last else f"{a1(first, col_index)}:"
             f"{a1(last, col_index)}" for first, last in runs]
    return "=SUM(" + ",".join(parts) + ")"


class _Writer:
    """Writes one template workbook; holds what the sheets share."""

    def __init__(self, workbook: Workbook, campaign: Campaign, unit: Unit | None,
                 parent: Unit | None, targets: UnitTargets | None = None,
                 child_levels: Sequence[str] | None = None) -> None:
        self.wb = workbook
        self.child_levels = child_levels
        self.targets = targets
        self.styles = Styles(workbook)
        self.campaign = campaign
        self.unit = unit
        self.parent = parent
        self._lists: Worksheet | None = None
        self._list_col = 0

    def form_sheet(self, form: Form) -> FormLayout:
        layout = template_layout(form, self.unit, self.targets)
        ws = self.wb.add_worksheet(form.sheet)
        st = self.styles
        write_heading(
            ws, st, layout.widths, layout.last_col,
            org=self.parent.name if self.parent else DOTS,
            unit=self.unit.name if self.unit else BLANK_UNIT,
            number=form.number,
            title=form.title,
            source=source_line(self.campaign),
            place_date=place_date(self.unit.place if self.unit else ""),
        )
        write_header(ws, st, layout)
        if form.kind == "targets":
            own = self.targets.get(form.id) if self.targets is not None else None
            write_template_rows(ws, st, layout, own, self._validation)
            setup_sheet(ws, layout, last_row=self._signature(ws, layout))
            ws.protect("", _protect_options())
            return layout
        inputs = [r for r in layout.rows if r.kind == "input"]
        runs = _runs(inputs)
        for r in layout.rows:
            self._data_row(ws, layout, r, runs)
        for col in form.input_columns:
            c = layout.columns[col.key]
            opts = self._validation(col)
            for first, last in runs:
                ws.data_validation(first, c, last, c, opts)
        setup_sheet(ws, layout, last_row=self._signature(ws, layout))
        ws.protect("", _protect_options())
        return layout

    def _signature(self, ws: Worksheet, layout: FormLayout) -> int:
        """The confirmation row under the table (a form with figures to judge), then the
        signature block under it."""
        if not has_confirmation(layout.form):
            return write_signature(ws, self.styles, layout.widths, layout.last_col,
                                   layout.last_row + 2, layout.number_row, layout.last_row)
        place = confirm_place(layout)
        example = confirm_example(layout)
        write_confirm(ws, self.styles, layout.widths, place, example)
        first = place.input_cols[0]
        ws.data_validation(place.row, first, place.row, first, {
            "validate": "length", "criteria": "<=", "value": TEXT_MAX, "ignore_blank": True,
            "input_title": _clip(CONFIRM_LABEL, 32),
            "input_message": _clip(confirm_hint(example) + ".", 255),
            "error_type": "stop", "error_title": _clip("Nội dung quá dài", 32),
            "error_message": "Nhập tối đa 2.000 ký tự."})
        return write_signature(ws, self.styles, layout.widths, layout.last_col,
                               place.row + 2, layout.number_row, layout.last_row)

    def _data_row(self, ws: Worksheet, layout: FormLayout, r: DataRow,
                  runs: Sequence[tuple[int, int]]) -> None:
        st = self.styles
        form = layout.form
        total = r.kind == "total"
        if form.kind == "list":
            ws.write_number(r.row, 0, int(r.label), st.label(align="center"))
        elif form.kind == "fixed_rows":
            ws.write_string(r.row, 0, r.label, st.label(bold=total, align="center"))
        else:
            ws.write_string(r.row, 0, r.label, st.label(bold=total))
            width = layout.widths.get(0, 30.0)
            ws.set_row(r.row, max(26.0, 15.0 * wrapped_lines(r.label, width) + 4))
        for col in form.columns:
            c = layout.columns[col.key]
            if not col.is_input:
                ws.write_formula(r.row, c, ratio_formula(layout, r.row, col),
                                 st.ratio(bold=total), "")
            elif not total:
                ws.write_blank(r.row, c, None, st.input(col.type))
            elif col.aggregate == "sum":
                ws.write_formula(r.row, c, sum_formula(c, runs), st.value(col.type, bold=True),
                                 0)
            else:
                ws.write_blank(r.row, c, None, st.value(col.type, bold=True))

    def _validation(self, col: Column) -> dict[str, Any]:
        opts = validation_options(col)
        if col.type == "choice" and not _choice_source(col):
            opts["source"] = self._list_range(col.choices)
        return opts

    def _list_range(self, choices: Sequence[str]) -> str:
        if self._lists is None:
            self._lists = self.wb.add_worksheet(LISTS_SHEET)
            self._lists.very_hidden()
        col = self._list_col
        self._list_col += 1
        for i, choice in enumerate(choices):
            self._lists.write_string(i, col, choice)
        return f"='{LISTS_SHEET}'!${col_name(col)}$1:${col_name(col)}${len(choices)}"

    def guide_sheet(self) -> None:
        """The "Hướng dẫn" sheet: what, for whom, by when, to whom, how, which forms."""
        ws = self.wb.add_worksheet(GUIDE_SHEET)
        st = self.styles
        c = self.campaign
        widths = (24.0, 96.0)
        ws.set_column(0, 0, widths[0])
        ws.set_column(1, 1, widths[1])
        write_text(ws, 0, 0, 0, 1, "HƯỚNG DẪN ĐIỀN BIỂU MẪU BÁO CÁO",
                   st.text(bold=True, size=14, align="center"))
        ws.set_row(0, 24)
        write_text(ws, 1, 0, 1, 1, c.title, st.text(italic=True, align="center"))
        ws.set_row(1, 16 * wrapped_lines(c.title, sum(widths)))
        row = 3
        for label, value in self._guide_facts():
            ws.write_string(row, 0, label, st.text(bold=True, border=1))
            ws.write_string(row, 1, value, st.text(border=1))
            ws.set_row(row, 16 * wrapped_lines(value, widths[1]))
            row += 1
        row += 1
        ws.write_string(row, 0, "Cách điền", st.text(bold=True, size=12, wrap=False))
        row += 1
        lines = [*c.instructions, CONFIRM_GUIDE,
                 "Không sửa, không xóa các trang tính ẩn: chúng giúp máy tổng hợp nhận ra đơn vị"
                 " và vị trí từng ô số liệu."]
        for i, line in enumerate(lines, start=1):
            text = f"{i}. {line}"
            write_text(ws, row, 0, row, 1, text, st.text())
            ws.set_row(row, 16 * wrapped_lines(text, sum(widths)))
            row += 1
        row += 1
        ws.write_string(row, 0, "Các biểu trong tệp", st.text(bold=True, size=12, wrap=False))
        row += 1
        ws.write_string(row, 0, "Trang tính", st.label(bold=True, align="center"))
        ws.write_string(row, 1, "Phụ lục", st.label(bold=True, align="center"))
        row += 1
        for form in c.forms:
            text = f"{form.number}: {form.title}"
            ws.write_string(row, 0, form.sheet, st.label(align="center"))
            ws.write_string(row, 1, text, st.label())
            ws.set_row(row, 16 * wrapped_lines(text, widths[1]))
            row += 1
        setup_guide_print(ws, row - 1)
        ws.protect("", _protect_options())

    def _guide_facts(self) -> list[tuple[str, str]]:
        c = self.campaign
        unit, parent = self.unit, self.parent
        send_to = c.return_to
        if parent is not None:
            who = parent.name if parent.name not in send_to else ""
            extra = ", ".join(x for x in (who, f"thư điện tử: {parent.email}"
                                          if parent.email else "") if x)
            send_to = f"{send_to} ({extra})" if send_to and extra else (send_to or extra)
        return [
            ("Văn bản", f"{source_line(c)[len('(Kèm theo '):-1]}"),
            ("Đơn vị ban hành", c.issuer),
            ("Đơn vị báo cáo", unit.name if unit else f"{DOTS} (ghi tên đơn vị khi gửi)"),
            ("Mã đơn vị", unit.code if unit else "(tệp mẫu trống, chưa gắn đơn vị)"),
            ("Hạn nộp", self._deadline_text()),
            ("Gửi về", send_to or DOTS),
            ("Phiên bản mẫu", f"{c.template_version} (mã chiến dịch {c.id})"),
        ]

    def _deadline_text(self) -> str:
        """The unit's own level's deadline; on a blank, the deadlines of the levels its
        readers are at (an office's children may be of several levels: a province's
        districts and the communes reporting to it straight), else every deadline."""
        c = self.campaign
        if self.unit is not None:
            levels: Sequence[str] = (self.unit.level,)
        elif self.child_levels is not None:
            levels = [lv for lv in LEVELS if lv in self.child_levels]
        elif self.parent is not None:
            levels = [lv for lv in below(self.parent.level) if lv in c.deadlines]
        else:
            levels = ()
        if len(levels) == 1:
            day = c.deadline_for(levels[0])
            if day is not None:
                return f"Chậm nhất ngày {fmt_date(day)} ({name_of(levels[0])})"
            return "Theo kế hoạch (kế hoạch không nêu hạn cho cấp này)"
        shown = [lv for lv in levels if lv in c.deadlines] if levels else list(c.deadlines)
        parts = [f"{name_of(lv)}: {fmt_date(c.deadlines[lv])}" for lv in shown]
        return "Chậm nhất ngày — " + "; ".join(parts) if parts else "Theo kế hoạch"


def _protect_options() -> dict[str, Any]:
    return dict(PROTECT_OPTIONS)


def write_meta(workbook: Workbook, identity: dict[str, str],
               layouts: Sequence[FormLayout], kinds: Sequence[str] = ("input",),
               origins: Mapping[tuple[str, str], str] | None = None, *,
               confirm: bool = False) -> None:
    """The very hidden, protected ``_meta`` sheet, every cell written as text; ``origins``
    ((form, row) → unit) fills the map's optional origin column; ``confirm`` (a template)
    maps each form's confirmation cell."""
    ws = workbook.add_worksheet(META_SHEET)
    refs = cell_map(layouts, kinds, origins, confirm=confirm)
    for r, values in enumerate(meta_rows(identity, refs)):
        for c, value in enumerate(values):
            ws.write_string(r, c, str(value))
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 66)
    ws.very_hidden()
    ws.protect("", _protect_options())


def identity_for(campaign: Campaign, unit: Unit | None, kind: str,
                 generated_at: dt.datetime) -> dict[str, str]:
    """The identity block of ``_meta`` (keys exactly :data:`toolkit.spec.meta.IDENTITY_KEYS`)."""
    return {
        "campaign": campaign.id,
        "unit_code": unit.code if unit else "",
        "unit_name": unit.name if unit else "",
        "kind": kind,
        "template_version": campaign.template_version,
        "spec_sha256": campaign.spec_sha256,
        "generated_at": generated_at.isoformat(timespec="seconds"),
    }


# --------------------------------------------------------------------------- public API


def template_bytes(
    campaign: Campaign,
    unit: Unit | None,
    parent: Unit | None,
    *,
    generated_at: dt.datetime | None = None,
    targets: UnitTargets | None = None,
    child_levels: Sequence[str] | None = None,
) -> bytes:
    """One template workbook, in memory. ``unit=None`` gives the blank template; ``parent``
    is the office the unit reports to (heading and "Gửi về"); ``targets`` is the unit's
    allocation (form → indicator → target, None = "không giao"), shown locked;
    ``child_levels``: the levels of the office's children, whose deadlines a blank shows
    (None: the levels below ``parent``)."""
    when = generated_at or default_generated_at(campaign)
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    writer = _Writer(workbook, campaign, unit, parent, targets, child_levels)
    writer.guide_sheet()
    layouts = [writer.form_sheet(form) for form in campaign.forms]
    identity = identity_for(campaign, unit, "template", when)
    write_meta(workbook, identity, layouts, confirm=True)
    who = unit.name if unit else "mẫu trống"
    set_properties(workbook, title=f"{campaign.document_number} — {who}",
                   subject=campaign.title, author=campaign.issuer, created=when,
                   identity=identity)
    workbook.close()
    return buffer.getvalue()


def make_templates(
    campaign: Campaign,
    units: UnitRegistry,
    office: Unit,
    out_dir: Path,
    *,
    generated_at: dt.datetime | None = None,
    allocation: Mapping[str, UnitTargets] | None = None,
) -> TemplatesResult:
    """Write one template per direct child of ``office`` and one blank into ``out_dir``.

    ``allocation`` (unit code → that unit's targets, from :mod:`toolkit.write.allocation`)
    pre-fills and locks each unit's targets; a unit it does not list sees "không giao"."""
    out = ensure_dir(Path(out_dir)).resolve()
    jobs: list[tuple[str, Unit | None, UnitTargets | None]] = []
    files: list[Path] = []
    children = units.children(office.code)  # any lower level; merged units get none
    for child in children:
        target = _inside(out, template_filename(campaign, child))
        if target in files:
            raise OutputError(f"Hai đơn vị cho cùng tên tệp {target.name}; hãy sửa mã đơn vị "
                              "trong tệp đơn vị")
        own = None if allocation is None else allocation.get(child.code) or {
            f.id: dict.fromkeys(i.key for i in f.indicators) for f in campaign.forms
            if f.kind == "targets"}  # a unit the allocation does not list: "không giao"
        files.append(target)
        jobs.append((str(target), child, own))
    blank = _inside(out, template_filename(campaign, None))
    jobs.append((str(blank), None, None))
    # a province writes ~2,000 workbooks: one process per CPU, each file written whole
    for _done in ordered_map(_write_template, jobs, timeout=WRITE_SECONDS, failed=_not_written,
                             initializer=_init_writer,
                             initargs=(campaign, office, generated_at,
                                       tuple(child_levels(children)))):
        pass
    return TemplatesResult(files=files, blank=blank)


def child_levels(children: Sequence[Unit]) -> list[str]:
    """The levels of ``children``, top to bottom (whose deadlines the blank shows)."""
    present = {u.level for u in children}
    return [lv for lv in LEVELS if lv in present]


WRITE_SECONDS = 600.0  # one template takes ~50 ms; this only stops a stuck process
_WRITER: dict[str, Any] = {}


def _init_writer(campaign: Campaign, office: Unit, generated_at: dt.datetime | None,
                 levels: tuple[str, ...]) -> None:
    _WRITER.update(campaign=campaign, office=office, generated_at=generated_at, levels=levels)


def _write_template(job: tuple[str, Unit | None, UnitTargets | None]) -> str:
    target, unit, own = job
    write_bytes(Path(target), template_bytes(_WRITER["campaign"], unit, _WRITER["office"],
                                             generated_at=_WRITER["generated_at"], targets=own,
                                             child_levels=_WRITER["levels"]))
    return target


def _not_written(job: tuple[str, Unit | None, UnitTargets | None], code: str,
                 detail: str) -> str:
    raise OutputError(f"Không ghi được {Path(job[0]).name}: {detail}")


def _inside(out: Path, name: str) -> Path:
    target = (out / name).resolve()
    if target.parent != out:
        raise OutputError(f"Tên tệp {name!r} nằm ngoài thư mục kết quả {out}")
    return target


# --------------------------------------------------------------------------- golden files


def golden_dir() -> Path:
    """``workbook_templates/`` at the repository root."""
    return Path(__file__).resolve().parents[2] / "workbook_templates"


def golden_path(campaign_id: str) -> Path:
    return golden_dir() / f"{campaign_id}.xlsx"


def golden_bytes(campaign: Campaign) -> bytes:
    """The committed blank template: no unit, no office."""
    return template_bytes(campaign, None, None)


def regenerate_golden(campaign_ids: Sequence[str] | None = None) -> list[Path]:
    """Rewrite ``workbook_templates/<id>.xlsx`` for the built-in campaigns."""
    from toolkit.spec.load import list_builtin_campaigns, load_campaign

    written = []
    for cid in campaign_ids or list_builtin_campaigns():
        campaign = load_campaign(cid)
        path = golden_path(campaign.id)
        write_bytes(path, golden_bytes(campaign))
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m toolkit.write.templates --regenerate-golden [CAMPAIGN…]``."""
    parser = argparse.ArgumentParser(prog="python -m toolkit.write.templates")
    parser.add_argument("--regenerate-golden", action="store_true",
                        help="rewrite workbook_templates/<campaign>.xlsx")
    parser.add_argument("campaigns", nargs="*")
    args = parser.parse_args(argv)
    if not args.regenerate_golden:
        parser.print_help()
        return 2
    for path in regenerate_golden(args.campaigns or None):
        print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
