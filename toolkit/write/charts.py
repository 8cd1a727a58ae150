"""The summary's "Biểu đồ" sheet: every chart of the summary, each section on its own page.

Charts used to sit under their table, so their printed page began with the table's repeated
header and no rows under it. Here they print on pages of their own, with no repeated rows:
a fixed-rows form gets one chart per measure (classes and people never share an axis), a
targets form its completion per unit × indicator (the table, then the chart with the full
indicator names in the legend and the 100 % line).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from toolkit.spec.campaign import Column, Form
from toolkit.spec.layout import FormLayout
from toolkit.spec.models import FormSummary, SummaryRow
from toolkit.spec.targets import COMPLETION, TARGET
from toolkit.write.styles import FONT, SIDE_MARGIN, Styles, row_height, wrapped_lines, write_text

CHART_SHEET = "Biểu đồ"
FULL_MARK = "Mức 100% chỉ tiêu"
# What a count column counts, read from its header: the first word found names the axis.
MEASURES = (("người", "người"), ("đoàn viên", "người"), ("lớp", "lớp"),
            ("hội nghị", "hội nghị"), ("cuộc", "cuộc"), ("đơn vị", "đơn vị"),
            ("nhà", "nhà"), ("tổ chức", "tổ chức"), ("doanh nghiệp", "doanh nghiệp"),
            ("văn bản", "văn bản"))
WIDTHS = {0: 30.0, **{c: 11.0 for c in range(1, 12)}}
ROW_PX = 20  # a default row (15 pt) on screen
PAGE_PX = 660  # what fits on an A4 landscape page under the section title
CHART_PX = 1100  # as wide as the printed page (the columns of WIDTHS)


def measure_of(col: Column) -> str:
    """``người`` for "Số người tham gia", ``lớp`` for "Số lớp (hội nghị)": the unit a count
    is in, so that different units never share an axis."""
    text = col.label.lower()
    for word, measure in MEASURES:
        if word in text:
            return measure
    return col.header[-1].lower()


def by_measure(cols: Sequence[Column]) -> list[tuple[str, list[Column]]]:
    """Columns grouped by :func:`measure_of`, in column order."""
    groups: dict[str, list[Column]] = {}
    for col in cols:
        groups.setdefault(measure_of(col), []).append(col)
    return list(groups.items())


class ChartSheet:
    """The "Biểu đồ" sheet, created on the first chart; sections follow each other, each
    starting a new printed page."""

    def __init__(self, wb: Workbook, st: Styles) -> None:
        self.wb, self.st = wb, st
        self.ws: Worksheet | None = None
        self.row = 0
        self.breaks: list[int] = []

    def _sheet(self) -> Worksheet:
        if self.ws is None:
            self.ws = self.wb.add_worksheet(CHART_SHEET)
        return self.ws

    def _section(self, title: str) -> Worksheet:
        ws = self._sheet()
        if self.row:
            self.breaks.append(self.row)
        write_text(ws, self.row, 0, self.row, 8, title, self.st.text(bold=True, size=13,
                                                                     wrap=False))
        ws.set_row(self.row, 22)
        self.row += 2
        return ws

    def _font(self, size: int) -> dict[str, object]:
        return {"name": FONT, "size": size}

    def _place(self, ws: Worksheet, chart: object, height: int) -> None:
        ws.insert_chart(self.row, 0, chart, {"x_offset": 4, "y_offset": 4,
                                             "object_position": 3})
        self.row += math.ceil(height / ROW_PX) + 2

    def year_charts(self, fs: FormSummary, layout: FormLayout) -> None:
        """One column chart per measure over the fixed rows (years), from the form's sheet."""
        rows = [r for r in layout.rows if r.kind != "total"]
        cols = [c for c in fs.form.columns if c.type == "count" and c.is_input]
        if not rows or not cols:
            return
        groups = by_measure(cols)
        height = min(300, PAGE_PX // 2 - 2 * ROW_PX) if len(groups) > 1 else 360
        ws = self._section(f"{fs.form.number}: biểu đồ theo {fs.form.row_header.lower()}")
        sheet = fs.form.sheet
        first, last = rows[0].row, rows[-1].row
        for i, (measure, group) in enumerate(groups):
            if i and i % 2 == 0:  # two charts to a page
                self.breaks.append(self.row)
            chart = self.wb.add_chart({"type": "column"})
            for col in group:
                c = layout.columns[col.key]
                chart.add_series({
                    "name": col.label,
                    "categories": [sheet, first, 0, last, 0],
                    "values": [sheet, first, c, last, c],
                    "data_labels": {"value": True, "font": self._font(8)},
                })
            chart.set_title({"name": f"{fs.form.number}: số {measure}",
                             "name_font": self._font(11)})
            chart.set_legend({"position": "bottom", "font": self._font(9)})
            chart.set_x_axis({"num_font": self._font(9)})
            chart.set_y_axis({"num_font": self._font(9), "name": f"Số {measure}",
                              "name_font": self._font(9), "major_gridlines": {"visible": True}})
            chart.set_size({"width": CHART_PX, "height": height})
            self._place(ws, chart, height)

    def targets_section(self, form: Form, units: Sequence[SummaryRow]) -> None:
        """Completion by unit (rows) × indicator (columns), then a column chart of it with
        the 100 % line on its own page."""
        st = self.st
        ws = self._section(f"{form.number}: tỷ lệ hoàn thành chỉ tiêu theo đơn vị")
        names = list(dict.fromkeys(r.unit_name for r in units))
        covers = {r.unit_name: r.coverage for r in units if r.coverage is not None}
        inds = form.indicators
        head = self.row
        ws.write_string(head, 0, "Đơn vị", st.header())
        cells = [("Đơn vị", WIDTHS[0])]
        for j, ind in enumerate(inds, start=1):
            ws.write_string(head, j, ind.name, st.header())
            cells.append((ind.name, WIDTHS.get(j, 11.0)))
        mark = len(inds) + 1
        ws.write_string(head, mark, FULL_MARK, st.header())
        ws.set_row(head, row_height(cells, bold=True, padding=4))
        values = {(r.unit_name, r.key): r.values for r in units}
        for i, name in enumerate(names, start=head + 1):
            cov = covers.get(name)
            shown = f"{name} ({cov[0]}/{cov[1]} đơn vị)" if cov else name
            ws.write_string(i, 0, shown, st.label())
            ws.set_row(i, row_height([(shown, WIDTHS[0])], minimum=15.0))
            for j, ind in enumerate(inds, start=1):
                v = values.get((name, ind.key), {})
                if v.get(TARGET) is None:
                    ws.write_string(i, j, "—", st.label(align="center"))
                elif v.get(COMPLETION) is None:
                    ws.write_blank(i, j, None, st.ratio())
                else:
                    ws.write_number(i, j, v[COMPLETION], st.ratio())
            ws.write_number(i, mark, 1.0, st.ratio())
        if not names:
            ws.write_string(head + 1, 0, "Chưa có số liệu.", st.text(italic=True, wrap=False))
            self.row = head + 3
            return
        last = head + len(names)
        self.row = last + 2
        self.breaks.append(self.row)
        chart = self.wb.add_chart({"type": "column"})
        for j in range(1, len(inds) + 1):
            chart.add_series({"name": [CHART_SHEET, head, j],
                              "categories": [CHART_SHEET, head + 1, 0, last, 0],
                              "values": [CHART_SHEET, head + 1, j, last, j]})
        line = self.wb.add_chart({"type": "line"})
        line.add_series({"name": [CHART_SHEET, head, mark],
                         "categories": [CHART_SHEET, head + 1, 0, last, 0],
                         "values": [CHART_SHEET, head + 1, mark, last, mark],
                         "line": {"color": "#C00000", "width": 2, "dash_type": "dash"},
                         "marker": {"type": "none"}})
        chart.combine(line)
        font = self._font(9)
        chart.set_title({"name": f"{form.number}: tỷ lệ hoàn thành chỉ tiêu theo đơn vị",
                         "name_font": self._font(11)})
        chart.set_legend({"position": "bottom", "font": font})
        chart.set_x_axis({"num_font": font})
        chart.set_y_axis({"num_font": font, "num_format": "0%", "min": 0,
                          "major_gridlines": {"visible": True}})
        # the legend lists every indicator in full: one line each at the chart's width
        legend = sum(wrapped_lines(i.name, CHART_PX / 7.0 - 6, size=9) for i in inds) + 1
        height = min(PAGE_PX, 320 + 16 * legend)
        chart.set_size({"width": CHART_PX, "height": height})
        self._place(ws, chart, height)

    def finish(self) -> None:
        """Print setup: A4 landscape one page wide, a page per section, nothing repeated."""
        if self.ws is None:
            return
        ws = self.ws
        for col, width in WIDTHS.items():
            ws.set_column(col, col, width)
        ws.set_landscape()
        ws.set_paper(9)
        ws.set_margins(left=SIDE_MARGIN, right=SIDE_MARGIN, top=0.5, bottom=0.5)
        ws.center_horizontally()
        ws.fit_to_pages(1, 0)
        ws.set_h_pagebreaks(self.breaks)
        ws.print_area(0, 0, max(self.row - 1, 0), max(WIDTHS))
        ws.hide_gridlines(2)
        ws.set_footer('&C&"Times New Roman"&10Trang &P/&N')
