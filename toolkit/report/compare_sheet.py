"""The summary's «So sánh» sheet: this period against the earlier one, from the run's
:class:`~toolkit.spec.compare.Comparison` (computed by :mod:`toolkit.history.compare`).

Three parts, one printable A4 column set (TT, Biểu/Mã, Chỉ tiêu/Đơn vị, Kỳ này, Kỳ trước,
Tăng/giảm, Tỷ lệ): I. the office's totals per figure; II. the same per unit;
III. the fixed-row forms across their own rows (2016 → 2020), which needs no history.
Figures are written as numbers, never recomputed here beyond a difference and a ratio.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from toolkit.spec.compare import Change, Comparison
from toolkit.spec.models import ConsolidationResult
from toolkit.write.styles import Styles, row_height, setup_print, write_text

COMPARE_SHEET = "So sánh"
COLUMNS: tuple[tuple[str, float], ...] = (
    ("TT", 5), ("Biểu", 9), ("Chỉ tiêu", 40), ("Kỳ này", 11), ("Kỳ trước", 11),
    ("Tăng (+) / giảm (−)", 11), ("Tỷ lệ tăng / giảm", 10),
)
UNIT_HEADER = ("TT", "Mã đơn vị", "Đơn vị", "Kỳ này", "Kỳ trước", "Tăng (+) / giảm (−)",
               "Tỷ lệ tăng / giảm")
TREND_HEADER = ("TT", "Biểu", "Năm", "Số liệu", "Năm trước", "Tăng (+) / giảm (−)",
                "Tỷ lệ tăng / giảm")
DELTA_FORMAT = "+#,##0.###;-#,##0.###;0"
PERCENT_CHANGE_FORMAT = "+0.0%;-0.0%;0.0%"
LAST = len(COLUMNS) - 1
# Part II lists every unit of an office with up to this many; above (a province of 2,000
# communes: 100,000 lines nobody prints), each figure lists its largest rises and falls
ALL_UNITS_UP_TO = 200
EACH_WAY = 15


class _Writer:
    def __init__(self, wb: Workbook, st: Styles, result: ConsolidationResult,
                 comparison: Comparison) -> None:
        self.ws: Worksheet = wb.add_worksheet(COMPARE_SHEET)
        self.st, self.result, self.cmp = st, result, comparison
        self.names = {u.code: u.name for u in result.expected}
        self.row = 0
        self.heights: dict[tuple[str, bool], float] = {}

    def kind(self, form_id: str, column: str) -> str:
        try:
            ctype = self.result.campaign.form(form_id).column(column).type
        except KeyError:
            return "number"
        return ctype if ctype in ("count", "money") else "number"

    def text_row(self, text: str, *, bold: bool = False, italic: bool = False,
                 size: int = 11, align: str = "left") -> None:
        write_text(self.ws, self.row, 0, self.row, LAST, text,
                   self.st.text(bold=bold, italic=italic, size=size, align=align))
        self.ws.set_row(self.row, row_height([(text, sum(w for _l, w in COLUMNS))],
                                             bold=bold, minimum=16))
        self.row += 1

    def header(self, labels: Sequence[str]) -> None:
        for col, label in enumerate(labels):
            self.ws.write_string(self.row, col, label, self.st.header())
        self.ws.set_row(self.row, 32)
        self.row += 1

    def figures(self, number: int, first: str, label: str, change: Change, kind: str, *,
                bold: bool = False) -> None:
        """One line: TT, a short key, a label, this period, the previous one, the change."""
        st, ws, row = self.st, self.ws, self.row
        ws.write_number(row, 0, number, st.label(align="center"))
        ws.write_string(row, 1, first, st.label(bold=bold, align="center"))
        ws.write_string(row, 2, label, st.label(bold=bold))
        for col, value, fmt in (
            (3, change.current, st.value(kind, bold=bold)),
            (4, change.previous, st.value(kind, bold=bold)),
            (5, change.delta, st.get(border=1, bold=bold, align="right", num_format=DELTA_FORMAT)),
            (6, change.ratio, st.get(border=1, bold=bold, align="right",
                                     num_format=PERCENT_CHANGE_FORMAT)),
        ):
            if value is None:
                ws.write_blank(row, col, None, st.label())
            else:
                ws.write_number(row, col, value, fmt)
        height = self.heights.get((label, bold))
        if height is None:
            height = self.heights[(label, bold)] = row_height([(label, COLUMNS[2][1])],
                                                              bold=bold)
        ws.set_row(row, height)
        self.row += 1

    # ------------------------------------------------------------------ parts
    def heading(self) -> None:
        r, cmp = self.result, self.cmp
        self.text_row("SO SÁNH VỚI KỲ TRƯỚC", bold=True, size=13, align="center")
        if cmp.has_previous:
            what = (f"{r.office.name} — kỳ này: {r.campaign.document_number} ({cmp.period}); "
                    f"kỳ trước: {cmp.previous_campaign} ({cmp.previous_period}), theo lịch sử "
                    "các lần tổng hợp")
        else:
            what = (f"{r.office.name} — {r.campaign.document_number} ({cmp.period}): lịch sử "
                    "chưa có số liệu kỳ trước (nạp bằng lệnh «toolkit history import»)")
        self.text_row(what, italic=True, align="center")
        self.row += 1

    def totals(self) -> None:
        self.text_row(f"I. TOÀN {self.result.office.name.upper()}", bold=True)
        self.header([label for label, _w in COLUMNS])
        for i, ind in enumerate(self.cmp.indicators, start=1):
            self.figures(i, ind.form, ind.label, ind.total, self.kind(ind.form, ind.column))
        self.row += 1

    def per_unit(self) -> None:
        self.text_row("II. THEO ĐƠN VỊ", bold=True)
        self.header(UNIT_HEADER)
        for ind in self.cmp.indicators:
            cur, old = ind.current, ind.previous
            reported = [c for c in ind.codes if c in cur or c in old]
            if not reported:
                continue
            self.text_row(f"{ind.form} › {ind.label}", bold=True)
            kind = self.kind(ind.form, ind.column)
            if len(reported) > ALL_UNITS_UP_TO:
                deltas = [(cur[c] - old[c], c) for c in reported
                          if c in cur and c in old and cur[c] != old[c]]
                shown = {c for _d, c in heapq.nsmallest(EACH_WAY, deltas)} | {
                    c for _d, c in heapq.nlargest(EACH_WAY, deltas)}
                self.text_row(f"{len(shown)} đơn vị tăng, giảm nhiều nhất trong "
                              f"{len(reported)} đơn vị (đủ mọi đơn vị: values.csv của hai kỳ)",
                              italic=True)
                reported = [c for c in reported if c in shown]
            for i, code in enumerate(reported, start=1):
                self.figures(i, code, self.names.get(code, code),
                             Change(cur.get(code), old.get(code)), kind)
        self.row += 1

    def trends(self, part: str) -> None:
        self.text_row(f"{part}. DIỄN BIẾN QUA CÁC NĂM (CÁC BIỂU THEO NĂM)", bold=True)
        self.header(TREND_HEADER)
        for trend in self.cmp.trends:
            self.text_row(f"{trend.form} › {trend.label}", bold=True)
            kind = self.kind(trend.form, trend.column)
            previous = None
            for i, (label, value) in enumerate(trend.points, start=1):
                self.figures(i, trend.form, label, Change(value, previous), kind)
                previous = value if value is not None else previous
            first, last = trend.points[0][0], trend.points[-1][0]
            self.figures(len(trend.points) + 1, trend.form, f"{last} so với {first}",
                         trend.change, kind, bold=True)
        self.row += 1


def write_compare_sheet(wb: Workbook, st: Styles, result: ConsolidationResult) -> None:
    """The «So sánh» sheet of ``result``'s summary; nothing when the run had no comparison
    (consolidated without a history) or nothing to compare."""
    cmp = result.comparison
    if cmp is None or not (cmp.indicators or cmp.trends or cmp.has_previous):
        return
    w = _Writer(wb, st, result, cmp)
    w.heading()
    if cmp.indicators:
        w.totals()
        w.per_unit()
    if cmp.trends:
        w.trends("III" if cmp.indicators else "I")
    widths = {i: width for i, (_label, width) in enumerate(COLUMNS)}
    setup_print(w.ws, widths, last_row=max(w.row - 1, 0), last_col=LAST, landscape=False)
