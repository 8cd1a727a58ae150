"""Targets (chỉ tiêu): what a ``targets`` form means, in one place.

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

import math
from collections.abc import Mapping, Sequence
from typing import Any

from toolkit.check.values import clean_value
from toolkit.spec.campaign import Form, Indicator
from toolkit.spec.models import FormSummary, SummaryRow
from toolkit.spec.targets import STATUS_BEHIND, completion, status
from toolkit.spec.text import is_blank
from toolkit.spec.units import Unit


def _fsum(values: Sequence[Any]) -> float | None:
    nums = [float(v) for v in values if not is_blank(v)]
    return math.fsum(nums) if nums else None


def combine(ind: Indicator, records: Sequence[Mapping[str, Any]],
            names: Sequence[str] = ()) -> dict[str, Any]:
    """Values of one indicator over several records (units): see the module docstring."""
    values: dict[str, Any] = {
        "ket_qua": _fsum([r.get("ket_qua") for r in records]),
        "du_kien": _fsum([r.get("du_kien") for r in records]),
        "ket_qua_mau_so": None, "ty_le_ket_qua": None,
    }
    if ind.is_rate:
        values["ket_qua_mau_so"] = _fsum([r.get("ket_qua_mau_so") for r in records])
        pairs = [(float(r["ket_qua"]), float(r["ket_qua_mau_so"])) for r in records
                 if not is_blank(r.get("ket_qua")) and not is_blank(r.get("ket_qua_mau_so"))]
        den = math.fsum(d for _n, d in pairs)
        values["ty_le_ket_qua"] = math.fsum(n for n, _d in pairs) / den if den > 0 else None
        weighted = [(float(r["chi_tieu"]), float(r["ket_qua_mau_so"])) for r in records
                    if not is_blank(r.get("chi_tieu")) and not is_blank(r.get("ket_qua_mau_so"))
                    and float(r["ket_qua_mau_so"]) > 0]
        wden = math.fsum(d for _t, d in weighted)
        values["chi_tieu"] = (math.fsum(t * d for t, d in weighted) / wden if wden > 0
                              else (_fsum([r.get("chi_tieu") for r in records])
                                    if len(records) == 1 else None))
        values["ty_le_hoan_thanh"] = (values["ty_le_ket_qua"] / (values["chi_tieu"] / 100)
                                      if values["ty_le_ket_qua"] is not None
                                      and values["chi_tieu"] else None)
    else:
        values["chi_tieu"] = _fsum([r.get("chi_tieu") for r in records])
        values["ty_le_hoan_thanh"] = completion(ind, values["chi_tieu"], values["ket_qua"])
    notes = [f"{n}: {clean_value(r.get('ghi_chu'))}" if n else str(clean_value(r.get("ghi_chu")))
             for n, r in zip(names or [""] * len(records), records, strict=True)
             if not is_blank(r.get("ghi_chu"))]
    values["ghi_chu"] = "; ".join(notes) if notes else None
    values["status"] = status(values["ty_le_hoan_thanh"])
    return values


def aggregate_targets(form: Form, by_unit: Mapping[str, list[dict[str, Any]]],
                      units: Sequence[Unit]) -> FormSummary:
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
        records, names = [], []
        for unit in units:
            record = per_unit.get((unit.code, ind.key))
            if record is None:
                continue
            records.append(record)
            names.append(unit.name)
            own = combine(ind, [record])
            unit_rows.append(SummaryRow(key=ind.key, label=ind.name, values=own, kind="unit",
                                        unit_code=unit.code, unit_name=unit.name))
        values = combine(ind, records, names)
        values["behind"] = [r.unit_name for r in unit_rows
                            if r.key == ind.key and r.values["status"] == STATUS_BEHIND]
        office_rows.append(SummaryRow(key=ind.key, label=ind.name, values=values,
                                      kind="office"))
    return FormSummary(form=form, rows=tuple(office_rows + unit_rows))


