"""What validating one file gave, as plain data a cache can keep (issue 15 item 4).

Every check of :mod:`toolkit.check.validate` looks at one row of one file: a value's type,
its limits and choices, a rule between columns of the same row, a result without a target
on the same row. So the outcome of one file — the findings validation added to it and its
typed rows per form — depends on that file alone (its cells, its name, its unit code), and
a run can take it from an earlier run instead of validating the file again. Whether the
file is accepted is still decided each run, from all its findings (some come from steps
that look at the other files).

Kept as JSON, never pickle, and checked value by value when read back: a value whose type
JSON cannot say exactly makes the outcome not kept at all (the file is validated again).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any

from toolkit.spec.campaign import Campaign
from toolkit.spec.models import Finding

FINDING_FIELDS = 10


@dataclass(frozen=True)
class Checked:
    """One file's validation outcome: its unit code when validated, the findings validation
    added (in the order it added them, before warnings an error shadows are dropped), and
    its typed rows: form id → column key → values, the ``row`` key and every input column
    (the ``file`` and ``unit_code`` columns are the file's own)."""

    unit_code: str
    findings: tuple[Finding, ...]
    rows: dict[str, dict[str, list[Any]]]


def _numeric_keys(campaign: Campaign) -> dict[str, tuple[list[str], set[str]]]:
    """form id → (its frame's value columns in order, the numeric ones)."""
    out = {}
    for form in campaign.forms:
        keys = ["row", *(c.key for c in form.input_columns)]
        out[form.id] = (keys, {c.key for c in form.input_columns if c.is_numeric})
    return out


def encode_checked(checked: Checked, campaign: Campaign) -> str | None:
    """``checked`` as JSON text; None when a value's type JSON cannot say exactly."""
    forms = _numeric_keys(campaign)
    try:
        for f in checked.findings:
            if any(type(v) is not str for v in _finding_values(f)):
                raise TypeError("finding")
        rows: dict[str, dict[str, list[Any]]] = {}
        for form_id, columns in checked.rows.items():
            keys, numeric = forms[form_id]
            if list(columns) != keys:
                raise TypeError("columns")
            rows[form_id] = {key: [_number(v) for v in values] if key in numeric
                             else [_value(v) for v in values] for key, values in columns.items()}
        return json.dumps({"unit_code": checked.unit_code,
                           "findings": [_finding_values(f) for f in checked.findings],
                           "rows": rows}, ensure_ascii=False, allow_nan=False)
    except (TypeError, KeyError, ValueError):
        return None


def decode_checked(text: str, campaign: Campaign, unit_code: str) -> Checked | None:
    """The outcome kept as ``text``, or None when anything in it is not as
    :func:`encode_checked` writes it, or it was made for another unit code."""
    forms = _numeric_keys(campaign)
    try:
        payload = json.loads(text)
        if not isinstance(payload, dict) or payload.get("unit_code") != unit_code:
            return None
        findings = []
        for values in payload["findings"]:
            if (not isinstance(values, list) or len(values) != FINDING_FIELDS
                    or any(type(v) is not str for v in values)):
                return None
            findings.append(Finding(*values))
        rows: dict[str, dict[str, list[Any]]] = {}
        for form_id, columns in payload["rows"].items():
            keys, numeric = forms[form_id]
            if not isinstance(columns, dict) or list(columns) != keys:
                return None
            n = len(columns["row"])
            decoded = {}
            for key, values in columns.items():
                if not isinstance(values, list) or len(values) != n:
                    return None
                decoded[key] = ([_from_number(v) for v in values] if key in numeric
                                else [_from_value(v) for v in values])
            if any(type(r) is not str for r in decoded["row"]):
                return None
            rows[form_id] = decoded
        return Checked(unit_code, tuple(findings), rows)
    except (TypeError, KeyError, ValueError, IndexError, AttributeError, RecursionError):
        return None


def _finding_values(f: Finding) -> list[Any]:
    return [f.file, f.unit_code, f.form, f.cell, f.column, f.severity, f.code, f.message,
            f.value, f.row]


def _number(value: Any) -> float | list[str] | None:
    """A numeric column's value: a float (NaN, blank, as null)."""
    if type(value) is not float:
        raise TypeError("number")
    if math.isnan(value):
        return None
    return value if math.isfinite(value) else ["f", repr(value)]


def _from_number(value: Any) -> float:
    if value is None:
        return math.nan
    if type(value) is float:
        return value
    if type(value) is int:  # json writes 1e16 as 1e+16, read back as float; ints never
        raise TypeError("number")
    if isinstance(value, list) and len(value) == 2 and value[0] == "f" and value[1] in (
            "inf", "-inf"):
        return float(value[1])
    raise TypeError("number")


def _value(value: Any) -> Any:
    """Another column's value (the row key, text, a choice, a date), by its exact type."""
    kind = type(value)
    if value is None or kind in (str, bool, int):
        return value
    if kind is float:
        return value if math.isfinite(value) else ["f", repr(value)]
    if kind is dt.date:
        return ["d", value.isoformat()]
    if kind is dt.datetime:
        return ["dt", value.isoformat()]
    raise TypeError(kind.__name__)


def _from_value(value: Any) -> Any:
    if value is None or type(value) in (str, bool, int, float):
        return value
    if not isinstance(value, list) or len(value) != 2 or type(value[1]) is not str:
        raise TypeError("value")
    tag, text = value
    if tag == "d":
        return dt.date.fromisoformat(text)
    if tag == "dt":
        return dt.datetime.fromisoformat(text)
    if tag == "f" and text in ("inf", "-inf", "nan"):
        return float(text)
    raise ValueError("value")
