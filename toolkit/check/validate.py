"""Validate every value of every candidate submission: pandera, lazily, one form at a time.

Two steps, so that each problem is reported once, on its cell:

1. :func:`toolkit.check.values.parse_value` turns each raw cell into its type; a value that is not
   a number / date at all becomes a finding and a blank (NaN/None) in the frame.
2. One wide DataFrame per form holds the rows of *all* files; :func:`build_schema` (generated
   from the spec: limits, integers, choices, required cells, cross-column rules) validates
   it once with ``lazy=True``; ``failure_cases`` go back to the exact source cells, which
   are kept beside the frame (row position → column → A1), never in it.

Then each submission is ``accepted`` or ``rejected`` (any error), and the frames keep only
the rows of accepted ones (the :data:`~toolkit.spec.models.FormFrames` contract).

Every check looks at one row of one file, so a file's outcome (its findings, its typed
rows: :class:`~toolkit.check.checked.Checked`) is its own: a rerun passes the outcomes it
kept (``known``) and only the other files are validated (step 2 runs on those alone).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from toolkit.check.checked import Checked
from toolkit.check.values import parse_value, range_problem, range_text, shown_text, typed_number
from toolkit.spec.campaign import Campaign, Column, Form, Rule
from toolkit.spec.findings import make_finding
from toolkit.spec.models import CellValue, Finding, FormFrames, PackedCells, Submission
from toolkit.spec.targets import RESULT_COLUMNS, TARGET
from toolkit.spec.text import format_number, is_blank

KEY_COLUMNS = ("file", "unit_code", "row")
VALUE_WARNINGS = ("number_as_text_converted", "thousands_comma_read", "number_formatted_as_date",
                  "text_normalised")
_TOLERANCE = 1e-9  # money sums in floats: 0.1 + 0.2 ≤ 0.3 must hold
_VIOLATED = {"le": "lớn hơn", "ge": "nhỏ hơn", "eq": "khác"}


# =========================================================================== schema


def _rule_check(rule: Rule) -> Callable[[pd.DataFrame], pd.Series]:
    """Row-wise ``sum(left) op right``; rows where the right side or every left cell is
    blank are not judged (blank is "no figure", not 0)."""

    def check(df: pd.DataFrame) -> pd.Series:
        left = df[list(rule.left)].sum(axis=1, min_count=1)
        right = df[rule.right]
        tol = _TOLERANCE * np.maximum(1.0, right.abs())
        if rule.op == "le":
            ok = left <= right + tol
        elif rule.op == "ge":
            ok = left >= right - tol
        else:
            ok = (left - right).abs() <= tol
        return ok | left.isna() | right.isna()

    return check


def _column_schema(col: Column) -> pa.Column:
    checks = []
    if col.is_numeric:
        if col.min is not None:
            checks.append(pa.Check(lambda s, m=col.min: s >= m, name="min"))
        if col.max is not None:
            checks.append(pa.Check(lambda s, m=col.max: s <= m, name="max"))
        if col.type == "count":
            checks.append(pa.Check(lambda s: s % 1 == 0, name="integer"))
        return pa.Column(float, checks, nullable=not col.required, title=col.label)
    if col.type == "choice":
        checks.append(pa.Check(lambda s, c=col.choices: s.isin(c), name="choices"))
    return pa.Column(None, checks, nullable=not col.required, title=col.label)


def build_schema(form: Form) -> pa.DataFrameSchema:
    """The pandera schema of one form's wide frame, generated from the spec.

    Column checks are named ``min``/``max``/``integer``/``choices`` (required cells are
    ``nullable=False``); rule ``i`` of ``form.rules`` is the frame-wide check ``rule:i``
    with one boolean per row."""
    columns: dict[str, pa.Column] = {k: pa.Column(None, nullable=False) for k in KEY_COLUMNS}
    for col in form.input_columns:
        columns[col.key] = _column_schema(col)
    checks = [pa.Check(_rule_check(rule), name=f"rule:{i}", ignore_na=False)
              for i, rule in enumerate(form.rules)]
    return pa.DataFrameSchema(columns, checks=checks, strict=True, name=form.id)


# =========================================================================== frames


@dataclass
class _FormRows:
    """The rows of one form over all candidates, plus where each value came from."""

    form: Form
    values: dict[str, list[Any]]
    owners: list[int] = field(default_factory=list)  # position in the candidate list
    cells: list[dict[str, str]] = field(default_factory=list)  # column key → A1
    raws: list[dict[str, Any]] = field(default_factory=list)  # column key → raw value
    rejected: set[tuple[int, str]] = field(default_factory=set)  # (row, key) parse errors
    _columns: dict[str, tuple[Column, bool]] | None = None

    def columns(self) -> dict[str, tuple[Column, bool]]:
        """The form's input columns (key → column, numeric?), worked out once per run."""
        if self._columns is None:
            self._columns = {c.key: (c, c.is_numeric) for c in self.form.input_columns}
        return self._columns

    def frame(self) -> pd.DataFrame:
        return _frame(self.form, self.values)

    def of_owners(self) -> dict[int, dict[str, list[Any]]]:
        """Each owner's rows (owner → ``row`` and input column → values): an owner's rows
        are next to each other, in the order they were added."""
        out: dict[int, dict[str, list[Any]]] = {}
        keys = [k for k in self.values if k not in ("file", "unit_code")]
        start = 0
        owners = self.owners
        while start < len(owners):
            owner, end = owners[start], start
            while end < len(owners) and owners[end] == owner:
                end += 1
            out[owner] = {k: self.values[k][start:end] for k in keys}
            start = end
        return out


def _frame(form: Form, values: dict[str, list[Any]]) -> pd.DataFrame:
    """The wide frame of ``values`` (column → values): numbers as float64, others objects."""
    data: dict[str, Any] = {}
    for key, column in values.items():
        if key not in KEY_COLUMNS and form.column(key).is_numeric:
            data[key] = np.asarray(column, dtype="float64")
        else:
            data[key] = pd.Series(column, dtype=object)
    return pd.DataFrame(data, columns=list(values))


def _empty_rows(form: Form) -> _FormRows:
    keys = [*KEY_COLUMNS, *(c.key for c in form.input_columns)]
    return _FormRows(form, {k: [] for k in keys})


def _group_rows(cells: Iterable[CellValue],
                layouts: dict[int, tuple[Any, list[tuple[str, str, list[int]]]]] | None = None,
                ) -> dict[str, dict[str, list[CellValue]]]:
    """form → row key → cells, in map order. Files of one template share their cell places
    (:class:`PackedCells`): their grouping is worked out once per places (``layouts``)."""
    if layouts is not None and isinstance(cells, PackedCells):
        places, raws = cells.places, cells.raws
        hit = layouts.get(id(places))
        if hit is None or hit[0] is not places:
            order: dict[tuple[str, str], list[int]] = {}
            for i, place in enumerate(places):
                order.setdefault((place[0], place[1]), []).append(i)
            hit = layouts[id(places)] = (places, [(f, r, idx) for (f, r), idx in order.items()])
        packed: dict[str, dict[str, list[CellValue]]] = {}
        for form, row, idx in hit[1]:
            packed.setdefault(form, {})[row] = [CellValue(*places[i], raws[i]) for i in idx]
        return packed
    grouped: dict[str, dict[str, list[CellValue]]] = {}
    for cv in cells:
        grouped.setdefault(cv.form, {}).setdefault(cv.row, []).append(cv)
    return grouped


def _value_fields(col: Column, raw: Any) -> dict[str, Any]:
    return {"label": col.label, "value": shown_text(raw), "range": range_text(col),
            "choices": ", ".join(col.choices)}


def _add_rows(rows: _FormRows, owner: int, sub: Submission,
              by_row: dict[str, list[CellValue]]) -> None:
    """Parse one submission's rows of one form into ``rows``; type problems → findings."""
    form = rows.form
    columns = rows.columns()
    for row_key, cells in by_row.items():
        if form.kind == "list" and all(is_blank(cv.raw) for cv in cells):
            continue  # an unused list row
        index = len(rows.owners)
        rows.owners.append(owner)
        rows.values["file"].append(sub.file)
        rows.values["unit_code"].append(sub.unit_code)
        rows.values["row"].append(row_key)
        got: dict[str, Any] = {}
        where: dict[str, str] = {}
        raws: dict[str, Any] = {}
        for cv in cells:
            known = columns.get(cv.column)
            if known is None:
                continue  # not an input column of this form (ingest already skips those)
            col, numeric = known
            raw = cv.raw
            where[col.key], raws[col.key] = cv.cell, raw
            if raw is None:
                continue  # blank: parse_value gives no value and no remark
            if numeric and (quick := typed_number(raw)) is not None:
                got[col.key] = quick  # parse_value's own reading of a plain float
                continue
            parsed = parse_value(raw, col, check_range=False)
            if parsed.problem or parsed.warning:
                common = {"file": sub.file, "unit_code": sub.unit_code, "form": form.id,
                          "cell": cv.cell, "column": col.key, "row": row_key}
            if parsed.problem:
                rows.rejected.add((index, col.key))
                sub.findings.append(make_finding(parsed.problem, **common,
                                                 **_value_fields(col, raw),
                                                 detail=parsed.problem))
                continue
            if parsed.warning:
                number = format_number(parsed.value) if numeric else ""
                sub.findings.append(make_finding(
                    parsed.warning, **common, **_value_fields(col, raw), number=number,
                    normalised=str(parsed.value)))
            got[col.key] = parsed.value
        for key, (_col, numeric) in columns.items():
            value = got.get(key)
            rows.values[key].append(
                (np.nan if value is None else float(value)) if numeric else value)
        rows.cells.append(where)
        rows.raws.append(raws)


# =========================================================================== failures


def _rule_text(form: Form, rule: Rule, values: dict[str, Any]) -> dict[str, str]:
    """Message fields naming both sides of a rule with their numbers."""
    cols = [form.column(k) for k in (*rule.left, rule.right)]
    headers = [c.header for c in cols]
    common = 0
    while all(len(h) > common + 1 and h[common] == headers[0][common] for h in headers):
        common += 1
    group = " › ".join(headers[0][:common])

    def label(col: Column) -> str:
        return " › ".join(col.header[common:])

    def number(key: str) -> str:
        v = values.get(key)
        return "trống" if v is None or pd.isna(v) else format_number(v)

    if len(rule.left) == 1:
        left, left_value = label(cols[0]), number(rule.left[0])
    else:
        lefts = [c.header[common:] for c in cols[:-1]]
        inner = 0
        while all(len(h) > inner + 1 and h[inner] == lefts[0][inner] for h in lefts):
            inner += 1
        total = sum(v for k in rule.left if not pd.isna(v := values.get(k, np.nan)))
        parts = " + ".join(f"{' › '.join(h[inner:])} {number(k)}"
                           for h, k in zip(lefts, rule.left, strict=True))
        left = " ".join(["tổng", *([" › ".join(lefts[0][:inner])] if inner else [])])
        left_value = f"{parts} = {format_number(total)}"
    return {"group": f"{group}: " if group else "", "left": left, "left_value": left_value,
            "relation": _VIOLATED[rule.op], "right": label(cols[-1]),
            "right_value": number(rule.right)}


def _failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> pd.DataFrame | None:
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as err:
        return err.failure_cases
    return None


def _findings(rows: _FormRows, frame: pd.DataFrame, cases: pd.DataFrame,
              candidates: list[Submission]) -> list[tuple[int, Finding]]:
    """``failure_cases`` → (owner, finding) on the source cells; one finding per cell.

    Taken row by row, then column by column in the form's order (pandera lists them in an
    order that depends on the whole frame): a file's findings come out the same whether it
    is validated alone or with the other files (:mod:`toolkit.check.checked`)."""
    form = rows.form
    out: list[tuple[int, Finding]] = []
    done: set[tuple[int, str]] = set()
    rules: list[tuple[int, str]] = []
    position = {key: i for i, key in enumerate(frame.columns)}
    listed = sorted(
        ((int(case.index), str(case.check), str(case.column))
         for case in cases.itertuples(index=False)
         if case.index is not None and not pd.isna(case.index)),
        key=lambda c: (c[0], position.get(c[2], -1), _check_order(c[1])))
    for idx, check, key in listed:
        if check.startswith("rule:"):
            rules.append((idx, check))
            continue
        if key in KEY_COLUMNS or (idx, key) in rows.rejected or (idx, key) in done:
            continue
        done.add((idx, key))
        col = form.column(key)
        value = frame.at[idx, key]
        if check == "not_nullable":
            code = "required_missing"
        elif check == "choices":
            code = "not_in_choices"
        elif check in ("min", "max", "integer"):
            code = range_problem(float(value), col) or "out_of_range"
        else:
            code = "invalid_value"
        raw = rows.raws[idx].get(key)
        out.append((rows.owners[idx], make_finding(
            code, **_base(rows, idx, candidates), cell=rows.cells[idx].get(key, ""),
            column=key, **_value_fields(col, raw if raw is not None else value),
            detail=check)))
    bad = rows.rejected | done  # a rule over a value already reported says nothing new
    for idx, check in dict.fromkeys(rules):
        rule = form.rules[int(check.split(":", 1)[1])]
        operands = (*rule.left, rule.right)
        if any((idx, k) in bad for k in operands):
            continue
        record = {k: frame.at[idx, k] for k in operands}
        out.append((rows.owners[idx], make_finding(
            "rule_violation", **_base(rows, idx, candidates),
            cell=rows.cells[idx].get(rule.right, ""), column=rule.right,
            value=shown_text(rows.raws[idx].get(rule.right)), severity=rule.severity,
            **_rule_text(form, rule, record))))
    return out


def _check_order(check: str) -> tuple[int, str]:
    """Column checks in a fixed order (a blank required cell first), rules by number."""
    if check.startswith("rule:"):
        return (1, check.split(":", 1)[1].zfill(6))
    return (0, check.replace("not_nullable", "\0"))


def _base(rows: _FormRows, idx: int, candidates: list[Submission]) -> dict[str, str]:
    sub = candidates[rows.owners[idx]]
    return {"file": sub.file, "unit_code": sub.unit_code, "form": rows.form.id,
            "row": rows.values["row"][idx]}


def _drop_shadowed_warnings(sub: Submission) -> None:
    """A converted-text warning says nothing once the same cell has an error."""
    bad = {(f.form, f.cell) for f in sub.findings if f.severity == "error" and f.cell}
    sub.findings[:] = [f for f in sub.findings
                       if not (f.code in VALUE_WARNINGS and (f.form, f.cell) in bad)]


# =========================================================================== entry


def validate(campaign: Campaign, submissions: list[Submission],
             known: Mapping[str, Checked] | None = None,
             made: dict[str, Checked] | None = None) -> FormFrames:
    """Validate every submission with status "" (the chosen, readable files): findings on
    their cells, status ``accepted``/``rejected``; return the typed frames of the accepted
    ones, one per form of ``campaign`` (possibly empty).

    ``known`` (file → :class:`~toolkit.check.checked.Checked`) gives the outcome of files
    validated by an earlier run from the same bytes (the caller vouches for that; an
    outcome made for another unit code is not used): they are not validated again.
    ``made``, when given, receives the outcome of each file validated now. Each check looks
    at one row of one file, so the result is the same either way."""
    known = known or {}
    candidates = [s for s in submissions if s.status == ""]
    outcomes: list[Checked | None] = []
    fresh: list[Submission] = []
    for sub in candidates:
        found = known.get(sub.file)
        if found is not None and found.unit_code != sub.unit_code:
            found = None
        outcomes.append(found)
        if found is None:
            fresh.append(sub)
    checked = iter(_check(campaign, fresh))
    for pos, sub in enumerate(candidates):
        outcome = outcomes[pos]
        if outcome is None:
            outcome = outcomes[pos] = next(checked)
            if made is not None:
                made[sub.file] = outcome
        else:
            sub.findings.extend(outcome.findings)
        _drop_shadowed_warnings(sub)
        sub.status = "rejected" if sub.errors else "accepted"
        if sub.status == "rejected":
            sub.reason = f"{sub.errors} lỗi cần sửa"
    accepted = [(sub, outcome) for sub, outcome in zip(candidates, outcomes, strict=True)
                if sub.status == "accepted" and outcome is not None]
    return {form.id: _frame(form, _joined(form, accepted)) for form in campaign.forms}


def _joined(form: Form, accepted: list[tuple[Submission, Checked]]) -> dict[str, list[Any]]:
    """The accepted files' typed rows of ``form`` one after the other, column by column
    (each column joined in one pass: a province has 2,000 files of a dozen columns)."""
    values = _empty_rows(form).values
    parts = [(sub, rows) for sub, outcome in accepted
             if (rows := outcome.rows.get(form.id))]
    counts = [len(rows["row"]) for _sub, rows in parts]
    values["file"] = list(chain.from_iterable(
        repeat(sub.file, n) for (sub, _rows), n in zip(parts, counts, strict=True)))
    values["unit_code"] = list(chain.from_iterable(
        repeat(sub.unit_code, n) for (sub, _rows), n in zip(parts, counts, strict=True)))
    columns = [rows for _sub, rows in parts]
    for key in values:
        if key not in ("file", "unit_code"):
            values[key] = list(chain.from_iterable(map(itemgetter(key), columns)))
    return values


def _check(campaign: Campaign, candidates: list[Submission]) -> list[Checked]:
    """Validate ``candidates`` together (one pandera run per form): the findings go onto
    each submission; returns each one's :class:`Checked` outcome, in the same order."""
    all_rows = {form.id: _empty_rows(form) for form in campaign.forms}
    before = [len(sub.findings) for sub in candidates]
    layouts: dict[int, tuple[Any, list[tuple[str, str, list[int]]]]] = {}
    for owner, sub in enumerate(candidates):
        for form_id, by_row in _group_rows(sub.cells, layouts).items():
            if form_id in all_rows:
                _add_rows(all_rows[form_id], owner, sub, by_row)
    for form in campaign.forms:
        rows = all_rows[form.id]
        frame = rows.frame()
        if frame.empty:
            continue
        cases = _failures(build_schema(form), frame)
        if cases is not None:
            for owner, finding in _findings(rows, frame, cases, candidates):
                candidates[owner].findings.append(finding)
        if form.kind == "targets":  # a result where no target was allocated: a warning
            for idx, key in unallocated_results(form, frame):
                candidates[rows.owners[idx]].findings.append(make_finding(
                    "result_without_target", **_base(rows, idx, candidates),
                    cell=rows.cells[idx].get(key, ""), column=key,
                    value=shown_text(rows.raws[idx].get(key)), label=form.column(key).label,
                    indicator=form.indicator(str(rows.values["row"][idx])).name))
    by_owner = {form_id: rows.of_owners() for form_id, rows in all_rows.items()}
    return [Checked(sub.unit_code, tuple(sub.findings[before[owner]:]),
                    {form_id: found[owner] for form_id, found in by_owner.items()
                     if owner in found})
            for owner, sub in enumerate(candidates)]


def unallocated_results(form: Form, frame: pd.DataFrame) -> list[tuple[int, str]]:
    """(frame position, column) of a result given for an indicator without a target: the
    first filled result cell of each such row (one warning per row, on its cell)."""
    out: list[tuple[int, str]] = []
    if frame.empty or TARGET not in frame:
        return out
    keys = {i.key for i in form.indicators}
    for pos, (row, target) in enumerate(zip(frame["row"], frame[TARGET], strict=True)):
        if str(row) not in keys or not is_blank(target):
            continue
        for key in RESULT_COLUMNS:
            if key in frame and not is_blank(frame[key].iat[pos]):
                out.append((pos, key))
                break
    return out


EXCEL_CELL_CHARS = 32_767  # Excel keeps at most this many characters in a cell


def _has_long_text(cells: Sequence[CellValue]) -> bool:
    if isinstance(cells, PackedCells):
        return cells.longest_text() > EXCEL_CELL_CHARS
    return max(map(len, [c.raw for c in cells if isinstance(c.raw, str)]),
               default=0) > EXCEL_CELL_CHARS


def long_texts(campaign: Campaign, submissions: Iterable[Submission]) -> None:
    """A warning ``text_truncated`` for each text of an accepted file longer than an Excel
    cell holds: the summary keeps its first :data:`EXCEL_CELL_CHARS` characters, values.csv
    all of it, and the unit is told to shorten it."""
    for sub in submissions:
        if sub.status != "accepted" or not _has_long_text(sub.cells):
            continue  # the common case, without making every cell
        for cell in sub.cells:
            raw = cell.raw
            if not (isinstance(raw, str) and len(raw) > EXCEL_CELL_CHARS):
                continue
            try:
                label = campaign.form(cell.form).column(cell.column).label
            except KeyError:
                label = cell.column
            sub.findings.append(make_finding(
                "text_truncated", file=sub.file, unit_code=sub.unit_code, form=cell.form,
                cell=cell.cell, column=cell.column, row=cell.row, value=raw, label=label,
                length=format_number(len(raw)), limit=format_number(EXCEL_CELL_CHARS)))


def warm_up() -> None:
    """Run pandera once on a tiny frame: its first use in a process costs about a second
    (lazy imports, backends), which a long-running process pays at start, not on the first
    file a clerk uploads."""
    schema = pa.DataFrameSchema(
        {"x": pa.Column(float, [pa.Check(lambda s: s >= 0, name="min")], nullable=False)},
        checks=[pa.Check(lambda df: df["x"] <= 1, name="rule:0")], strict=True)
    _failures(schema, pd.DataFrame({"x": np.asarray([-1.0, np.nan, 2.0])}))
