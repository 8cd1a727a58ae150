"""Provenance checks: did each file come from the address registered for its unit?

Pure functions over the inbox manifest (:mod:`toolkit.read.manifest`), the submissions of a run
and the units file; ``consolidate`` turns the result into warnings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from email.utils import getaddresses
from typing import NamedTuple, Protocol

from toolkit.read.manifest import Arrival
from toolkit.spec.text import nfc
from toolkit.spec.units import UnitRegistry


class _HasFileAndUnit(Protocol):
    @property
    def file(self) -> str: ...

    @property
    def unit_code(self) -> str: ...


class SenderMismatch(NamedTuple):
    """A file whose sender is not its unit's registered address."""

    file: str
    unit_code: str
    sender: str
    expected: str  # the unit's ``email`` cell as registered


def addresses(text: str) -> set[str]:
    """Lower-cased addresses of a header or a units-file cell (``,`` or ``;``)."""
    text = text or ""
    if "<" not in text:  # plain list of addresses
        return {a.lower() for a in re.split(r"[,;\s]+", text) if "@" in a}
    return {addr.strip().lower() for _, addr in getaddresses([text.replace(";", ",")])
            if "@" in addr}


def sender_mismatches(
    arrivals: Mapping[str, Arrival] | Iterable[Arrival],
    submissions: Iterable[_HasFileAndUnit],
    units: UnitRegistry,
) -> list[SenderMismatch]:
    """``(file, unit_code, sender, expected)`` for each submission whose manifest sender is
    none of its unit's registered addresses (a successor's include those of the units merged
    into it). Files without a manifest line or sender, units
    not in the units file and units without a registered address are not judged."""
    by_file: dict[str, Arrival] = {}
    items = arrivals.values() if isinstance(arrivals, Mapping) else arrivals
    for arrival in items:
        by_file[nfc(arrival.file).replace("\\", "/")] = arrival
    # a merged unit's file is counted for its successor: its own address is not a stranger's
    inherited: dict[str, set[str]] = {}
    for old in units.units.values():
        if old.successor:
            inherited.setdefault(units.current(old.code).code, set()).update(
                addresses(old.email))
    found: list[SenderMismatch] = []
    for sub in submissions:
        arrival = by_file.get(nfc(sub.file).replace("\\", "/"))
        code = sub.unit_code
        if arrival is None or not arrival.sender or not code or code not in units:
            continue
        unit = units.get(code)
        expected = addresses(unit.email) | inherited.get(unit.code, set())
        sent_by = addresses(arrival.sender)
        if not expected or not sent_by or sent_by & expected:
            continue
        found.append(SenderMismatch(sub.file, code, arrival.sender, unit.email))
    return sorted(found)
