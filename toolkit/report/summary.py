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
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from toolkit.history.plausibility import to_check_text
from toolkit.report.calls import write_call_sheet
from toolkit.report.compare_sheet import write_compare_sheet
from toolkit.spec.campaign import Column
from toolkit.spec.findings import label as finding_label
from toolkit.spec.layout import (
    HEADER_TOP,
    FormLayout,
    a1,
    form_layout,
)
from toolkit.spec.meta import COVERAGE_KEYS
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
from toolkit.write.charts import ChartSheet
from toolkit.write.styles import (
    WORKBOOK_OPTIONS,
    Styles,
    place_date,
    row_height,
    set_properties,
    setup_print,
    setup_sheet,
    source_line,
    write_header,
    write_heading,
    write_signature,
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
    ("TT", 5), ("Mã đơn vị", 8), ("Tên đơn vị", 23), ("Trạng thái", 16), ("Tệp", 20),
    ("Thời gian nhận", 15), ("Nguồn thời gian nhận", 11), ("Hạn nộp", 11),
    ("Đúng hạn / trễ hạn", 10), ("Số lỗi", 6), ("Số cảnh báo", 8), ("Ghi chú", 22),
    ("Cần kiểm tra", 12),  # cells with a plausibility warning (toolkit.history.plausibility)
)
FINDING_COLUMNS: tuple[tuple[str, float], ...] = (
    ("Tệp", 24), ("Đơn vị", 22), ("Phụ lục", 8), ("Ô", 7), ("Cột", 22), ("Mức độ", 9),
    ("Loại", 16), ("Nội dung", 48), ("Giá trị", 14),
)


def _status_height(values: Sequence[str], start: int = 0) -> float:
    """Height of a status row whose cells from column ``start`` hold ``values``."""
    return row_height((v, STATUS_COLUMNS[col][1]) for col, v in enumerate(values, start=start))


def coverage_text(coverage: tuple[int, int]) -> str:
    """``27/32 đơn vị``: how many units a rolled-up summary covers."""
    return f"{coverage[0]}/{coverage[1]} đơn vị"


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
        self.place_date = place_date(result.office.place, day)
        self.source = source_line(result.campaign, result.office.name)
        self.charts = ChartSheet(workbook, self.st)
        self.coverage = {u.code: cov for u in result.expected
                         if (sub := result.chosen(u.code)) is not None
                         and result.status_of(u.code) == "accepted"
                         and sub.kind == "summary" and (cov := sub.coverage) is not None}
        self.chart_jobs: list[Callable[[], None]] = []

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
            source=f"{self.source[:-1]}; tổng hợp lúc "
                   f"{when:%H:%M} ngày {when:%d/%m/%Y})" if when else self.source,
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
            values = ["", "", "Bỏ qua", file, "", "", "", "", "", "", why, ""]
            for col, value in enumerate(values, start=1):
                ws.write_string(row, col, value, st.label())
            ws.set_row(row, _status_height(values, start=1))
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
            12: to_check_text(sub.findings) if sub and status == "accepted" else "",
        }
        if sub is not None and sub.kind == "summary" and sub.coverage is not None:
            note = f"Báo cáo tổng hợp {coverage_text(sub.coverage)}"
            texts[11] = f"{note}; {texts[11]}" if texts[11] else note
        ws.write_number(row, 0, number, st.label(align="center"))
        for col, text in texts.items():
            bold = col == 8 and text == LATE
            ws.write_string(row, col, text, st.label(bold=bold))
        ws.set_row(row, row_height((text, STATUS_COLUMNS[col][1]) for col, text in texts.items()))
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
            units = [row for row in fs.rows if row.kind == "unit"]
            self.chart_jobs.append(lambda: self.charts.targets_section(form, units))
            return write_summary_sheet(self.wb, st, ws, fs, lambda widths, last: write_heading(
                ws, st, widths, last, org=self.org, unit=r.office.name,
                number=f"Tổng hợp {form.number}", title=form.title,
                source=self.source, place_date=self.place_date))
        layout = summary_layout(fs)
        ws = self.wb.add_worksheet(form.sheet)
        write_heading(ws, st, layout.widths, layout.last_col, org=self.org,
                      unit=r.office.name, number=f"Tổng hợp {form.number}", title=form.title,
                      source=self.source, place_date=self.place_date)
        write_header(ws, st, layout)
        for row, data in zip(layout.rows, fs.rows, strict=True):
            bold = row.kind == "total" or (row.kind == "office" and form.kind == "single_row")
            extra: dict[str, str] = {}
            if form.kind == "list":
                ws.write_string(row.row, 0, data.label, st.label(align="center"))
                extra["unit"] = data.unit_name or self.names.get(data.unit_code, "")
                ws.write_string(row.row, layout.extra_columns["unit"], extra["unit"],
                                st.label())
            else:
                align = "left" if form.kind == "single_row" else "center"
                if data.coverage is not None:
                    data = replace(data, label=f"{data.label}\n({coverage_text(data.coverage)})")
                ws.write_string(row.row, 0, data.label, st.label(bold=bold, align=align))
            for col in form.columns:
                self._value(ws, row.row, layout.columns[col.key], col,
                            data.values.get(col.key), bold)
            self._fit_row(ws, layout, row.row, data.label, data.values, extra)
        top = layout.last_row + 2
        if not fs.rows:
            ws.write_string(layout.first_data_row, 0, "Chưa có số liệu.", st.text(italic=True,
                                                                                 wrap=False))
            top = max(top, layout.first_data_row + 2)
        top = self.coverage_note(ws, layout.widths, layout.last_col, top)
        last = write_signature(ws, st, layout.widths, layout.last_col, top, layout.number_row,
                               layout.last_row)
        if form.kind == "list":
            last = self._choice_tables(ws, layout, fs, last + 2)
        elif form.kind == "fixed_rows":
            self.chart_jobs.append(lambda: self.charts.year_charts(fs, layout))
        setup_sheet(ws, layout, last_row=last)
        return layout

    def coverage_note(self, ws: Worksheet, widths: dict[int, float], last_col: int,
                      top: int) -> int:
        """Under a form's table: how many units each rolled-up unit's figures cover (its
        summary's own count); the row after it. Nothing when no unit sent a summary."""
        if not self.coverage:
            return top
        parts = [f"{self.names.get(code, code)}: {coverage_text(cov)}"
                 for code, cov in self.coverage.items()]
        text = "Số liệu của đơn vị gửi báo cáo tổng hợp — " + "; ".join(parts) + "."
        write_text(ws, top, 0, top, last_col, text, self.st.text(italic=True))
        ws.set_row(top, row_height([(text, sum(widths.get(c, 8.43)
                                                for c in range(last_col + 1)))]))
        return top + 2

    @staticmethod
    def _fit_row(ws: Worksheet, layout: FormLayout, row: int, label: str,
                 values: dict[str, Any], extra: dict[str, str] | None = None) -> None:
        """Tall enough for wrapped text (concatenated notes can be long); Excel caps 409."""
        cells = [(label, layout.widths.get(0, 10.0))]
        for col in layout.form.columns:
            value = values.get(col.key)
            if isinstance(value, str) and col.type in ("text", "choice"):
                cells.append((value, layout.widths[layout.columns[col.key]]))
        for key, text in (extra or {}).items():
            cells.append((text, layout.widths[layout.extra_columns[key]]))
        ws.set_row(row, row_height(cells, minimum=18.0))

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

    def _choice_tables(self, ws: Worksheet, layout: FormLayout, fs: FormSummary,
                       top: int) -> int:
        """"Số văn bản theo thể loại" under a list form: one small table per choice column."""
        st = self.st
        row = top
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
            ws.set_row(i, row_height(zip(values, (w for _label, w in FINDING_COLUMNS),
                                         strict=True)))
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
    for job in writer.chart_jobs:  # the "Biểu đồ" sheet follows the form sheets
        job()
    writer.charts.finish()
    write_compare_sheet(workbook, writer.st, result)  # only with a history (consolidate(history=))
    writer.findings_sheet()
    identity = identity_for(result.campaign, result.office, "summary", when)
    covered = sum(1 for u in result.expected if result.status_of(u.code) == "accepted")
    identity.update(zip(COVERAGE_KEYS, (str(covered), str(len(result.expected))), strict=True))
    origins = {(fs.form.id, row.key): row.unit_name for fs in result.forms
               if fs.form.kind == "list" for row in fs.rows if row.unit_name}
    write_meta(workbook, identity, layouts, kinds=("office",), origins=origins)
    created = when.astimezone(dt.UTC).replace(tzinfo=None) if when.tzinfo else when
    set_properties(workbook, title=f"Tổng hợp {result.campaign.document_number} — "
                   f"{result.office.name}", subject=result.campaign.title,
                   author=result.office.name, created=created, identity=identity)
    workbook.close()
    return buffer.getvalue()
