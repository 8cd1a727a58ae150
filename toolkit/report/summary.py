"""The office's summary workbook: who reported, the aggregated figures of every form, every
finding — and, through its hidden ``_meta`` (kind ``summary``), the office's own
submission to the level above.

Writers only render: every figure comes from the :class:`ConsolidationResult`; nothing is
recomputed here except counts of statuses. Every submitted string is written as text, so a
value like ``=HYPERLINK(…)`` typed by a unit stays inert.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from toolkit.report.calls import write_call_sheet
from toolkit.spec.campaign import Column
from toolkit.spec.findings import label as finding_label
from toolkit.spec.layout import (
    HEADER_TOP,
    FormLayout,
    a1,
    form_layout,
)
from toolkit.spec.models import (
    RECEIVED_SOURCES,
    SEVERITY_LABELS,
    STATUS_LABELS,
    ConsolidationResult,
    Finding,
    FormSummary,
    Submission,
    is_late,
    local_time,
)
from toolkit.spec.units import Unit
from toolkit.write.styles import (
    WORKBOOK_OPTIONS,
    Styles,
    set_properties,
    setup_print,
    setup_sheet,
    source_line,
    text_lines,
    write_header,
    write_heading,
    write_text,
)
from toolkit.write.targets_sheets import write_summary_sheet
from toolkit.write.templates import identity_for, write_meta

STATUS_SHEET = "Tình hình nộp"
FINDINGS_SHEET = "Lỗi"
UNIT_COLUMN = ("unit", "Đơn vị", 28.0)
ON_TIME, LATE, NO_DEADLINE, UNKNOWN = "Đúng hạn", "Trễ hạn", "Không có hạn", "Không rõ"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
STATUS_COLUMNS: tuple[tuple[str, float], ...] = (
    ("TT", 5), ("Mã đơn vị", 9), ("Tên đơn vị", 30), ("Trạng thái", 19), ("Tệp", 32),
    ("Thời gian nhận", 16), ("Nguồn thời gian nhận", 13), ("Hạn nộp", 11),
    ("Đúng hạn / trễ hạn", 11), ("Số lỗi", 7), ("Số cảnh báo", 9), ("Ghi chú", 32),
)
FINDING_COLUMNS: tuple[tuple[str, float], ...] = (
    ("Tệp", 30), ("Đơn vị", 26), ("Phụ lục", 8), ("Ô", 7), ("Cột", 30), ("Mức độ", 9),
    ("Loại", 18), ("Nội dung", 60), ("Giá trị", 18),
)


def timeliness(received_at: dt.datetime | None, deadline: dt.date | None,
               *, arrived: bool = False) -> str:
    """``Đúng hạn`` / ``Trễ hạn`` by the Vietnam calendar day; ``Không rõ`` when a file
    ``arrived`` but its time is unknown (never judged late); empty when nothing arrived."""
    if received_at is None:
        return UNKNOWN if arrived else ""
    late = is_late(received_at, deadline)
    return NO_DEADLINE if late is None else LATE if late else ON_TIME


def summary_layout(fs: FormSummary) -> FormLayout:
    """The summary's layout of one form: the result's rows, plus the unit's name as an extra
    column for list forms (their rows are records, not units)."""
    rows = [(r.key or r.unit_code, r.label, r.kind) for r in fs.rows]
    extra = [UNIT_COLUMN] if fs.form.kind == "list" else []
    return form_layout(fs.form, rows=rows, extra_columns=extra)


class _SummaryWriter:
    def __init__(self, workbook: Workbook, result: ConsolidationResult,
                 generated_at: dt.datetime) -> None:
        self.wb = workbook
        self.st = Styles(workbook)
        self.result = result
        self.generated_at = generated_at
        parent = result.office_parent
        self.org = parent.name if parent is not None else ""
        self.names = {u.code: u.name for u in [result.office, *result.expected]}
        day = local_time(generated_at) or generated_at
        self.place_date = f"……, ngày {day:%d} tháng {day:%m} năm {day:%Y}"

    # ------------------------------------------------------------------ status sheet
    def status_sheet(self) -> None:
        """Counts at the top, a pie chart of statuses, then one row per expected unit and
        one per extra file (superseded, unidentified, skipped)."""
        r, st = self.result, self.st
        ws = self.wb.add_worksheet(STATUS_SHEET)
        widths = {i: w for i, (_label, w) in enumerate(STATUS_COLUMNS)}
        last_col = len(STATUS_COLUMNS) - 1
        when = local_time(self.generated_at)
        write_heading(
            ws, st, widths, last_col, org=self.org, unit=r.office.name,
            number="Tình hình nộp báo cáo", title=r.campaign.title,
            place_date=self.place_date,
            source=f"{source_line(r.campaign)[:-1]}; tổng hợp lúc "
                   f"{when:%H:%M} ngày {when:%d/%m/%Y})" if when else source_line(r.campaign),
        )
        unit_rows = [(u, r.chosen(u.code)) for u in r.expected]
        counts = self._counts(unit_rows)
        row = HEADER_TOP
        cells: dict[str, str] = {}
        for key, label, value in counts:
            write_text(ws, row, 0, row, 2, label, st.label(bold=key == "expected"))
            if isinstance(value, str):  # a rate: formula over the counts above
                num, den = cells[value.split("/")[0]], cells[value.split("/")[1]]
                rate = self._rate(counts, value)
                ws.write_formula(row, 3, f'=IF({den}>0,{num}/{den},"")', st.ratio(bold=True),
                                 "" if rate is None else rate)
            else:
                ws.write_number(row, 3, value, st.value("count", bold=key == "expected"))
            cells[key] = a1(row, 3)
            row += 1
        self._status_chart(ws, counts)
        top = row + 1
        for col, (label, _w) in enumerate(STATUS_COLUMNS):
            ws.write_string(top, col, label, st.header())
        ws.set_row(top, 32)
        row = top + 1
        for i, (unit, sub) in enumerate(unit_rows, start=1):
            status = r.status_of(unit.code)
            self._status_row(ws, row, i, unit.code, unit.name, status, sub,
                             r.campaign.deadline_for(unit.level))
            row += 1
        extra = [s for s in r.submissions if s.status in ("superseded", "unidentified")]
        for i, sub in enumerate(extra, start=len(unit_rows) + 1):
            level = next((u.level for u in r.expected if u.code == sub.unit_code), None)
            deadline = r.campaign.deadline_for(level) if level else None
            self._status_row(ws, row, i, sub.unit_code, sub.unit_name or
                             self.names.get(sub.unit_code, ""), sub.status, sub, deadline)
            row += 1
        for i, (file, why) in enumerate(r.skipped, start=len(unit_rows) + len(extra) + 1):
            ws.write_number(row, 0, i, st.label(align="center"))
            values = ["", "", "Bỏ qua", file, "", "", "", "", "", "", why]
            for col, value in enumerate(values, start=1):
                ws.write_string(row, col, value, st.label())
            row += 1
        if row > top + 1:
            ws.autofilter(top, 0, row - 1, last_col)
        setup_print(ws, widths, last_row=max(row - 1, top), last_col=last_col,
                    repeat=(top, top), freeze=(top + 1, 3))

    def _counts(self, unit_rows: Sequence[tuple[Unit, Submission | None]]
                ) -> list[tuple[str, str, Any]]:
        r = self.result
        statuses = [r.status_of(u.code) for u, _ in unit_rows]
        files = [s.status for s in r.submissions]
        on_time = sum(
            1 for u, sub in unit_rows
            if sub is not None and timeliness(sub.received_at,
                                              r.campaign.deadline_for(u.level)) in (
                ON_TIME, NO_DEADLINE)
        )
        return [
            ("expected", "Số đơn vị phải nộp", len(r.expected)),
            ("accepted", f"{STATUS_LABELS['accepted']} (đơn vị)", statuses.count("accepted")),
            ("rejected", f"{STATUS_LABELS['rejected']} (đơn vị)", statuses.count("rejected")),
            ("missing", f"{STATUS_LABELS['missing']} (đơn vị)", statuses.count("missing")),
            ("superseded", f"{STATUS_LABELS['superseded']} (tệp)", files.count("superseded")),
            ("unidentified", f"{STATUS_LABELS['unidentified']} (tệp)",
             files.count("unidentified")),
            ("on_time", "Số đơn vị nộp đúng hạn", on_time),
            ("on_time_rate", "Tỷ lệ đơn vị nộp đúng hạn", "on_time/expected"),
            ("accepted_rate", "Tỷ lệ đơn vị có báo cáo hợp lệ", "accepted/expected"),
        ]

    @staticmethod
    def _rate(counts: Sequence[tuple[str, str, Any]], spec: str) -> float | None:
        values = {k: v for k, _label, v in counts}
        num, den = (values[k] for k in spec.split("/"))
        return num / den if den else None

    def _status_chart(self, ws: Worksheet, counts: Sequence[tuple[str, str, Any]]) -> None:
        """A native pie of accepted / rejected / missing units, beside the counts."""
        chart = self.wb.add_chart({"type": "pie"})
        first = HEADER_TOP + 1  # accepted, rejected, missing follow "expected"
        chart.add_series({
            "name": "Tình hình nộp",
            "categories": [STATUS_SHEET, first, 0, first + 2, 0],
            "values": [STATUS_SHEET, first, 3, first + 2, 3],
            "data_labels": {"value": True, "percentage": True, "separator": "\n"},
            "points": [{"fill": {"color": "#70AD47"}}, {"fill": {"color": "#ED7D31"}},
                       {"fill": {"color": "#A5A5A5"}}],
        })
        chart.set_title({"name": "Tình hình nộp báo cáo",
                         "name_font": {"name": "Times New Roman", "size": 11}})
        chart.set_legend({"position": "right", "font": {"name": "Times New Roman", "size": 9}})
        chart.set_size({"width": 430, "height": 20 * len(counts) + 10})
        ws.insert_chart(HEADER_TOP, 5, chart, {"x_offset": 4, "y_offset": 2,
                                               "object_position": 3})

    def _status_row(self, ws: Worksheet, row: int, number: int, code: str, name: str,
                    status: str, sub: Submission | None, deadline: dt.date | None) -> None:
        st = self.st
        received = local_time(sub.received_at) if sub else None
        texts = {
            1: code, 2: name, 3: STATUS_LABELS.get(status, status),
            4: sub.file if sub else "",
            6: RECEIVED_SOURCES.get(sub.received_source, "") if sub else "",
            8: timeliness(sub.received_at, deadline, arrived=True) if sub else "",
            11: sub.reason if sub else "",
        }
        ws.write_number(row, 0, number, st.label(align="center"))
        for col, text in texts.items():
            bold = col == 8 and text == LATE
            ws.write_string(row, col, text, st.label(bold=bold))
        if received is not None:
            ws.write_datetime(row, 5, received, st.get(border=1, num_format=DATETIME_FORMAT,
                                                       align="center"))
        else:
            ws.write_blank(row, 5, None, st.label())
        if deadline is not None:
            ws.write_datetime(row, 7, dt.datetime.combine(deadline, dt.time()),
                              st.value("date"))
        else:
            ws.write_blank(row, 7, None, st.label())
        for col, value in ((9, sub.errors if sub else None), (10, sub.warnings if sub else None)):
            if value is None:
                ws.write_blank(row, col, None, st.label())
            else:
                ws.write_number(row, col, value, st.value("count"))

    # ------------------------------------------------------------------ form sheets
    def form_sheet(self, fs: FormSummary) -> FormLayout:
        """One form: the result's rows laid out like the template, figures as values."""
        r, st = self.result, self.st
        form = fs.form
        if form.kind == "targets":
            ws = self.wb.add_worksheet(form.sheet)
            return write_summary_sheet(self.wb, st, ws, fs, lambda widths, last: write_heading(
                ws, st, widths, last, org=self.org, unit=r.office.name,
                number=f"Tổng hợp {form.number}", title=form.title,
                source=source_line(r.campaign), place_date=self.place_date))
        layout = summary_layout(fs)
        ws = self.wb.add_worksheet(form.sheet)
        write_heading(ws, st, layout.widths, layout.last_col, org=self.org,
                      unit=r.office.name, number=f"Tổng hợp {form.number}", title=form.title,
                      source=source_line(r.campaign), place_date=self.place_date)
        write_header(ws, st, layout)
        for row, data in zip(layout.rows, fs.rows, strict=True):
            bold = row.kind == "total" or (row.kind == "office" and form.kind == "single_row")
            if form.kind == "list":
                ws.write_string(row.row, 0, data.label, st.label(align="center"))
                ws.write_string(row.row, layout.extra_columns["unit"],
                                data.unit_name or self.names.get(data.unit_code, ""),
                                st.label())
            else:
                align = "left" if form.kind == "single_row" else "center"
                ws.write_string(row.row, 0, data.label, st.label(bold=bold, align=align))
            for col in form.columns:
                self._value(ws, row.row, layout.columns[col.key], col,
                            data.values.get(col.key), bold)
            self._fit_row(ws, layout, row.row, data.label, data.values)
        last = layout.last_row
        if form.kind == "list":
            last = self._choice_tables(ws, layout, fs)
        elif form.kind == "fixed_rows":
            last = self._year_chart(ws, layout, fs)
        if not fs.rows:
            ws.write_string(layout.first_data_row, 0, "Chưa có số liệu.", st.text(italic=True,
                                                                                 wrap=False))
            last = max(last, layout.first_data_row)
        setup_sheet(ws, layout, last_row=last)
        return layout

    @staticmethod
    def _fit_row(ws: Worksheet, layout: FormLayout, row: int, label: str,
                 values: dict[str, Any]) -> None:
        """Tall enough for wrapped text (concatenated notes can be long); Excel caps 409."""
        lines = text_lines(label, layout.widths.get(0, 10.0))
        for col in layout.form.columns:
            value = values.get(col.key)
            if isinstance(value, str) and col.type in ("text", "choice"):
                # regular Times New Roman fits ~1.25 characters per width unit
                width = 1.25 * layout.widths[layout.columns[col.key]]
                lines = max(lines, text_lines(value, width))
        if lines > 1:
            ws.set_row(row, min(409.0, 15.0 * lines + 3))

    def _value(self, ws: Worksheet, row: int, col_index: int, col: Column, value: Any,
               bold: bool) -> None:
        st = self.st
        fmt = st.ratio(bold=bold) if not col.is_input else st.value(col.type, bold=bold)
        if value is None or value == "":
            ws.write_blank(row, col_index, None, fmt)
        elif isinstance(value, bool):
            ws.write_string(row, col_index, "Có" if value else "Không", fmt)
        elif isinstance(value, (int, float)):
            ws.write_number(row, col_index, value, fmt)
        elif isinstance(value, dt.datetime):
            ws.write_datetime(row, col_index, local_time(value), st.value("date", bold=bold))
        elif isinstance(value, dt.date):
            ws.write_datetime(row, col_index, dt.datetime.combine(value, dt.time()),
                              st.value("date", bold=bold))
        else:
            ws.write_string(row, col_index, str(value), fmt)

    def _choice_tables(self, ws: Worksheet, layout: FormLayout, fs: FormSummary) -> int:
        """"Số văn bản theo thể loại" under a list form: one small table per choice column."""
        st = self.st
        row = layout.last_row + 2
        label_col = layout.extra_columns.get("unit", 1)
        for key, counts in fs.choice_counts.items():
            col = fs.form.column(key)
            write_text(ws, row, 0, row, label_col + 1, f"Số văn bản theo {col.label.lower()}",
                       st.text(bold=True, wrap=False))
            row += 1
            ws.write_string(row, label_col, col.label, st.header())
            ws.write_string(row, label_col + 1, "Số văn bản", st.header())
            row += 1
            for choice, n in counts.items():
                ws.write_string(row, label_col, choice, st.label())
                ws.write_number(row, label_col + 1, n, st.value("count"))
                row += 1
            ws.write_string(row, label_col, "Tổng cộng", st.label(bold=True))
            ws.write_number(row, label_col + 1, sum(counts.values()),
                            st.value("count", bold=True))
            row += 2
        return row - 2

    def _year_chart(self, ws: Worksheet, layout: FormLayout, fs: FormSummary) -> int:
        """A native column chart of the count columns over the fixed rows (e.g. years)."""
        rows = [r for r in layout.rows if r.kind != "total"]
        cols = [c for c in fs.form.columns if c.type == "count" and c.is_input]
        if not rows or not cols:
            return layout.last_row
        chart = self.wb.add_chart({"type": "column"})
        sheet = fs.form.sheet
        first, last = rows[0].row, rows[-1].row
        for col in cols:
            c = layout.columns[col.key]
            chart.add_series({
                "name": col.label,
                "categories": [sheet, first, 0, last, 0],
                "values": [sheet, first, c, last, c],
                "data_labels": {"value": True, "font": {"size": 8}},
            })
        font = {"name": "Times New Roman", "size": 9}
        chart.set_title({"name": f"{fs.form.number}: theo {fs.form.row_header.lower()}",
                         "name_font": {"name": "Times New Roman", "size": 11}})
        chart.set_legend({"position": "bottom", "font": font})
        chart.set_x_axis({"num_font": font})
        chart.set_y_axis({"num_font": font, "major_gridlines": {"visible": True}})
        # as wide as the table (pixels ≈ 7 per width unit + padding): never cut by the print area
        table_px = sum(int(w * 7 + 5) for w in layout.widths.values())
        chart.set_size({"width": max(360, min(900, table_px - 10)), "height": 300})
        top = layout.last_row + 2
        ws.set_h_pagebreaks([top])  # the chart prints whole, on its own page
        ws.insert_chart(top, 0, chart, {"x_offset": 4, "y_offset": 4, "object_position": 3})
        return top + 15

    # ------------------------------------------------------------------ findings sheet
    def findings_sheet(self) -> None:
        """Every finding of every file, filterable."""
        st = self.st
        ws = self.wb.add_worksheet(FINDINGS_SHEET)
        findings = self.result.findings
        widths = {i: w for i, (_label, w) in enumerate(FINDING_COLUMNS)}
        last_col = len(FINDING_COLUMNS) - 1
        write_text(ws, 0, 0, 0, last_col, "DANH SÁCH LỖI VÀ CẢNH BÁO",
                   st.text(bold=True, size=13, align="center", wrap=False))
        write_text(ws, 1, 0, 1, last_col, f"{self.result.office.name} — "
                   f"{self.result.campaign.document_number}: {len(findings)} mục",
                   st.text(italic=True, align="center", wrap=False))
        top = 3
        for col, (label, _w) in enumerate(FINDING_COLUMNS):
            ws.write_string(top, col, label, st.header())
        for i, f in enumerate(findings, start=top + 1):
            values = self._finding_values(f)
            for col, value in enumerate(values):
                bold = col == 5 and f.severity == "error"
                ws.write_string(i, col, value, st.label(bold=bold))
            ws.set_row(i, 15 * max(1, text_lines(values[7], FINDING_COLUMNS[7][1])) + 3)
        last = top + len(findings)
        ws.autofilter(top, 0, last, last_col)
        if not findings:
            ws.write_string(top + 1, 0, "Không có lỗi hay cảnh báo nào.",
                            st.text(italic=True, wrap=False))
        setup_print(ws, widths, last_row=max(last, top + 1), last_col=last_col,
                    repeat=(top, top), freeze=(top + 1, 0))

    def _finding_values(self, f: Finding) -> list[str]:
        unit = f.unit_code
        name = self.names.get(f.unit_code, "")
        if name:
            unit = f"{f.unit_code} – {name}" if f.unit_code else name
        column = f.column
        with contextlib.suppress(KeyError):
            column = self.result.campaign.form(f.form).column(f.column).label
        return [f.file, unit, f.form, f.cell, column, SEVERITY_LABELS.get(f.severity,
                f.severity), finding_label(f.code), f.message, f.value]


# --------------------------------------------------------------------------- public API


def summary_bytes(result: ConsolidationResult, *, generated_at: dt.datetime | None = None
                  ) -> bytes:
    """The summary workbook of ``result``, in memory: status sheet, one sheet per form, the
    findings, and ``_meta`` (kind ``summary``) mapping the office's own rows."""
    when = generated_at or result.generated_at
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    writer = _SummaryWriter(workbook, result, when)
    writer.status_sheet()
    write_call_sheet(workbook, writer.st, result)
    layouts = [writer.form_sheet(fs) for fs in result.forms]
    writer.findings_sheet()
    identity = identity_for(result.campaign, result.office, "summary", when)
    write_meta(workbook, identity, layouts, kinds=("office",))
    created = when.astimezone(dt.UTC).replace(tzinfo=None) if when.tzinfo else when
    set_properties(workbook, title=f"Tổng hợp {result.campaign.document_number} — "
                   f"{result.office.name}", subject=result.campaign.title,
                   author=result.office.name, created=created, identity=identity)
    workbook.close()
    return buffer.getvalue()
