"""Fill a template as a unit would, through the workbook's own ``_meta`` map.

Used to build the bundled sample inbox, the end-to-end tests and the benchmark. Values are
keyed ``(form, row, column)`` exactly as in the cell map; data is generated from the spec so
that it respects the spec's rules (breakdowns ≤ Số lượng, numerator ≤ denominator).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import random
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from toolkit.spec.campaign import Campaign, Column, Form
from toolkit.spec.layout import form_layout
from toolkit.spec.meta import META_SHEET, parse_meta
from toolkit.spec.models import FormFrames, PackedCells, Submission
from toolkit.spec.targets import EXPECTED, RESULT, RESULT_BASE, TARGET

Key = tuple[str, str, str]


def fill_workbook(
    template: bytes,
    values: Mapping[Key, Any],
    *,
    modified: dt.datetime | None = None,
) -> bytes:
    """Write ``values`` into the cells the template's ``_meta`` map names; return the new file.

    A key absent from the map raises KeyError (a test asking for a cell that does not
    exist is a bug in the test). ``modified`` sets the workbook's own modified time, as
    Excel does when a unit saves.
    """
    book = load_workbook(io.BytesIO(template))
    meta = parse_meta(list(book[META_SHEET].iter_rows(values_only=True)))
    where = {(c.form, c.row, c.column): (c.sheet, c.cell) for c in meta.cells}
    for key, value in values.items():
        sheet, cell = where[key]
        target = book[sheet][cell]
        target.value = value
        if isinstance(value, str):
            target.data_type = "s"  # typed text is text, even when it starts with "="
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    if modified is not None:  # openpyxl stamps "now" on save; put the unit's save time back
        data = _set_modified(data, modified)
    return data


def _set_modified(data: bytes, modified: dt.datetime) -> bytes:
    """Rewrite ``dcterms:modified`` in docProps/core.xml (and fix zip entry times, so the
    same inputs give the same bytes)."""
    stamp = modified.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + stamp + rb"\g<2>", body)
            info = zipfile.ZipInfo(item.filename, date_time=modified.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, body)
    return out.getvalue()


_SAMPLE_TEXTS = (
    "Đã triển khai tới 100% chi đoàn",
    "Lồng ghép sinh hoạt chi đoàn",
    "Phối hợp với UBND xã",
)
_SAMPLE_SUBJECTS = (
    "Triển khai thực hiện Nghị quyết 02-NQ/TU",
    "Tổ chức quán triệt Nghị quyết 02-NQ/TU cho cán bộ, đoàn viên",
    "Tuyên truyền kết quả thực hiện Chương trình hành động 17-CTr/HU",
    "Kiểm tra, giám sát việc thực hiện Nghị quyết tại các chi đoàn",
)


def _sample(col: Column, rng: random.Random) -> Any:
    if col.type == "count":
        return rng.randint(0, 12)
    if col.type == "money":
        return round(rng.uniform(0, 150), 1)
    if col.type == "number":
        return round(rng.uniform(0, 100), 1)
    if col.type == "percent":
        return float(rng.randint(60, 100))
    if col.type == "choice":
        return rng.choice(col.choices)
    if col.type == "date":
        return dt.datetime(2016 + rng.randint(0, 4), rng.randint(1, 12), rng.randint(1, 28))
    # notes are rare in real returns; most units leave "Ghi chú" empty
    return rng.choice(_SAMPLE_TEXTS) if rng.random() < 0.08 else None


def _apply_rules(form: Form, row: dict[str, Any]) -> None:
    """Adjust a generated row until every rule of the form holds."""
    for _ in range(6):
        changed = False
        for rule in form.rules:
            left = sum(row.get(k) or 0 for k in rule.left)
            right = row.get(rule.right) or 0
            holds = {"le": left <= right, "ge": left >= right, "eq": left == right}[rule.op]
            if not holds:
                row[rule.right] = left
                changed = True
        if not changed:
            return


def _sample_indicator(form: Form, key: str, rng: random.Random) -> dict[str, Any]:
    """A result for one indicator of a template made without an allocation: the target
    only where the unit must type it (no default), a denominator only for a rate."""
    ind = form.indicator(key)
    row: dict[str, Any] = {}
    if ind.default_target is None:
        row[TARGET] = rng.randint(60, 95) if ind.is_rate else rng.randint(5, 60)
    if ind.is_rate:
        row[RESULT_BASE] = rng.randint(5, 40)
        row[RESULT] = rng.randint(0, row[RESULT_BASE])
        row[EXPECTED] = rng.randint(row[RESULT], row[RESULT_BASE])
    else:
        row[RESULT] = rng.randint(0, 70)
        row[EXPECTED] = row[RESULT] + rng.randint(0, 20)
    return row


def sample_values(
    campaign: Campaign, rng: random.Random, *, list_rows: int | None = None
) -> dict[Key, Any]:
    """Plausible values for every input cell of every form, respecting the form's rules.

    List forms get ``list_rows`` rows (default: a random 1–5).
    """
    values: dict[Key, Any] = {}
    for form in campaign.forms:
        if form.kind == "list":
            n = list_rows if list_rows is not None else rng.randint(1, 5)
            keys = [str(i) for i in range(1, n + 1)]
        else:
            keys = list(form.row_keys())
        for row_key in keys:
            if form.kind == "targets":
                row = _sample_indicator(form, row_key, rng)
            else:
                row = {c.key: _sample(c, rng) for c in form.input_columns}
            if form.kind == "list":
                for c in form.input_columns:
                    if c.type == "text" and c.required:
                        row[c.key] = rng.choice(_SAMPLE_SUBJECTS)
                    if c.key.startswith("so_hieu"):
                        row[c.key] = f"{rng.randint(1, 200)}-KH/ĐTN"
            if form.kind != "targets":  # indicator rows are consistent already
                _apply_rules(form, row)
            for col_key, value in row.items():
                if value is not None and value != "":
                    values[(form.id, row_key, col_key)] = value
    return values


# ------------------------------------------------------------------ realistic spread
# sample_values() draws every count from 0–12: fine for reading and validation, but nothing
# like a province, where a column's figures sit around its own typical level and a big
# commune reports more of everything than a small one. The plausibility tests and the
# benchmark need that shape: plain data must not look like outliers.

Levels = dict[tuple[str, str], float]  # (form, column) → typical figure of one unit


def typical_levels(campaign: Campaign, rng: random.Random) -> Levels:
    """A typical figure for every count/number/money column (log-uniform 1–400): one draw
    per campaign, shared by every unit of a province."""
    return {(form.id, col.key): math.exp(rng.uniform(0.0, math.log(400.0)))
            for form in campaign.forms for col in form.input_columns
            if col.type in ("count", "number", "money")}


@dataclass(frozen=True)
class Spread:
    """The spread of realistic figures, as standard deviations of their logarithms: between
    units' sizes (``unit``), between one unit's columns around that size (``column``),
    between reports of one unit (periods, years: ``period``). With these, 95 % of a column's
    figures lie within ×0.55–×1.8 of its median ("the others report 30–60")."""

    unit: float = 0.22
    column: float = 0.18
    period: float = 0.10


def unit_levels(levels: Levels, rng: random.Random, spread: Spread = Spread()) -> Levels:
    """One unit's own level of every column: the typical level × the unit's size × its own
    variation."""
    size = rng.lognormvariate(0.0, spread.unit)
    return {key: value * size * rng.lognormvariate(0.0, spread.column)
            for key, value in levels.items()}


def realistic_values(campaign: Campaign, own: Levels, rng: random.Random, *,
                     spread: Spread = Spread(), list_rows: int | None = None
                     ) -> dict[Key, Any]:
    """One report of a unit whose levels are ``own`` (:func:`unit_levels`): each figure is
    its level with a report-to-report variation (every year of a fixed-row form too), rules
    of the form kept; other cells as :func:`sample_values` fills them. Calling it again with
    the same ``own`` gives the unit's next report."""
    values = sample_values(campaign, rng, list_rows=list_rows)
    for form in campaign.forms:
        if form.kind in ("list", "targets"):
            continue
        for row_key in form.row_keys():
            row = {c.key: values.get((form.id, row_key, c.key)) for c in form.input_columns}
            for col in form.input_columns:
                level = own.get((form.id, col.key))
                if level is None:
                    continue
                figure = level * rng.lognormvariate(0.0, spread.period)
                row[col.key] = round(figure) if col.type == "count" else round(figure, 1)
            _apply_rules(form, row)
            for key, value in row.items():
                if value is not None and value != "":
                    values[(form.id, row_key, key)] = value
    return values


def typed_frames(campaign: Campaign, reports: Mapping[str, Mapping[Key, Any]]) -> FormFrames:
    """The typed frames validation would make of ``reports`` (unit code → values), each unit
    as the accepted file ``<code>.xlsx``: for checks that start after validation (the
    plausibility warnings) without writing and reading thousands of workbooks."""
    import pandas as pd

    frames: FormFrames = {}
    for form in campaign.forms:
        records = []
        for code, values in reports.items():
            rows = (sorted({r for (f, r, _c) in values if f == form.id}, key=int)
                    if form.kind == "list" else form.row_keys())
            for row in rows:
                rec: dict[str, Any] = {"file": f"{code}.xlsx", "unit_code": code, "row": row}
                for col in form.input_columns:
                    v = values.get((form.id, row, col.key))
                    rec[col.key] = ((math.nan if v is None else float(v))
                                    if col.is_numeric else v)
                records.append(rec)
        columns = ["file", "unit_code", "row", *(c.key for c in form.input_columns)]
        frames[form.id] = pd.DataFrame(records, columns=columns)
    return frames


def accepted_submissions(campaign: Campaign, reports: Mapping[str, Mapping[Key, Any]]
                         ) -> list[Submission]:
    """The accepted submissions behind :func:`typed_frames`: one per unit, its cells at the
    template's places (shared, as the reader shares them)."""
    places = tuple((form.id, row, col.key, a1) for form in campaign.forms
                   for row, col, a1 in form_layout(form).input_cells())
    return [Submission(file=f"{code}.xlsx", path=Path(f"{code}.xlsx"), sha256="", size=0,
                       identity={"unit_code": code}, status="accepted",
                       cells=PackedCells(places, [values.get(p[:3]) for p in places]))
            for code, values in reports.items()]
