"""Keeping a consolidation in the history: what each accepted file said, what a superseded
file had said (kept, marked), and the office's own totals of the run.

Called when a run's outputs are written (``toolkit consolidate`` and the page share
:func:`record_result`), never while consolidating: a run that fails to write leaves no trace.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from toolkit.history.store import (
    OFFICE_SHA_PREFIX,
    Cell,
    FileValues,
    HistoryStore,
    Recorded,
    digest,
)
from toolkit.spec.compare import period_of
from toolkit.spec.models import ConsolidationResult, FormFrames

_KEYS = ("file", "unit_code", "row")


def run_digest(result: ConsolidationResult) -> str:
    """What makes two runs the same: the campaign's spec and every file kept, with its
    status. The same inbox consolidated again gives the same digest."""
    return digest([f"spec:{result.campaign.spec_sha256}",
                   *(f"{s.unit_code}:{s.sha256}:{s.status}" for s in result.submissions
                     if s.status in ("accepted", "superseded"))])


def _frame_cells(frames: FormFrames) -> dict[str, list[Cell]]:
    """Cells of the accepted submissions by unit code, from the typed frames."""
    by_unit: dict[str, list[Cell]] = {}
    for form_id, frame in frames.items():
        if frame.empty:
            continue
        columns = [c for c in frame.columns if c not in _KEYS]
        units = frame["unit_code"].tolist()
        rows = frame["row"].tolist()
        for col in columns:
            for unit, row, value in zip(units, rows, frame[col].tolist(), strict=True):
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    continue
                by_unit.setdefault(unit, []).append((form_id, str(row), col, value))
    return by_unit


def _raw(value: Any) -> Any:
    """A superseded file's raw value as kept: numbers as numbers, everything else as text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None if value is None else str(value)


def _files(result: ConsolidationResult, run: str) -> Iterator[FileValues]:
    cells = _frame_cells(result.frames)
    for sub in result.submissions:
        if sub.status == "accepted":
            yield FileValues(sub.unit_code, sub.sha256, sub.file, cells.get(sub.unit_code, []))
        elif sub.status == "superseded" and sub.unit_code and sub.cells:
            yield FileValues(sub.unit_code, sub.sha256, sub.file,
                             [(c.form, c.row, c.column, _raw(c.raw)) for c in sub.cells],
                             superseded=True)
    totals: list[Cell] = []
    for fs in result.forms:
        if fs.form.kind == "list":
            continue
        for row in fs.rows:
            if row.kind != "office":
                continue
            for col in fs.form.columns:
                value = row.values.get(col.key)
                if col.aggregate == "sum" and isinstance(value, (int, float)):
                    totals.append((fs.form.id, row.key or "-", col.key, value))
    if totals:
        yield FileValues(result.office.code, OFFICE_SHA_PREFIX + run, "", totals)


def record_result(path: Path, result: ConsolidationResult) -> Recorded:
    """Keep ``result`` in the history file ``path`` (made when missing): the values of every
    accepted file, the superseded files' values marked so, and the office's totals. The
    same inbox recorded twice is kept once."""
    run = run_digest(result)
    with HistoryStore(path) as store:
        return store.record(
            campaign=result.campaign.id, period=period_of(result.campaign),
            office=result.office.code, generated_at=result.generated_at.isoformat(),
            spec_sha256=result.campaign.spec_sha256, inbox_digest=run, source="consolidate",
            files=_files(result, run))
