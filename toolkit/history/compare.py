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
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pandas as pd

from toolkit.history.store import HistoryStore
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
PREVIOUS_MEMO = "history.previous"  # the memo's entry (:func:`compare_run`)


Figures = dict[tuple[str, str, str], dict[str, float]]  # (form, row, column) → unit → value


@dataclass(frozen=True)
class Previous:
    """The earlier period chosen and its figures, keyed as this campaign names them:
    ``values`` flat by (unit, form, row, column); ``by_figure`` as a comparison reads them,
    (form, row, column) → unit → value, a fixed-row form's rows summed (:data:`ALL_ROWS`)."""

    campaign: str
    period: str
    values: dict[Key, float]
    by_figure: Figures


def _order(found: tuple[str, str]) -> tuple[int, str]:
    key = period_key(found[0])
    return (key if key is not None else -1, found[1])


def choose_period(store: HistoryStore, campaign: Campaign) -> tuple[CompareTarget, str] | None:
    """The earlier (target, period) to compare ``campaign``'s run with; None when the
    history holds none."""
    this = period_of(campaign)
    this_key = period_key(this)
    for target in campaign.compare_with or (CompareTarget(campaign.id),):
        periods = [p for p in store.period_list(target.campaign)
                   if not (target.campaign == campaign.id and p[0] == this)]
        if target.period:
            periods = [p for p in periods if p[0] == target.period]
        elif this_key is not None:
            periods = [p for p in periods if (k := period_key(p[0])) is None or k < this_key]
        if periods:
            return target, max(periods, key=_order)[0]
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
    remapped = set(mapping.values())
    fixed = {f.id for f in campaign.forms if f.kind == "fixed_rows"}
    wanted = {u.code for u in units.children(office_code)} | {office_code}
    # what each stored place means here, worked out once per place, not once per value:
    # its (form, row, column) in this campaign's keys and the figure it adds to
    places: dict[str, tuple[tuple[str, str, str], tuple[str, str, str]] | None] = {}
    for i, (form, row, col) in store.places().items():
        if (form, col) in mapping:
            form, col = mapping[(form, col)]
        elif (form, col) in remapped:
            places[str(i)] = None  # this key now holds another earlier column's figure
            continue
        places[str(i)] = ((form, row, col), (form, ALL_ROWS if form in fixed else row, col))
    owners: dict[str, str] = {}  # stored unit code → today's, "" when not this office's
    values: dict[Key, float] = {}
    by_figure: Figures = {}
    for unit, numbers in store.raw_numbers(target.campaign, period):
        owner = owners.get(unit)
        if owner is None:
            code = units.current(unit).code if units.lookup(unit) else unit
            owner = owners[unit] = code if code in wanted else ""
        if not owner:
            continue
        for place_id, num in numbers.items():
            place = places[place_id]
            if place is None:
                continue
            key = (owner, *place[0])
            if key in values:  # a merged unit's figure added to its successor's
                values[key] += num
            else:
                values[key] = num
            figure = by_figure.get(place[1])
            if figure is None:
                figure = by_figure[place[1]] = {}
            if owner in figure:
                figure[owner] += num
            else:
                figure[owner] = num
    return Previous(campaign=target.campaign, period=period, values=values,
                    by_figure=by_figure)


def previous_values(store: HistoryStore, campaign: Campaign, office_code: str,
                    units: UnitRegistry) -> dict[Key, float]:
    """Each unit's figure in the most recent earlier period (see :func:`previous_figures`):
    the mapping the plausibility checks take as ``previous``; empty without history."""
    found = previous_figures(store, campaign, office_code, units)
    return found.values if found is not None else {}


# --------------------------------------------------------------------------- comparison


def _only(figures: dict[str, float], wanted: set[str]) -> dict[str, float]:
    """The figures of the ``wanted`` units, in their order: a copy without the few others
    (the office's own figure, merged units), not a pass over every unit."""
    out = dict(figures)
    for code in figures.keys() - wanted:
        del out[code]
    return out


def _fsum(values: Iterable[float]) -> float | None:
    nums = list(values)
    return math.fsum(nums) if nums else None


def _numeric(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """``cols`` as numbers (anything else NaN); the frames' number columns, already floats,
    are taken as they are."""
    return pd.DataFrame({c: frame[c] if frame[c].dtype == "float64"
                         else pd.to_numeric(frame[c], errors="coerce") for c in cols},
                        index=frame.index)


def _one_row_each(frame: pd.DataFrame, data: pd.DataFrame, cols: list[str]
                  ) -> dict[str, dict[str, float]] | None:
    """Each unit's figures when every unit has one row (a single-row form): its values, no
    sum to make (as a sum of one value gives, -0 as 0), units in code order as a groupby
    gives them; None when some unit has several rows."""
    codes = [str(c) for c in frame["unit_code"].tolist()]
    if len(set(codes)) != len(codes):
        return None
    order = sorted(range(len(codes)), key=codes.__getitem__)
    ordered = [codes[i] for i in order]
    out = {}
    for col in cols:
        values = data[col].to_numpy(dtype="float64")[order].tolist()
        out[col] = {c: v + 0.0 for c, v in zip(ordered, values, strict=True) if v == v}
    return out


def current_figures(campaign: Campaign, frames: FormFrames) -> Figures:
    """This run's comparable figures from its accepted files: (form, row, column) → unit →
    value, a fixed-row form's rows summed (:data:`ALL_ROWS`)."""
    out: Figures = {}
    for form in campaign.forms:
        frame = frames.get(form.id)
        pairs = comparable(form)
        if frame is None or frame.empty or not pairs:
            continue
        cols = sorted({c for _r, c in pairs if c in frame.columns})
        if not cols:
            continue
        data = _numeric(frame, cols)
        if form.kind == "targets":
            data["unit_code"], data["row"] = frame["unit_code"], frame["row"].astype(str)
            sums = data.groupby(["row", "unit_code"])[cols].sum(min_count=1)
            for (row, unit), line in zip(sums.index.tolist(), sums.itertuples(index=False),
                                         strict=True):
                for col, value in zip(cols, line, strict=True):
                    if value == value:
                        out.setdefault((form.id, row, col), {})[unit] = float(value)
            continue
        row = ALL_ROWS if form.kind == "fixed_rows" else "-"
        single = _one_row_each(frame, data, cols) if form.kind == "single_row" else None
        if single is not None:
            for col in cols:
                out[(form.id, row, col)] = single[col]
            continue
        data["unit_code"] = frame["unit_code"]
        sums = data.groupby("unit_code")[cols].sum(min_count=1)
        for col in cols:
            series = sums[col].dropna()
            out[(form.id, row, col)] = dict(zip(series.index.tolist(),
                                                series.astype(float).tolist(), strict=True))
    return out


def _label(form: Form, row: str, col: str) -> str:
    label = form.column(col).label
    if form.kind == "targets":
        return f"{form.indicator(row).name} › {label}"
    if form.kind == "fixed_rows" and form.rows:
        return f"{label} (cả giai đoạn {form.rows[0].label}–{form.rows[-1].label})"
    return label


def trends(campaign: Campaign, frames: FormFrames) -> tuple[Trend, ...]:
    """Every summed column of every fixed-row form across its own rows: the office's totals
    (the sum over its units) per row."""
    out: list[Trend] = []
    for form in campaign.forms:
        frame = frames.get(form.id)
        if form.kind != "fixed_rows" or frame is None or frame.empty:
            continue
        cols = [c for _r, c in comparable(form) if c in frame.columns]
        data = _numeric(frame, cols)
        data["row"] = frame["row"].astype(str)
        sums = data.groupby("row")[cols].sum(min_count=1)
        for col in cols:
            by_row = sums[col].to_dict()
            points = tuple((r.label, None if (v := by_row.get(r.key)) is None or v != v
                            else float(v)) for r in form.rows)
            if any(v is not None for _label, v in points):
                out.append(Trend(form.id, col, form.column(col).label, points))
    return tuple(out)


def compare(campaign: Campaign, frames: FormFrames, unit_codes: Iterable[str],
            office_code: str, previous: Previous | None) -> Comparison:
    """This run (its accepted files' ``frames``) against ``previous``: per comparable figure
    the office's total and each of ``unit_codes``; and the fixed-row forms' trends."""
    codes = tuple(unit_codes)
    wanted = set(codes)
    indicators: list[IndicatorChange] = []
    if previous is not None:
        now = current_figures(campaign, frames)
        for form in campaign.forms:
            for row, col in comparable(form):
                earlier = previous.by_figure.get((form.id, row, col), {})
                cur = _only(now.get((form.id, row, col), {}), wanted)
                old = _only(earlier, wanted)
                total_now = _fsum(cur.values())
                total_before = earlier.get(office_code)
                if total_before is None:
                    total_before = _fsum(old.values())
                if total_now is None and total_before is None:
                    continue
                indicators.append(IndicatorChange(
                    form.id, row, col, _label(form, row, col), Change(total_now, total_before),
                    current=now.get((form.id, row, col), {}), previous=old, codes=codes))
    return Comparison(period=period_of(campaign),
                      previous_campaign=previous.campaign if previous else "",
                      previous_period=previous.period if previous else "",
                      indicators=tuple(indicators), trends=trends(campaign, frames))


def compare_run(path: Path, campaign: Campaign, frames: FormFrames, units: UnitRegistry,
                office_code: str, memo: dict[str, Any] | None = None,
                ) -> tuple[Comparison, dict[Key, float]]:
    """Open the history file ``path`` and compare a run with it: (the comparison, each
    unit's previous figures for the plausibility checks). A missing file is an empty
    history (and is not made here: only recording a run makes it). ``memo``: where a
    long-running process (the office's page) keeps the previous figures between runs;
    they are loaded again only when the earlier period's files or the units change."""
    previous = None
    if Path(path).exists():
        with HistoryStore(path) as store:
            previous = _previous(store, campaign, office_code, units, memo)
    # a merged unit's figures are its successor's: it gets no line of its own
    codes = [u.code for u in units.children(office_code) if not u.successor]
    comparison = compare(campaign, frames, codes, office_code, previous)
    return comparison, (previous.values if previous is not None else {})


def _previous(store: HistoryStore, campaign: Campaign, office_code: str,
              units: UnitRegistry, memo: dict[str, Any] | None) -> Previous | None:
    """:func:`previous_figures`, or the ``memo``'s when everything they come from is the
    same: the history file, the campaign (its spec and ``compare_with``), the office, the
    units' places and successors, and the earlier period's current files."""
    if memo is None:
        return previous_figures(store, campaign, office_code, units)
    chosen = choose_period(store, campaign)
    if chosen is None:
        return None
    target, period = chosen
    key = (str(store.path.resolve()), campaign.id, campaign.spec_sha256,
           repr(campaign.compare_with), office_code,
           hash(tuple(sorted((u.code, u.parent, u.successor) for u in units.units.values()))),
           repr(target), period, store.current_files(target.campaign, period))
    kept = memo.get(PREVIOUS_MEMO)
    if kept is not None and kept[0] == key:
        return cast(Previous, kept[1])
    previous = previous_figures(store, campaign, office_code, units)
    memo[PREVIOUS_MEMO] = (key, previous)
    return previous
