"""Targets over units: one indicator's values combined for the office, and the per-unit
matrix of the targets summary sheet.

Targets and results of counts are summed; the target of a rate is weighted by each unit's
denominator (Σ tᵢ·nᵢ / Σ nᵢ), so a district's summary carries to the province the target
its units were given, and the province can weight it again. Completion and status come from
:mod:`toolkit.spec.targets`, the one place the rule lives; a rate is never averaged.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from toolkit.check.values import clean_value
from toolkit.spec.campaign import Form, Indicator
from toolkit.spec.models import FormSummary, SummaryRow
from toolkit.spec.targets import (
    COMPLETION,
    EXPECTED,
    NOTE,
    RESULT,
    RESULT_BASE,
    RESULT_RATE,
    STATUS_BEHIND,
    TARGET,
    completion,
    status,
)
from toolkit.spec.text import is_blank
from toolkit.spec.units import Unit


def _fsum(values: Sequence[Any]) -> float | None:
    nums = [float(v) for v in values if not is_blank(v)]
    return math.fsum(nums) if nums else None


def combine(ind: Indicator, records: Sequence[Mapping[str, Any]],
            names: Sequence[str] = ()) -> dict[str, Any]:
    """Values of one indicator over several records (units): see the module docstring."""
    values: dict[str, Any] = {
        RESULT: _fsum([r.get(RESULT) for r in records]),
        EXPECTED: _fsum([r.get(EXPECTED) for r in records]),
        RESULT_BASE: None, RESULT_RATE: None,
    }
    if ind.is_rate:
        values[RESULT_BASE] = _fsum([r.get(RESULT_BASE) for r in records])
        pairs = [(float(r[RESULT]), float(r[RESULT_BASE])) for r in records
                 if not is_blank(r.get(RESULT)) and not is_blank(r.get(RESULT_BASE))]
        den = math.fsum(d for _n, d in pairs)
        values[RESULT_RATE] = math.fsum(n for n, _d in pairs) / den if den > 0 else None
        weighted = [(float(r[TARGET]), float(r[RESULT_BASE])) for r in records
                    if not is_blank(r.get(TARGET)) and not is_blank(r.get(RESULT_BASE))
                    and float(r[RESULT_BASE]) > 0]
        wden = math.fsum(d for _t, d in weighted)
        values[TARGET] = (math.fsum(t * d for t, d in weighted) / wden if wden > 0
                          else (_fsum([r.get(TARGET) for r in records])
                                if len(records) == 1 else None))
        values[COMPLETION] = completion(ind, values[TARGET],
                                        math.fsum(n for n, _d in pairs), den)
    else:
        values[TARGET] = _fsum([r.get(TARGET) for r in records])
        values[COMPLETION] = completion(ind, values[TARGET], values[RESULT])
    notes = [f"{n}: {clean_value(r.get(NOTE))}" if n else str(clean_value(r.get(NOTE)))
             for n, r in zip(names or [""] * len(records), records, strict=True)
             if not is_blank(r.get(NOTE))]
    values[NOTE] = "; ".join(notes) if notes else None
    values["status"] = status(values[COMPLETION])
    return values


def aggregate_targets(form: Form, by_unit: Mapping[str, list[dict[str, Any]]],
                      units: Sequence[Unit],
                      coverage: Callable[[Unit], tuple[int, int] | None] = lambda _u: None,
                      ) -> FormSummary:
    """One ``office`` row per indicator (what the level above reads), then one ``unit``
    row per (unit, indicator) for the per-unit matrix. An office row's ``behind`` lists
    the units below their target."""
    per_unit: dict[tuple[str, str], dict[str, Any]] = {}
    for unit in units:
        for record in by_unit.get(unit.code, []):
            per_unit[(unit.code, str(record.get("row")))] = record
    office_rows: list[SummaryRow] = []
    unit_rows: list[SummaryRow] = []
    for ind in form.indicators:
        records: list[dict[str, Any]] = []
        names: list[str] = []
        for unit in units:
            found = per_unit.get((unit.code, ind.key))
            if found is None:
                continue
            record = found
            records.append(record)
            names.append(unit.name)
            own = combine(ind, [record])
            unit_rows.append(SummaryRow(key=ind.key, label=ind.name, values=own, kind="unit",
                                        unit_code=unit.code, unit_name=unit.name,
                                        coverage=coverage(unit)))
        values = combine(ind, records, names)
        values["behind"] = [r.unit_name for r in unit_rows
                            if r.key == ind.key and r.values["status"] == STATUS_BEHIND]
        office_rows.append(SummaryRow(key=ind.key, label=ind.name, values=values,
                                      kind="office"))
    return FormSummary(form=form, rows=tuple(office_rows + unit_rows))


