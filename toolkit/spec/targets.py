"""Targets (chỉ tiêu): what a ``targets`` form means, in one place: its columns, which cells
of an indicator row are value cells, completion and status. The template's formulas, the
reader, the aggregation and the allocation workbook all take them from here.

A ``targets`` form has one row per indicator and the fixed columns of
:data:`toolkit.spec.campaign.TARGET_COLUMNS`. This module decides, for every level:

- which cells of an indicator row are value cells (a count has no denominator; an
  indicator a unit was not allocated has no target cell and shows "không giao");
- completion: a count is ``kết quả / chỉ tiêu``; a rate is
  ``(Σ số đạt / Σ tổng số) / (chỉ tiêu / 100)`` — a rate is never averaged;
- status: ``vượt`` above 100 %, ``đạt`` at 100 %, ``chưa đạt`` below;
- aggregation over units: targets and results of counts are summed; the target of a rate
  is weighted by each unit's denominator (Σ tᵢ·nᵢ / Σ nᵢ), so a district's summary carries
  to the province the target its units were given, and the province can weight it again.

The office's *own* allocation (the top row of the allocation workbook) is only checked
against the sum of its units' targets when the allocation is read (a warning): the
summary carries the sum of what the units were actually given.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from toolkit.spec.campaign import Column, Form, Indicator, Rule
from toolkit.spec.layout import FormLayout, a1, form_layout
from toolkit.spec.text import is_blank

# The fixed column set of every ``targets`` form (see docs/targets.md). Derived, never
# written in a spec, so that one reader and one aggregation serve every targets campaign.
TARGET = "chi_tieu"  # the target allocated by the superior level (a rate's: a percent)
RESULT = "ket_qua"  # the result so far (a rate's: how many reached it)
RESULT_BASE = "ket_qua_mau_so"  # a rate's denominator: how many there are
RESULT_RATE = "ty_le_ket_qua"  # a rate's result as a percent, computed
EXPECTED = "du_kien"  # expected by the end of the term
COMPLETION = "ty_le_hoan_thanh"  # result against target, computed by :func:`completion`
NOTE = "ghi_chu"
TARGET_RESULT = "Kết quả đến thời điểm báo cáo"
TARGET_COLUMNS: tuple[Column, ...] = (
    Column(TARGET, ("Chỉ tiêu được giao",), "number", min=0, width=11,
           note="Chỉ tiêu do cấp trên phân bổ (với tỷ lệ: phần trăm)."),
    Column(RESULT, (TARGET_RESULT, "Số lượng (tỷ lệ: số đạt)"), "number", min=0, width=11),
    Column(RESULT_BASE, (TARGET_RESULT, "Tổng số để tính tỷ lệ"), "number", min=0,
           width=11, note="Chỉ nhập ở dòng tỷ lệ: tổng số làm mẫu số."),
    Column(RESULT_RATE, (TARGET_RESULT, "Tỷ lệ đạt (%)"), "percent", aggregate="ratio",
           numerator=RESULT, denominator=RESULT_BASE, width=9),
    Column(EXPECTED, ("Dự kiến đến cuối nhiệm kỳ (tỷ lệ: số đạt)",), "number", min=0,
           width=12),
    Column(COMPLETION, ("Tỷ lệ hoàn thành (%)",), "percent", aggregate="completion",
           width=10),
    Column(NOTE, ("Ghi chú",), "text", aggregate="concat", width=20),
)
TARGET_RULES: tuple[Rule, ...] = (Rule(left=(RESULT,), op="le", right=RESULT_BASE),)

STATUS_OVER, STATUS_MET, STATUS_BEHIND = "vượt", "đạt", "chưa đạt"
NOT_ALLOCATED = "không giao"
UNIT_OF_MEASURE = ("dvt", "Đơn vị tính", 9.0)
RESULT_COLUMNS = (RESULT, RESULT_BASE, EXPECTED)
RATE_TARGET_NOTE = "Tỷ lệ phần trăm (70 nghĩa là 70%)."
UNALLOCATED_NOTE = "Để trống nếu không giao chỉ tiêu này cho đơn vị."
_EPS = 1e-9

# Targets of one unit: form id → indicator key → target (None = not allocated, "không
# giao"). An indicator absent from the mapping has no allocation information at all.
UnitTargets = Mapping[str, Mapping[str, float | None]]


def skip_columns(form: Form, targets: Mapping[str, float | None] | None,
                 *, summary: bool = False) -> dict[str, frozenset[str]]:
    """Per indicator, the columns that are *not* value cells of the ``_meta`` map.

    A count has no denominator. In a template, an indicator the unit was not allocated
    has no target cell (it shows "không giao"); its result cells stay in the map so that a
    result typed there anyway is read and reported."""
    out: dict[str, frozenset[str]] = {}
    for ind in form.indicators:
        skip = set() if ind.is_rate else {RESULT_BASE}
        if not summary and _allocated_none(ind, targets):
            skip.add(TARGET)
        out[ind.key] = frozenset(skip)
    return out


def _allocated_none(ind: Indicator, targets: Mapping[str, float | None] | None) -> bool:
    return targets is not None and ind.key in targets and targets[ind.key] is None


def target_of(ind: Indicator, targets: Mapping[str, float | None] | None) -> float | None:
    """The unit's allocated target, else the spec's default; None when there is none."""
    if targets is not None and ind.key in targets:
        return targets[ind.key]
    return ind.default_target


def target_state(ind: Indicator, targets: Mapping[str, float | None] | None) -> str:
    """``given`` (a locked figure), ``none`` ("không giao") or ``open`` (nobody allocated
    it: the unit types the target it was given on paper)."""
    if _allocated_none(ind, targets):
        return "none"
    return "given" if target_of(ind, targets) is not None else "open"


def target_column(ind: Indicator, *, allocating: bool = False) -> Column:
    """The cell a target is typed in: a number ≥ 0, a rate's a percent from 0 to 100. In
    the office's allocation workbook a blank cell means "không giao"."""
    col = TARGET_COLUMNS[0]
    if ind.is_rate:
        col = dataclasses.replace(col, max=100.0, note=RATE_TARGET_NOTE)
    if allocating:
        note = f"{RATE_TARGET_NOTE} {UNALLOCATED_NOTE}" if ind.is_rate else UNALLOCATED_NOTE
        col = dataclasses.replace(col, note=note)
    return col


# Completion, the one rule: a count is result / target; a rate is (result / result base) /
# (target / 100). :func:`completion` computes it, :func:`completion_formula` writes the
# same rule as the template's Excel formula; nothing else computes it.


def completion(ind: Indicator, target: Any, result: Any, denominator: Any = None
               ) -> float | None:
    """Completion as a fraction (1.0 = 100 %); None when it cannot be computed."""
    if is_blank(target) or is_blank(result) or float(target) <= 0:
        return None
    if not ind.is_rate:
        return float(result) / float(target)
    if is_blank(denominator) or float(denominator) <= 0:
        return None
    return (float(result) / float(denominator)) / (float(target) / 100.0)


def status(fraction: float | None) -> str:
    """``vượt`` / ``đạt`` / ``chưa đạt``; empty when completion is unknown."""
    if fraction is None:
        return ""
    if fraction > 1 + _EPS:
        return STATUS_OVER
    if fraction >= 1 - _EPS:
        return STATUS_MET
    return STATUS_BEHIND


def targets_layout(form: Form, targets: Mapping[str, float | None] | None = None, *,
                   rows: Sequence[tuple[str, str, str]] | None = None,
                   summary: bool = False) -> FormLayout:
    """The layout of a targets form: indicator rows, the unit-of-measure column, and value
    cells as :func:`toolkit.report.targets.skip_columns` decides."""
    if rows is None:
        kind = "office" if summary else "input"
        rows = [(i.key, i.name, kind) for i in form.indicators]
    return form_layout(form, rows, extra_columns=[UNIT_OF_MEASURE],
                       skip=skip_columns(form, targets, summary=summary))


def completion_formula(layout: FormLayout, row: int, ind: Indicator) -> str:
    """Completion in the sheet: count = result/target; rate = (số đạt/tổng số)/(target/100)."""
    c = layout.columns
    target, result = a1(row, c[TARGET]), a1(row, c[RESULT])
    if not ind.is_rate:
        return (f'=IF(AND(ISNUMBER({target}),ISNUMBER({result})),IF({target}>0,'
                f'{result}/{target},""),"")')
    den = a1(row, c[RESULT_BASE])
    return (f'=IF(AND(ISNUMBER({target}),ISNUMBER({result}),ISNUMBER({den})),'
            f'IF(AND({target}>0,{den}>0),({result}/{den})/({target}/100),""),"")')


