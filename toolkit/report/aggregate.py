"""Aggregation: the typed values of accepted submissions → one :class:`FormSummary` per form.

Rules that matter to the office (DESIGN.md):

- blank is not 0: a sum over units that all left a cell blank stays blank (None);
- a rate is never averaged: ratio columns are recomputed as sum(numerator) / sum(denominator)
  over the records that give both, at every level (unit, year row, total);
- text is concatenated with the unit's name so every phrase keeps its source;
- a list row keeps where it came from: a rolled-up summary's row says which of its units
  issued it (``Huyện đoàn Thọ Xuân › Đoàn xã Xuân Hồng``), and a rolled-up unit's row says
  how many of its units its figures cover.

Sums use :func:`math.fsum` so money like 0.1 + 0.2 adds up exactly as typed; count columns
come back as ``int``. Blank values (None, NaN, empty text) are always ``None`` in the result,
never NaN, so writers need no pandas knowledge.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from itertools import filterfalse, repeat
from typing import Any

import pandas as pd

from toolkit.check.values import clean_value, column_number
from toolkit.report.targets import aggregate_targets
from toolkit.spec.campaign import Campaign, Column, Form
from toolkit.spec.layout import TOTAL_KEY
from toolkit.spec.models import FormFrames, FormSummary, Submission, SummaryRow
from toolkit.spec.text import is_blank
from toolkit.spec.units import Unit

TOTAL_LABEL = "Tổng cộng"
OFFICE_KEY = "-"
CONCAT_SEPARATOR = "; "
ORIGIN_SEPARATOR = " › "

Record = dict[str, Any]



def _blank(value: Any) -> bool:
    """:func:`is_blank`, with the frames' common case (a float, NaN when blank) first."""
    if type(value) is float:
        return value != value
    return is_blank(value)


def _sum(values: Iterable[Any], col: Column) -> float | int | None:
    """Exact sum of the non-blank values; None when every value is blank."""
    values = values if isinstance(values, list) else list(values)
    if all(map(isinstance, values, repeat(float))):  # the frames' numbers: NaN is a blank
        nums = list(filterfalse(math.isnan, values))
    else:
        nums = [v if type(v) is float else float(v) for v in values if not _blank(v)]
    if not nums:
        return None
    return column_number(math.fsum(nums), col)


def _ratio(records: Sequence[Record], col: Column) -> float | None:
    """sum(numerator) / sum(denominator) over the records giving both; None if that
    denominator is blank or 0. A fraction (0.42 for 42 %)."""
    assert col.numerator is not None and col.denominator is not None
    num_key, den_key = col.numerator, col.denominator
    pairs = [
        (float(n), float(d))
        for n, d in ((r.get(num_key, math.nan), r.get(den_key, math.nan)) for r in records)
        if (n == n if type(n) is float else not is_blank(n))
        and (d == d if type(d) is float else not is_blank(d))
    ]
    if not pairs:
        return None
    den = math.fsum(d for _, d in pairs)
    if den == 0:
        return None
    return math.fsum(n for n, _ in pairs) / den


def _concat(named: Iterable[tuple[str, Any]]) -> str | None:
    """``Unit name: text`` for every non-empty text, joined by ``; ``; None if none."""
    parts = [f"{name}: {clean_value(text)}" for name, text in named if not _blank(text)]
    return CONCAT_SEPARATOR.join(parts) if parts else None


def _own_values(form: Form, record: Record) -> dict[str, Any]:
    """One record's values as submitted, with its ratio columns recomputed."""
    values: dict[str, Any] = {}
    for col in form.columns:
        key = col.key
        if col.aggregate == "ratio":
            values[key] = _ratio([record], col)
            continue
        value = record.get(key)
        if type(value) is float:  # clean_value's own first case, without the call
            values[key] = None if value != value else (
                int(value) if col.type == "count" and value.is_integer() else value)
        else:
            values[key] = clean_value(value, col)
    return values


def _combined(
    form: Form, records: Sequence[Record], names: Sequence[str], concat: bool = True
) -> dict[str, Any]:
    """Values of several records combined by each column's ``aggregate``; ``names`` gives
    the unit name of each record for concatenation (``concat=False`` leaves text blank)."""
    values: dict[str, Any] = {}
    for col in form.columns:
        if col.aggregate == "sum":
            values[col.key] = _sum(list(map(dict.get, records, repeat(col.key))), col)
        elif col.aggregate == "ratio":
            values[col.key] = _ratio(records, col)
        elif col.aggregate == "concat" and concat:
            values[col.key] = _concat(
                (name, r.get(col.key)) for name, r in zip(names, records, strict=True)
            )
        else:
            values[col.key] = None
    return values


def _choice_counts(form: Form, records: Iterable[Record]) -> dict[str, dict[str, int]]:
    """Count per choice for every choice column: all spec choices listed (0 included) in
    spec order; a value outside the list (only possible from an older spec) is appended."""
    choice_cols = [c for c in form.columns if c.type == "choice"]
    counts = {c.key: dict.fromkeys(c.choices, 0) for c in choice_cols}
    for record in records:
        for col in choice_cols:
            value = clean_value(record.get(col.key), col)
            if value is None:
                continue
            counts[col.key][str(value)] = counts[col.key].get(str(value), 0) + 1
    return counts


def _row_order(form: Form) -> dict[str, int]:
    return {key: i for i, key in enumerate(form.row_keys())}


def _unit_records(
    form: Form, frame: pd.DataFrame | None, units: Sequence[Unit],
    memo: _FormMemo | None = None,
) -> dict[str, list[Record]]:
    """Records of each unit of ``units`` (by code), in the form's row order. With a
    ``memo``, a unit whose rows come from the same files as in the last run gets its
    records from there, and only the others are made from the frame."""
    by_unit: dict[str, list[Record]] = {u.code: [] for u in units}
    if frame is None or frame.empty:
        return by_unit
    keys = [str(k) for k in frame.columns]
    codes = frame["unit_code"].tolist() if "unit_code" in frame else [""] * len(frame)
    wanted: Sequence[int] = range(len(codes))
    if memo is not None:
        memo.place(codes, frame["file"].tolist() if "file" in frame else None, units)
        wanted = [pos for pos, code in enumerate(codes) if code in memo.fresh]
        for code, records in memo.records.items():
            by_unit[code] = records
    part = frame if memo is None else frame.take(list(wanted))
    columns = [part[k].tolist() for k in part.columns]  # Python floats and objects, as
    rows = zip(*columns, strict=True)  # to_dict would give
    fresh: set[str] = set()
    for position, values in zip(wanted, rows, strict=True):
        code = str(codes[position])
        if code in by_unit:
            record = dict(zip(keys, values, strict=True))
            record["_position"] = position
            by_unit[code].append(record)
            fresh.add(code)
    order = _row_order(form)
    for code in fresh:
        by_unit[code].sort(key=lambda r: (order.get(str(r.get("row")), len(order)),
                                          r["_position"]))
    if memo is not None:
        memo.keep(by_unit)
    return by_unit


def _non_empty(form: Form, record: Record) -> bool:
    return any(not _blank(record.get(c.key)) for c in form.input_columns)


class Sources:
    """What the accepted submissions say about themselves: where each list row of a
    rolled-up summary came from, and how many units each summary covers."""

    def __init__(self, submissions: Mapping[str, Submission] | None = None) -> None:
        self.submissions = submissions or {}
        self.digests = {sub.file: sub.sha256 for sub in self.submissions.values()
                        if sub.sha256}

    def origin(self, unit: Unit, form: Form, row: object) -> str:
        sub = self.submissions.get(unit.code)
        inner = sub.origins.get((form.id, str(row)), "") if sub is not None else ""
        return f"{unit.name}{ORIGIN_SEPARATOR}{inner}" if inner else unit.name

    def coverage(self, unit: Unit) -> tuple[int, int] | None:
        sub = self.submissions.get(unit.code)
        return sub.coverage if sub is not None and sub.kind == "summary" else None


class _UnitPart:
    """One unit's share of one form, as worked out in a run: its records, and what the
    form's kind made of them alone (``own``: its summary row's values, its list rows)."""

    __slots__ = ("own", "records")

    def __init__(self, records: list[Record]) -> None:
        self.records = records
        self.own: Any = None


class AggregateMemo:
    """What aggregation worked out for each unit, kept by a long-running process (the
    office's page) from one run to the next: after one upload only the units whose files
    changed are worked out again; the totals are always summed anew. A unit's share is
    kept under everything it depends on: the campaign spec, the form, the unit's code and
    name, and the files its rows came from with their sha256 (a file's typed rows, origins
    and coverage come from its bytes alone). What a run did not use is dropped."""

    def __init__(self) -> None:
        self.parts: dict[tuple[Any, ...], _UnitPart] = {}
        self._used: dict[tuple[Any, ...], _UnitPart] = {}

    MEMO = "aggregate"  # its entry in a process's memos (CacheMemory.memos)

    @classmethod
    def kept(cls, memos: dict[str, Any] | None) -> AggregateMemo | None:
        """The one kept in ``memos`` (made there at first use); None without memos."""
        return None if memos is None else memos.setdefault(cls.MEMO, cls())

    def form(self, spec: str, form: Form, sources: Sources) -> _FormMemo:
        return _FormMemo(self, (spec, form.id), sources)

    def finish(self) -> None:
        """The run is over: keep only what it used."""
        self.parts, self._used = self._used, {}


class _FormMemo:
    """One form's view of an :class:`AggregateMemo` during one run."""

    def __init__(self, memo: AggregateMemo, form_key: tuple[str, str],
                 sources: Sources) -> None:
        self.memo = memo
        self.form_key = form_key
        self.sources = sources
        self.records: dict[str, list[Record]] = {}  # units found in the memo
        self.fresh: set[str] = set()  # units to make from the frame
        self._keys: dict[str, tuple[Any, ...]] = {}
        self._parts: dict[str, _UnitPart] = {}

    def place(self, codes: list[Any], files: list[Any] | None, units: Sequence[Unit]) -> None:
        """Sort ``units`` into those found in the memo and those to make afresh, from the
        unit code and file of each frame row."""
        of_unit: dict[str, dict[str, None]] = {u.code: {} for u in units}
        for code, name in dict.fromkeys(zip(codes, files if files is not None
                                            else [""] * len(codes), strict=True)):
            found = of_unit.get(code)
            if found is not None:
                found[name] = None
        digests = self.sources.digests
        parts, used, form_key = self.memo.parts, self.memo._used, self.form_key
        for unit in units:
            names = of_unit[unit.code]
            if len(names) == 1:  # the usual case: one file, without building a tuple of all
                (name,) = names
                sha = digests.get(name)
                came: tuple[tuple[str, str], ...] | None = (
                    None if sha is None else ((name, sha),))
            else:
                came = (None if any(name not in digests for name in names)
                        else tuple((name, digests[name]) for name in names))
            if came is None:
                self.fresh.add(unit.code)  # rows from a file the sources do not vouch for
                continue
            key = (*form_key, unit.code, unit.name, came)
            self._keys[unit.code] = key
            part = parts.get(key)
            if part is None:
                self.fresh.add(unit.code)
            else:
                self.records[unit.code] = part.records
                self._parts[unit.code] = part
                used[key] = part

    def keep(self, by_unit: dict[str, list[Record]]) -> None:
        """Remember the records of the units made afresh (those the memo can vouch for)."""
        for code in self.fresh:
            key = self._keys.get(code)
            if key is not None:
                part = self._parts[code] = _UnitPart(by_unit[code])
                self.memo._used[key] = part

    def part(self, code: str) -> _UnitPart | None:
        """The unit's share, to read or fill ``own``; None when it is not kept."""
        return self._parts.get(code)



def _unit_row(form: Form, unit_records: list[Record], unit: Unit,
              sources: Sources) -> tuple[Record, SummaryRow]:
    """A unit's one record (several are combined rather than dropped: one record per unit
    is the contract) and its row of the summary."""
    if len(unit_records) == 1:
        record = unit_records[0]
    else:
        record = {
            c.key: (_sum((r.get(c.key) for r in unit_records), c) if c.is_numeric
                    else next((r.get(c.key) for r in unit_records
                               if not is_blank(r.get(c.key))), None))
            for c in form.input_columns
        }
    return record, SummaryRow(key=unit.code, label=unit.name,
                              values=_own_values(form, record), kind="unit",
                              unit_code=unit.code, unit_name=unit.name,
                              coverage=sources.coverage(unit))


def _single_row(form: Form, by_unit: dict[str, list[Record]], units: Sequence[Unit],
                sources: Sources, memo: _FormMemo | None = None) -> FormSummary:
    rows: list[SummaryRow] = []
    records: list[Record] = []
    texts: list[dict[str, str | None]] = []
    counts: list[dict[str, dict[str, int]]] = []
    concat = [c.key for c in form.columns if c.aggregate == "concat"]
    for unit in units:
        part = memo.part(unit.code) if memo is not None else None
        if part is not None and part.own is not None:
            record, row, text, count = part.own
        else:
            record, row = _unit_row(form, by_unit[unit.code], unit, sources)
            # the unit's share of the office's texts and choice counts, kept with its row
            text = {key: _concat([(unit.name, record.get(key))]) for key in concat}
            count = _choice_counts(form, [record])
            if part is not None:
                part.own = (record, row, text, count)
        records.append(record)
        rows.append(row)
        texts.append(text)
        counts.append(count)
    office = _combined(form, records, [], concat=False)
    for key in concat:  # "Unit: text; Unit: text", as _concat over all units gives
        office[key] = CONCAT_SEPARATOR.join(t for share in texts
                                            if (t := share[key]) is not None) or None
    rows.append(SummaryRow(key=OFFICE_KEY, label=TOTAL_LABEL, values=office, kind="office"))
    return FormSummary(form=form, rows=tuple(rows), choice_counts=_added(form, counts))


def _added(form: Form, shares: Iterable[dict[str, dict[str, int]]]) -> dict[str, dict[str, int]]:
    """The units' choice counts added up, as :func:`_choice_counts` over all their records
    gives them (spec choices first, then any other value in the order first met)."""
    counts = {c.key: dict.fromkeys(c.choices, 0) for c in form.columns if c.type == "choice"}
    for share in shares:
        for key, found in share.items():
            total = counts[key]
            for value, n in found.items():
                if n:
                    total[value] = total.get(value, 0) + n
    return counts


def _fixed_rows(form: Form, by_unit: dict[str, list[Record]], units: Sequence[Unit],
                sources: Sources, memo: _FormMemo | None = None) -> FormSummary:
    rows: list[SummaryRow] = []
    all_records: list[Record] = []
    by_row: dict[str, tuple[list[Record], list[str]]] = {r.key: ([], []) for r in form.rows}
    for unit in units:  # each row's records in unit order, as a loop per row would give
        for record in by_unit[unit.code]:
            found = by_row.get(str(record.get("row")))
            if found is not None:
                found[0].append(record)
                found[1].append(unit.name)
    for spec_row in form.rows:
        records, names = by_row[spec_row.key]
        all_records.extend(records)
        rows.append(SummaryRow(key=spec_row.key, label=spec_row.label,
                               values=_combined(form, records, names), kind="office"))
    # the total row sums over every (unit, row) record: the same as summing the rows above,
    # and ratios come from the summed numerators and denominators, never from row rates
    total = _combined(form, all_records, [""] * len(all_records), concat=False)
    rows.append(SummaryRow(key=TOTAL_KEY, label=TOTAL_LABEL, values=total, kind="total"))
    return FormSummary(form=form, rows=tuple(rows),
                       choice_counts=_choice_counts(form, all_records))


def _listed(form: Form, unit_records: list[Record], unit: Unit,
            sources: Sources) -> list[tuple[Record, dict[str, Any], str]]:
    """A unit's non-empty list rows: (record, its values, where it came from)."""
    return [(record, _own_values(form, record), sources.origin(unit, form, record.get("row")))
            for record in unit_records if _non_empty(form, record)]


def _list(form: Form, by_unit: dict[str, list[Record]], units: Sequence[Unit],
          sources: Sources, memo: _FormMemo | None = None) -> FormSummary:
    rows: list[SummaryRow] = []
    kept: list[Record] = []
    for unit in units:
        part = memo.part(unit.code) if memo is not None else None
        if part is not None and part.own is not None:
            listed = part.own
        else:
            listed = _listed(form, by_unit[unit.code], unit, sources)
            if part is not None:
                part.own = listed
        for record, values, origin in listed:
            kept.append(record)
            n = str(len(kept))
            rows.append(SummaryRow(key=n, label=n, values=values, kind="office",
                                   unit_code=unit.code, unit_name=origin))
    return FormSummary(form=form, rows=tuple(rows), choice_counts=_choice_counts(form, kept))


_BY_KIND = {"single_row": _single_row, "fixed_rows": _fixed_rows, "list": _list}


def aggregate_form(form: Form, frame: pd.DataFrame | None, units: Sequence[Unit],
                   sources: Sources | None = None,
                   memo: _FormMemo | None = None) -> FormSummary:
    """Aggregate one form over ``units`` (only their records in ``frame`` count)."""
    sources = sources or Sources()
    by_unit = _unit_records(form, frame, units, memo)
    if form.kind == "targets":  # indicator logic lives with the other targets rules
        return aggregate_targets(form, by_unit, units, sources.coverage)
    return _BY_KIND[form.kind](form, by_unit, units, sources, memo)


def aggregate(
    campaign: Campaign, frames: FormFrames, units_in_order: list[Unit],
    submissions: Mapping[str, Submission] | None = None,
    memo: AggregateMemo | None = None,
) -> list[FormSummary]:
    """One :class:`FormSummary` per form of ``campaign``, in campaign order.

    ``frames`` hold the accepted submissions; ``units_in_order`` are the accepted units in
    the order the summary shows them. Records of any other unit code are ignored, so a
    total always equals the sum of the unit rows shown above it. ``submissions`` (unit code
    → its accepted submission) give list rows their origin and rolled-up units' coverage.
    ``memo``: what the last run worked out per unit (:class:`AggregateMemo`); the result
    is the same without it.
    """
    sources = Sources(submissions)
    forms = [aggregate_form(form, frames.get(form.id), units_in_order, sources,
                            memo.form(campaign.spec_sha256, form, sources)
                            if memo is not None else None)
             for form in campaign.forms]
    if memo is not None:
        memo.finish()
    return forms
