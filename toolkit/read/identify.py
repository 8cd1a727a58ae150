"""Who sent a workbook and where its values are.

The ``_meta`` sheet comes first, the custom document properties fill its gaps. A unit may
still delete ``_meta`` (it is very hidden, but some programs show it) or send a copy that
lost its properties too. Then, for a campaign whose templates all share one layout, the
file is read through the current template's map: the unit from the properties, or from its
own name in the heading of the form sheets (under the form's title, which identifies the
campaign). Either way the reader checks the column-number row and the row labels before it
reads a single value (``strict`` relocation), and the file gets a warning that says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from toolkit.read.book import Book
from toolkit.spec.campaign import Campaign
from toolkit.spec.layout import HEADER_TOP
from toolkit.spec.meta import (
    IDENTITY_KEYS,
    MAP_HEADER,
    META_SHEET,
    CellRef,
    Meta,
    cell_map,
    parse_meta,
    template_layout,
)
from toolkit.spec.text import nfc
from toolkit.spec.units import Unit, UnitRegistry

_MAP_CACHE: dict[tuple[tuple[Any, ...], ...], tuple[CellRef, ...]] = {}
_MAP_CACHE_SIZE = 32  # distinct maps kept (templates of a few campaigns and versions)
HEADING_ROWS = HEADER_TOP + 16  # rows searched for title and unit name (rows inserted above)

Problem = tuple[str, dict[str, Any]]  # finding code, message fields


def _map_text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else str(value)


def parse_meta_cached(rows: list[list[Any]]) -> Meta:
    """:func:`~toolkit.spec.meta.parse_meta`, parsing each distinct cell map once per process:
    files from one template share their map, only the identity block differs."""
    start = next((i for i, row in enumerate(rows[:64])
                  if tuple(_map_text(v) for v in row[:5]) == MAP_HEADER), None)
    if start is None:
        return parse_meta(rows)
    key = tuple(tuple(row) for row in rows[start:])
    cells = _MAP_CACHE.get(key)
    if cells is None:
        meta = parse_meta(rows)
        if len(_MAP_CACHE) < _MAP_CACHE_SIZE:
            _MAP_CACHE[key] = meta.cells
        return meta
    return Meta(identity=parse_meta(rows[:start + 1]).identity, cells=cells)


def is_cached_map(cells: tuple[CellRef, ...]) -> bool:
    """Whether ``cells`` is a map kept for the whole process (its read plan may be kept)."""
    return any(v is cells for v in _MAP_CACHE.values()) or any(
        v is cells for v in _TEMPLATE_MAPS.values())


def identify(book: Book, props: dict[str, str]) -> tuple[dict[str, str], Meta | None,
                                                         Problem | None]:
    """Identity (``_meta`` first, custom properties filling gaps), the cell map, and the
    problem with ``_meta`` if any."""
    meta: Meta | None = None
    problem: Problem | None = ("sheet_missing", {"sheet": META_SHEET})
    if META_SHEET in book.sheet_names:
        try:
            meta, problem = parse_meta_cached(book.rows(META_SHEET)), None
        except ValueError as exc:
            problem = ("meta_unreadable", {"detail": str(exc)})
    identity = {k: v for k, v in props.items() if k in IDENTITY_KEYS and v}
    identity.update({k: v for k, v in (meta.identity if meta else {}).items() if v})
    return identity, meta, problem


# --------------------------------------------------------------------------- no _meta


_TEMPLATE_MAPS: dict[str, tuple[CellRef, ...]] = {}


def rebuildable(campaign: Campaign) -> bool:
    """Whether every unit's template has the same value cells (a targets form's cells
    depend on the unit's allocation, which a reader does not have)."""
    return all(form.kind != "targets" for form in campaign.forms)


def template_map(campaign: Campaign) -> tuple[CellRef, ...]:
    """The cell map the current templates of ``campaign`` carry in ``_meta``."""
    cells = _TEMPLATE_MAPS.get(campaign.spec_sha256)
    if cells is None:
        cells = tuple(cell_map([template_layout(form, None) for form in campaign.forms],
                               confirm=True))
        _TEMPLATE_MAPS[campaign.spec_sha256] = cells
    return cells


def _norm(value: Any) -> str:
    return " ".join(nfc(str(value)).split()).casefold() if value not in (None, "") else ""


@dataclass(frozen=True)
class Recognised:
    """A unit recognised from the heading of a form sheet."""

    unit: Unit
    sheet: str


def _names(units: UnitRegistry) -> dict[str, list[Unit]]:
    by_name: dict[str, list[Unit]] = {}
    for unit in units.units.values():
        by_name.setdefault(_norm(unit.name), []).append(unit)
    return by_name


def recognise_unit(book: Book, campaign: Campaign, units: UnitRegistry) -> Recognised | None:
    """The unit whose name heads the form sheets of ``campaign`` in ``book``.

    A sheet counts only when it has the campaign's sheet name and the form's title in its
    first column. Above the title, the heading names the unit's superior, then the unit:
    a unit is recognised where its name stands below its superior's name (which also tells
    apart units of the same name in two districts). Every such sheet must name the same
    single unit."""
    by_name = _names(units)
    found: dict[str, Recognised] = {}
    for form in campaign.forms:
        if form.sheet not in book.sheet_names:
            continue
        first = [_norm(row[0]) if row else "" for row in book.rows(form.sheet, HEADING_ROWS)]
        try:
            title_at = first.index(_norm(form.title))
        except ValueError:
            continue
        above: Sequence[str] = first[:title_at]
        named = {u.code: u for i, text in enumerate(above) for u in by_name.get(text, ())
                 if (p := units.parent_of(u)) is not None and _norm(p.name) in above[:i]}
        if len(named) != 1:
            return None
        unit = next(iter(named.values()))
        found.setdefault(unit.code, Recognised(unit, form.sheet))
    return next(iter(found.values())) if len(found) == 1 else None


def renamed_sheets(book: Book, campaign: Campaign, missing: set[str]) -> dict[str, str]:
    """Form sheet name → the book's sheet that now holds that form, for sheets a unit
    renamed: a sheet the campaign does not name whose heading carries the form's title
    (the only such sheet)."""
    known = {form.sheet for form in campaign.forms} | {META_SHEET}
    spare = [name for name in book.sheet_names if name not in known]
    found: dict[str, str] = {}
    for form in campaign.forms:
        if form.sheet not in missing or form.sheet in found:
            continue
        title = _norm(form.title)
        holders = [name for name in spare if title in (
            _norm(row[0]) if row else "" for row in book.rows(name, HEADING_ROWS))]
        if len(holders) == 1 and holders[0] not in found.values():
            found[form.sheet] = holders[0]
    return found
