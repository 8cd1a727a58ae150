"""Sheets of a ``targets`` form: the unit's template rows and the office's summary sheet.

Kept apart from :mod:`toolkit.write.templates` and :mod:`toolkit.report.summary` because an
indicator row is not uniform like other forms' rows: a count has no denominator, a rate shows its
own %, an indicator the unit was not allocated is locked and marked "không giao", and the
completion formula differs by kind. Positions still come from :mod:`toolkit.spec.layout`, and
the value cells are exactly those of :func:`toolkit.report.targets.skip_columns`, so the ``_meta``
map and what the sheet shows cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from toolkit.spec.campaign import Column
from toolkit.spec.layout import HEADER_TOP, DataRow, FormLayout, a1
from toolkit.spec.models import FormSummary
from toolkit.spec.targets import (
    COMPLETION,
    EXPECTED,
    NOT_ALLOCATED,
    NOTE,
    RESULT,
    RESULT_BASE,
    RESULT_RATE,
    TARGET,
    completion_formula,
    target_column,
    target_of,
    target_state,
    targets_layout,
)
from toolkit.write.styles import (
    Styles,
    row_height,
    setup_print,
    write_header,
    write_signature,
    write_text,
)

GREY = "#D9D9D9"  # a cell that does not apply to this row
EXTRA_COLUMNS = (("Đánh giá (đạt / chưa đạt / vượt)", 11.0), ("Đơn vị chưa đạt chỉ tiêu", 24.0))


def rate_formula(layout: FormLayout, row: int) -> str:
    num = a1(row, layout.columns[RESULT])
    den = a1(row, layout.columns[RESULT_BASE])
    return f'=IF(ISNUMBER({den}),IF({den}>0,{num}/{den},""),"")'


def _row_height(ws: Worksheet, layout: FormLayout, row: int, label: str,
                more: Sequence[tuple[str, float]] = ()) -> None:
    """The indicator's name (bold in a summary) and any other wrapped text of the row."""
    ws.set_row(row, max(row_height([(label, layout.widths.get(0, 40.0))], bold=True,
                                   minimum=26.0), row_height(more)))


def write_template_rows(ws: Worksheet, st: Styles, layout: FormLayout,
                        targets: Mapping[str, float | None] | None,
                        validation: Callable[[Column], dict[str, Any]]) -> None:
    """The indicator rows of a unit's template, with validation on every input cell."""
    form = layout.form
    grey = st.get(border=1, bg_color=GREY)
    for r in layout.rows:
        ind = form.indicator(r.key)
        c = layout.columns
        state = target_state(ind, targets)
        ws.write_string(r.row, 0, ind.name, st.label())
        ws.write_string(r.row, layout.extra_columns["dvt"], ind.unit, st.label(align="center"))
        _row_height(ws, layout, r.row, ind.name)
        target_col = target_column(ind)
        if state == "given":
            ws.write_number(r.row, c[TARGET], float(target_of(ind, targets) or 0),
                            st.value("number", bold=True))
        elif state == "none":
            ws.write_string(r.row, c[TARGET], NOT_ALLOCATED,
                            st.get(border=1, italic=True, align="center", bg_color=GREY))
        else:
            _input(ws, st, r, c[TARGET], target_col, validation)
        asked = state != "none"
        for key in (RESULT, EXPECTED, RESULT_BASE):
            if key == RESULT_BASE and not ind.is_rate:
                ws.write_blank(r.row, c[key], None, grey)
            elif asked:
                _input(ws, st, r, c[key], form.column(key), validation)
            else:
                ws.write_blank(r.row, c[key], None, grey)
        if ind.is_rate and asked:
            ws.write_formula(r.row, c[RESULT_RATE], rate_formula(layout, r.row),
                             st.ratio(), "")
        else:
            ws.write_blank(r.row, c[RESULT_RATE], None, grey)
        if asked:
            ws.write_formula(r.row, c[COMPLETION], completion_formula(layout, r.row, ind),
                             st.ratio(bold=True), "")
        else:
            ws.write_blank(r.row, c[COMPLETION], None, grey)
        _input(ws, st, r, c[NOTE], form.column(NOTE), validation)


def _input(ws: Worksheet, st: Styles, r: DataRow, col_index: int, col: Column,
           validation: Callable[[Column], dict[str, Any]]) -> None:
    ws.write_blank(r.row, col_index, None, st.input(col.type))
    ws.data_validation(r.row, col_index, r.row, col_index, validation(col))


# --------------------------------------------------------------------------- summary


def _number(ws: Worksheet, row: int, col: int, value: Any, fmt: Any) -> None:
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, (int, float)):
        ws.write_number(row, col, value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def write_summary_sheet(wb: Workbook, st: Styles, ws: Worksheet, fs: FormSummary,
                        heading: Callable[[dict[int, float], int], None]) -> FormLayout:
    """The office's sheet of a targets form: per indicator the summed target and result,
    completion, status and the units behind target (these ``office`` rows are the map the
    level above reads), and the signature block. Completion per unit × indicator and its
    chart are on the "Biểu đồ" sheet (:mod:`toolkit.write.charts`)."""
    form = fs.form
    office = [r for r in fs.rows if r.kind == "office"]
    layout = targets_layout(form, summary=True)
    widths = dict(layout.widths)
    extra = {i: layout.last_col + 1 + i for i in range(len(EXTRA_COLUMNS))}
    for i, (_label, width) in enumerate(EXTRA_COLUMNS):
        widths[extra[i]] = width
    last_col = layout.last_col + len(EXTRA_COLUMNS)
    heading(widths, last_col)
    write_header(ws, st, layout)
    for i, (label, _w) in enumerate(EXTRA_COLUMNS):
        write_text(ws, HEADER_TOP, extra[i], layout.number_row - 1, extra[i], label, st.header())
        ws.write_string(layout.number_row, extra[i], f"({extra[i] + 1})", st.number_row())
    grey = st.get(border=1, bg_color=GREY)
    for r, data in zip(layout.rows, office, strict=True):
        ind = form.indicator(r.key)
        v = data.values
        c = layout.columns
        ws.write_string(r.row, 0, ind.name, st.label(bold=True))
        ws.write_string(r.row, layout.extra_columns["dvt"], ind.unit, st.label(align="center"))
        behind = "; ".join(v.get("behind") or [])
        _row_height(ws, layout, r.row, ind.name, [
            (behind, widths[extra[1]]), (str(v.get(NOTE) or ""), widths[c[NOTE]])])
        for key in (TARGET, RESULT, EXPECTED):
            # a rate's target over several units is a weighted mean (74.4166…): shown as a
            # percent with one decimal, kept exact in the cell
            look = "percent" if key == TARGET and ind.is_rate else "number"
            _number(ws, r.row, c[key], v.get(key), st.value(look, bold=True))
        if ind.is_rate:
            _number(ws, r.row, c[RESULT_BASE], v.get(RESULT_BASE), st.value("number"))
            _number(ws, r.row, c[RESULT_RATE], v.get(RESULT_RATE), st.ratio())
        else:
            ws.write_blank(r.row, c[RESULT_BASE], None, grey)
            ws.write_blank(r.row, c[RESULT_RATE], None, grey)
        _number(ws, r.row, c[COMPLETION], v.get(COMPLETION), st.ratio(bold=True))
        _number(ws, r.row, c[NOTE], v.get(NOTE), st.value("text"))
        ws.write_string(r.row, extra[0], str(v.get("status") or ""),
                        st.label(bold=True, align="center"))
        ws.write_string(r.row, extra[1], behind, st.label())
    last = write_signature(ws, st, widths, last_col, layout.last_row + 2, layout.number_row,
                           layout.last_row)
    setup_print(ws, widths, last_row=last, last_col=last_col,
                repeat=(HEADER_TOP, layout.number_row), freeze=(layout.first_data_row, 1))
    return layout
