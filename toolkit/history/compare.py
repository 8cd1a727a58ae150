"""A run compared with an earlier period from the history, and each unit's previous figures.

Which earlier period: the campaign's ``compare_with`` targets in order (the first the
history holds figures of wins), else the campaign itself; of a target's periods, the one it
names, else the most recent one before this run's (by the last year a period names, then by
when it was recorded). Units follow merges: a unit's figures of that period count under the
unit that carries on its reporting today (:meth:`UnitRegistry.current`), the predecessors'
figures added up. Columns follow the target's mapping (same key by default).

The office's previous total is its own recorded figure when the history has it (its run,
or its summary workbook imported), else the sum of its units' previous figures.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from toolkit.history.store import HistoryStore, PeriodInfo
from toolkit.spec.campaign import Campaign, CompareTarget, Form
from toolkit.spec.compare import (
    ALL_ROWS,
    Change,
    Comparison,
    IndicatorChange,
    Trend,
    comparable,
    period_key,
    period_of,
)
from toolkit.spec.models import FormFrames
from toolkit.spec.units import UnitRegistry

Key = tuple[str, str, str, str]  # (unit code, form, row, column)


@dataclass(frozen=True)
class Previous:
    """The earlier period chosen and its figures, keyed as this campaign names them."""

    campaign: str
    period: str
    values: dict[Key, float]


def _order(info: PeriodInfo) -> tuple[int, str]:
    key = period_key(info.period)
    return (key if key is not None else -1, info.last_generated_at)


def choose_period(store: HistoryStore, campaign: Campaign) -> tuple[CompareTarget, str] | None:
    """The earlier (target, period) to compare ``campaign``'s run with; None when the
    history holds none."""
    this = period_of(campaign)
    this_key = period_key(this)
    for target in campaign.compare_with or (CompareTarget(campaign.id),):
        periods = [p for p in store.periods(target.campaign)
                   if not (p.campaign == campaign.id and p.period == this)]
        if target.period:
            periods = [p for p in periods if p.period == target.period]
        elif this_key is not None:
            earlier = [p for p in periods if (k := period_key(p.period)) is None or k < this_key]
            periods = earlier
        if periods:
            return target, max(periods, key=_order).period
    return None


def _column_map(target: CompareTarget) -> dict[tuple[str, str], tuple[str, str]]:
    """The earlier campaign's (form, column) → this campaign's, for the mapped columns."""
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for this, that in target.columns:
        a, _, b = this.partition(".")
        c, _, d = that.partition(".")
        out[(c, d)] = (a, b)
    return out


def previous_figures(store: HistoryStore, campaign: Campaign, office_code: str,
                     units: UnitRegistry) -> Previous | None:
    """The figures of the earlier period for ``office_code``'s units (and the office's own),
    keyed (today's unit code, form, row, column) in this campaign's column keys; numbers
    only; merged units' figures summed under their successor."""
    chosen = choose_period(store, campaign)
    if chosen is None:
        return None
    target, period = chosen
    mapping = _column_map(target)
    remapped = {(m[0], m[1]) for m in mapping.values()}
    wanted = {u.code for u in units.children(office_code)} | {office_code}
    current: dict[str, str] = {}
    values: dict[Key, float] = defaultdict(float)
    for unit, form, row, col, num in store.numbers(target.campaign, period):
        code = current.get(unit)
        if code is None:
            code = units.current(unit).code if units.lookup(unit) else unit
            current[unit] = code
        if code not in wanted:
            continue
        if (form, col) in mapping:
            form, col = mapping[(form, col)]
        elif (form, col) in remapped:
            continue  # this key now holds another earlier column's figure
        values[(code, form, row, col)] += num
    return Previous(campaign=target.campaign, period=period, values=dict(values))


def previous_values(store: HistoryStore, campaign: Campaign, office_code: str,
                    units: UnitRegistry) -> dict[Key, float]:
    """Each unit's figure in the most recent earlier period (see :func:`previous_figures`):
    the mapping the plausibility checks take as ``previous``; empty without history."""
    found = previous_figures(store, campaign, office_code, units)
    return found.values if found is not None else {}


# --------------------------------------------------------------------------- comparison


def _fsum(values: Iterable[float]) -> float | None:
    nums = list(values)
    return math.fsum(nums) if nums else None


def current_figures(campaign: Campaign, frames: FormFrames) -> dict[Key, float]:
    """This run's numbers by (unit code, form, row, column) from the accepted files."""
    out: dict[Key, float] = {}
    for form in campaign.forms:
        frame = frames.get(form.id)
        if frame is None or frame.empty or form.kind == "list":
            continue
        units, rows = frame["unit_code"].tolist(), frame["row"].tolist()
        for _row, col in comparable(form):
            if col not in frame.columns:
                continue
            for unit, row, value in zip(units, rows, frame[col].tolist(), strict=True):
                if isinstance(value, (int, float)) and not math.isnan(value):
                    out[(unit, form.id, str(row), col)] = float(value)
    return out


def _collapse(form: Form, figures: Mapping[Key, float]) -> dict[tuple[str, str, str], float]:
    """(unit, row, column) of ``form``'s comparable figures; a fixed-row form's rows summed
    into :data:`ALL_ROWS`."""
    out: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for (unit, form_id, row, col), value in figures.items():
        if form_id != form.id:
            continue
        out[(unit, ALL_ROWS if form.kind == "fixed_rows" else row, col)].append(value)
    return {k: math.fsum(v) for k, v in out.items()}


def _label(form: Form, row: str, col: str) -> str:
    label = form.column(col).label
    if form.kind == "targets":
        return f"{form.indicator(row).name} › {label}"
    if form.kind == "fixed_rows" and form.rows:
        return f"{label} (cả giai đoạn {form.rows[0].label}–{form.rows[-1].label})"
    return label


def trends(campaign: Campaign, figures: Mapping[Key, float]) -> tuple[Trend, ...]:
    """Every summed column of every fixed-row form across its own rows: the office's totals
    (the sum over its units) per row."""
    out: list[Trend] = []
    for form in campaign.forms:
        if form.kind != "fixed_rows":
            continue
        sums: dict[tuple[str, str], list[float]] = defaultdict(list)
        for (_unit, form_id, row, col), value in figures.items():
            if form_id == form.id:
                sums[(row, col)].append(value)
        for _all, col in comparable(form):
            points = tuple((r.label, _fsum(sums.get((r.key, col), []))) for r in form.rows)
            if any(v is not None for _label, v in points):
                out.append(Trend(form.id, col, form.column(col).label, points))
    return tuple(out)


def compare(campaign: Campaign, frames: FormFrames, unit_codes: Iterable[str],
            office_code: str, previous: Previous | None) -> Comparison:
    """This run (its accepted files' ``frames``) against ``previous``: per comparable figure
    the office's total and each of ``unit_codes``; and the fixed-row forms' trends."""
    codes = list(unit_codes)
    current = current_figures(campaign, frames)
    indicators: list[IndicatorChange] = []
    if previous is not None:
        for form in campaign.forms:
            now = _collapse(form, current)
            before = _collapse(form, previous.values)
            for row, col in comparable(form):
                units = tuple((code, Change(now.get((code, row, col)),
                                            before.get((code, row, col)))) for code in codes)
                total_now = _fsum(c.current for _code, c in units if c.current is not None)
                total_before = before.get((office_code, row, col))
                if total_before is None:
                    total_before = _fsum(c.previous for _code, c in units
                                         if c.previous is not None)
                if total_now is None and total_before is None:
                    continue
                indicators.append(IndicatorChange(
                    form.id, row, col, _label(form, row, col), Change(total_now, total_before),
                    tuple((code, c) for code, c in units
                          if c.current is not None or c.previous is not None)))
    return Comparison(period=period_of(campaign),
                      previous_campaign=previous.campaign if previous else "",
                      previous_period=previous.period if previous else "",
                      indicators=tuple(indicators), trends=trends(campaign, current))


def compare_run(path: Path, campaign: Campaign, frames: FormFrames, units: UnitRegistry,
                office_code: str) -> tuple[Comparison, dict[Key, float]]:
    """Open the history file ``path`` and compare a run with it: (the comparison, each
    unit's previous figures for the plausibility checks). A missing file is an empty
    history (and is not made here: only recording a run makes it)."""
    previous = None
    if Path(path).exists():
        with HistoryStore(path) as store:
            previous = previous_figures(store, campaign, office_code, units)
    # a merged unit's figures are its successor's: it gets no line of its own
    codes = [u.code for u in units.children(office_code) if not u.successor]
    comparison = compare(campaign, frames, codes, office_code, previous)
    return comparison, (previous.values if previous is not None else {})
