"""A file's confirmation cells («Xác nhận số liệu đúng», :mod:`toolkit.spec.confirm`) set
apart from its values: they travel with the cells through the reading workers and the read
cache, and leave them before anything checks or sums a value."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from toolkit.spec.confirm import CONFIRM_KEY
from toolkit.spec.models import CellValue, PackedCells, Submission

Place = tuple[str, str, str, str]


@functools.lru_cache(maxsize=256)
def _split(places: tuple[Place, ...]) -> tuple[tuple[Place, ...], list[int], list[int]]:
    """(the places kept as values, their positions, the confirmation cells' positions).
    Kept from call to call, so every file of one template shares one tuple of places."""
    keep = [i for i, p in enumerate(places) if p[2] != CONFIRM_KEY]
    notes = [i for i, p in enumerate(places) if p[2] == CONFIRM_KEY]
    return tuple(places[i] for i in keep), keep, notes


def set_notes_apart(submissions: list[Submission]) -> None:
    """Move each file's confirmation cells from its cells to its ``confirmations`` (a file
    already done is left as it is)."""
    split: dict[int, tuple[Sequence[Place], tuple[tuple[Place, ...], list[int], list[int]]]] = {}
    for sub in submissions:
        cells = sub.cells
        if isinstance(cells, PackedCells):
            known = split.get(id(cells.places))
            if known is None or known[0] is not cells.places:
                known = split[id(cells.places)] = (cells.places, _split(tuple(cells.places)))
            places, (kept, keep, notes) = known
            if not notes:
                continue
            raws = cells.raws
            sub.confirmations = [CellValue(*places[i], raws[i]) for i in notes]
            sub.cells = PackedCells(kept, [raws[i] for i in keep])
        elif any(c.column == CONFIRM_KEY for c in cells):
            sub.confirmations = [c for c in cells if c.column == CONFIRM_KEY]
            sub.cells = [c for c in cells if c.column != CONFIRM_KEY]
