"""A campaign as plain data again: the inverse of :func:`toolkit.spec.load.campaign_from_data`.

Why: a campaign workbook, a proposal from a plan and ``toolkit campaign load`` all speak the
shapes of the YAML files, so every source converts through the same data and the same
checks. :func:`campaign_to_data` gives the *canonical* data of a campaign:

- keys in the order a person writes them, a header path always as a list, a fixed row as a
  plain string when its label is its key;
- a key whose value equals the loader's default is left out (``aggregate`` that follows the
  type, ``min: 0`` of a count, ``0..100`` of a typed percent, ``required: false``, empty
  notes, ``number`` equal to the form id, the default row header of the kind, 30 list rows,
  an indicator's ``count`` kind and ``%`` unit of a rate, a rule's ``error`` severity), except
  ``template_version`` (part of every template's identity) and a rule's ``op`` (a reader of the
  YAML should not have to know that ``le`` is implied);
- whole numbers as ``int``; dates as :class:`datetime.date`; text as NFC.

The canonical comparison (:func:`canonical`, :func:`same_campaign`): two campaigns are the
same when they are equal field by field, deadlines in the same order (the blank template
lists them in that order), *except* ``spec_sha256`` and ``source`` (of the campaign and of each
form): those name the text a campaign was read from, not what it says. So
``same_campaign(campaign_from_data(*campaign_to_data(c), src), c)`` holds for every campaign.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from toolkit.spec.campaign import (
    DEFAULT_AGGREGATE,
    PLAUSIBILITY_KEYS,
    Campaign,
    Column,
    Form,
    Indicator,
    Plausibility,
    Rule,
)
from toolkit.spec.compare import compare_to_data
from toolkit.spec.outline import outline_to_data

DEFAULT_ROW_HEADER = {"single_row": "Đơn vị", "fixed_rows": "Năm", "list": "TT",
                      "targets": "Chỉ tiêu"}
DEFAULT_LIST_ROWS = 30


def number(value: float) -> int | float:
    """``8.0`` → ``8``: whole numbers are written as integers (YAML ``8``, not ``8.0``)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def default_min_max(ctype: str, aggregate: str) -> tuple[float | None, float | None]:
    """The bounds the loader gives a column that declares none (see ``_parse_column``)."""
    if ctype in ("count", "money"):
        return 0, None
    if ctype == "percent" and aggregate != "ratio":
        return 0, 100
    return None, None


def form_file_names(forms: tuple[Form, ...] | list[Form]) -> list[str]:
    """One YAML file name per form: ``PL1`` → ``pl1.yaml`` (``pl1-2.yaml`` should two ids
    differ only in case)."""
    names: list[str] = []
    for form in forms:
        base = form.id.lower()
        name, n = f"{base}.yaml", 2
        while name in names:
            name, n = f"{base}-{n}.yaml", n + 1
        names.append(name)
    return names


def column_to_data(col: Column) -> dict[str, Any]:
    out: dict[str, Any] = {"key": col.key, "header": list(col.header), "type": col.type}
    if col.required:
        out["required"] = True
    lo, hi = default_min_max(col.type, col.aggregate)
    if col.min is not None and col.min != lo:
        out["min"] = number(col.min)
    if col.max is not None and col.max != hi:
        out["max"] = number(col.max)
    if col.choices:
        out["choices"] = list(col.choices)
    if col.aggregate != DEFAULT_AGGREGATE[col.type]:
        out["aggregate"] = col.aggregate
    if col.numerator is not None:
        out["numerator"] = col.numerator
    if col.denominator is not None:
        out["denominator"] = col.denominator
    if col.width is not None:
        out["width"] = number(col.width)
    if col.note:
        out["note"] = col.note
    return out


def rule_to_data(rule: Rule) -> dict[str, Any]:
    out: dict[str, Any] = {"sum": list(rule.left), "op": rule.op, "right": rule.right}
    if rule.severity != "error":
        out["severity"] = rule.severity
    return out


def indicator_to_data(ind: Indicator) -> dict[str, Any]:
    out: dict[str, Any] = {"key": ind.key, "name": ind.name}
    if ind.unit != ("%" if ind.is_rate else ""):
        out["unit"] = ind.unit
    if ind.kind != "count":
        out["kind"] = ind.kind
    if ind.default_target is not None:
        out["default_target"] = number(ind.default_target)
    return out


def form_to_data(form: Form) -> dict[str, Any]:
    """The canonical mapping of one form file."""
    out: dict[str, Any] = {"id": form.id}
    if form.number != form.id:
        out["number"] = form.number
    out["title"] = form.title
    out["kind"] = form.kind
    if form.row_header != DEFAULT_ROW_HEADER[form.kind]:
        out["row_header"] = form.row_header
    if form.kind == "targets":
        out["indicators"] = [indicator_to_data(i) for i in form.indicators]
        return out
    if form.list_rows != DEFAULT_LIST_ROWS:  # only a list uses it, but the loader keeps it
        out["list_rows"] = form.list_rows
    if form.kind == "fixed_rows":
        out["rows"] = [r.key if r.label == r.key else {"key": r.key, "label": r.label}
                       for r in form.rows]
    out["columns"] = [column_to_data(c) for c in form.columns]
    if form.rules:
        out["rules"] = [rule_to_data(r) for r in form.rules]
    return out


def campaign_to_data(campaign: Campaign) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The canonical data of ``campaign``: the ``campaign.yaml`` mapping (its ``forms`` lists
    the file names of :func:`form_file_names`) and one mapping per form file."""
    out: dict[str, Any] = {
        "id": campaign.id,
        "title": campaign.title,
        "issuer": campaign.issuer,
        "document_number": campaign.document_number,
        "document_date": campaign.document_date,
    }
    if campaign.period:
        out["period"] = campaign.period
    out["template_version"] = campaign.template_version
    out["deadlines"] = dict(campaign.deadlines)  # in the campaign's order
    if campaign.return_to:
        out["return_to"] = campaign.return_to
    if campaign.instructions:
        out["instructions"] = list(campaign.instructions)
    out["forms"] = form_file_names(campaign.forms)
    if campaign.outline:
        out["outline"] = outline_to_data(campaign.outline)
    if campaign.compare_with:
        out["compare_with"] = compare_to_data(campaign.compare_with)
    thresholds = {k: number(getattr(campaign.plausibility, k)) for k in PLAUSIBILITY_KEYS
                  if getattr(campaign.plausibility, k) != getattr(Plausibility(), k)}
    if thresholds:
        out["plausibility"] = thresholds
    return out, [form_to_data(f) for f in campaign.forms]


def canonical(campaign: Campaign) -> Campaign:
    """``campaign`` without what names its source text (``spec_sha256``, the campaign's and
    every form's ``source``): compare two of these with ``==``."""
    forms = tuple(dataclasses.replace(f, source="") for f in campaign.forms)
    return dataclasses.replace(campaign, spec_sha256="", source="", forms=forms)


def same_campaign(a: Campaign, b: Campaign) -> bool:
    """True when ``a`` and ``b`` say the same, deadlines in the same order (see the module
    docstring): the templates made from them differ only in ``spec_sha256``."""
    return canonical(a) == canonical(b) and list(a.deadlines) == list(b.deadlines)
