"""Which file speaks for each unit: unknown units, units of another office, files of a unit
that has since been merged into another (counted for its successor), and several files from
one unit (the newest wins; byte-identical copies are said to be copies)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from toolkit.spec.campaign import Campaign
from toolkit.spec.findings import make_finding
from toolkit.spec.models import Submission
from toolkit.spec.units import Unit, UnitRegistry


def _newness(sub: Submission) -> tuple[dt.datetime, dt.datetime, str]:
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    return (sub.modified_at or oldest, sub.received_at or oldest, sub.file)


def _mark(sub: Submission, status: str, code: str, **fields: Any) -> None:
    finding = make_finding(code, file=sub.file, unit_code=sub.unit_code, **fields)
    sub.findings.append(finding)
    sub.status, sub.reason = status, finding.message


def select(submissions: list[Submission], units: UnitRegistry, office: Unit,
           campaign: Campaign) -> None:
    """Decide which identified file speaks for each child unit of ``office``.

    Unknown units and units that do not report to ``office`` become ``unidentified``; of
    several files from one unit the newest (workbook "modified" time, then received time,
    then path) is kept and the others are ``superseded`` (``duplicate_copy`` for
    byte-identical copies). A file of a merged unit (its ``_meta`` names a unit that has a
    successor) speaks for the end of the chain of successors, with a ``unit_merged``
    warning: it is that unit's file from then on, chosen when the successor sent nothing
    newer. Chosen files keep their status ("" or ``rejected``)."""
    del campaign  # identity was already checked against it by ingest
    by_unit: dict[str, list[Submission]] = {}
    for sub in submissions:
        if sub.status not in ("", "rejected") or not sub.unit_code:
            continue
        if sub.unit_code not in units:
            _mark(sub, "unidentified", "unit_unknown")
            continue
        unit = units.get(sub.unit_code)
        if unit.successor:
            unit = _to_successor(sub, unit, units)
        if unit.parent != office.code:
            parent = units.parent_of(unit)
            _mark(sub, "unidentified", "unit_not_child", unit_name=unit.name,
                  parent_name=parent.name if parent else "cấp cao nhất",
                  office_name=office.name)
            continue
        by_unit.setdefault(unit.code, []).append(sub)
    for subs in by_unit.values():
        chosen, *others = sorted(subs, key=_newness, reverse=True)
        for other in others:
            if other.sha256 == chosen.sha256:
                _mark(other, "superseded", "duplicate_copy", other=chosen.file)
            else:
                _mark(other, "superseded", "superseded", newer=chosen.file,
                      unit_name=chosen.unit_name or chosen.unit_code)


def _to_successor(sub: Submission, unit: Unit, units: UnitRegistry) -> Unit:
    """Re-label ``sub`` (from ``unit``, merged or renamed) as its successor's file: the
    unit code and name every output shows, and the findings already made about it."""
    heir = units.current(unit.code)
    sub.identity = {**sub.identity, "unit_code": heir.code, "unit_name": heir.name}
    sub.findings[:] = [replace(f, unit_code=heir.code) if f.unit_code == unit.code else f
                       for f in sub.findings]
    since = f" từ {unit.merged_on:%d/%m/%Y}" if unit.merged_on else ""
    sub.findings.append(make_finding("unit_merged", file=sub.file, unit_code=heir.code,
                                     unit_name=heir.name, merged_code=unit.code,
                                     merged_name=unit.name, since=since))
    return heir
