"""The ``_meta`` sheet and custom properties: the contract other tools and levels rely on.

Layout of ``_meta`` (see DESIGN.md): a key/value block (``campaign``, ``unit_code``,
``unit_name``, ``kind``, ``template_version``, ``spec_sha256``, ``generated_at``), an empty
row, then a table ``form | sheet | row | column | cell`` listing every value cell. Readers
take positions from the file's own map, so a file made from an older spec is still read
correctly.

Two compatible additions (a reader that does not know them ignores them): a summary's
identity block may end with ``units_covered`` and ``units_expected`` (how many units its
figures cover: 27 of 32), and its map may have a sixth column ``origin`` naming the unit a
list row came from (``Đoàn xã Xuân Hồng``; at the province ``Huyện đoàn Thọ Xuân › Đoàn xã
Xuân Hồng``), so the level above keeps it.

A template's map also names each form's confirmation cell (row ``-``, column
``_xac_nhan``, :mod:`toolkit.spec.confirm`): a note from the unit, not a figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from toolkit.spec.campaign import Form
from toolkit.spec.confirm import CONFIRM_KEY, CONFIRM_ROW, confirm_place, has_confirmation
from toolkit.spec.layout import DOTS, FormLayout, default_rows, form_layout
from toolkit.spec.targets import UnitTargets, targets_layout
from toolkit.spec.units import Unit

META_SHEET = "_meta"
IDENTITY_KEYS = (
    "campaign",
    "unit_code",
    "unit_name",
    "kind",
    "template_version",
    "spec_sha256",
    "generated_at",
)
MAP_HEADER = ("form", "sheet", "row", "column", "cell")
ORIGIN = "origin"  # the optional sixth column of the map
COVERAGE_KEYS = ("units_covered", "units_expected")  # optional, after IDENTITY_KEYS
KINDS = ("template", "summary")


@dataclass(frozen=True)
class CellRef:
    """One entry of the cell map."""

    form: str
    sheet: str
    row: str
    column: str
    cell: str
    origin: str = ""  # the unit a list row came from, kept from level to level


class Identified:
    """The identity keys of a workbook (``_meta`` block, custom properties) as attributes;
    shared by :class:`Meta` and :class:`~toolkit.spec.models.Submission`."""

    identity: dict[str, str]

    @property
    def campaign(self) -> str:
        return self.identity.get("campaign", "")

    @property
    def unit_code(self) -> str:
        return self.identity.get("unit_code", "")

    @property
    def unit_name(self) -> str:
        return self.identity.get("unit_name", "")

    @property
    def kind(self) -> str:
        return self.identity.get("kind", "")

    @property
    def coverage(self) -> tuple[int, int] | None:
        """(units covered, units expected) of a summary that says so, else None."""
        try:
            covered, expected = (int(float(self.identity[k])) for k in COVERAGE_KEYS)
        except (KeyError, ValueError):
            return None
        return (covered, expected) if 0 <= covered <= expected else None


@dataclass(frozen=True)
class Meta(Identified):
    """Identity and cell map of one workbook."""

    identity: dict[str, str]
    cells: tuple[CellRef, ...]


def template_layout(form: Form, unit: Unit | None,
                    targets: UnitTargets | None = None) -> FormLayout:
    """The template layout of ``form``; a single-row form's row carries the unit's name;
    a targets form's value cells depend on the unit's allocation (``targets``)."""
    if form.kind == "targets":
        return targets_layout(form, (targets or {}).get(form.id) if targets else None)
    rows = default_rows(form)
    if form.kind == "single_row":
        rows = [(k, unit.name if unit else DOTS, kind) for k, _label, kind in rows]
    return form_layout(form, rows)


def cell_map(layouts: Iterable[FormLayout], kinds: Sequence[str] = ("input",),
             origins: Mapping[tuple[str, str], str] | None = None, *,
             confirm: bool = False) -> list[CellRef]:
    """The map entries of the given layouts: every value cell of rows of ``kinds``;
    ``origins`` ((form, row) → unit) fills the optional origin column; ``confirm`` (a
    template) adds each form's confirmation cell after its values
    (:mod:`toolkit.spec.confirm`)."""
    refs = []
    for layout in layouts:
        for row_key, col, cell in layout.input_cells(kinds):
            origin = (origins or {}).get((layout.form.id, row_key), "")
            refs.append(CellRef(layout.form.id, layout.form.sheet, row_key, col.key, cell,
                                origin))
        if confirm and has_confirmation(layout.form):
            refs.append(CellRef(layout.form.id, layout.form.sheet, CONFIRM_ROW, CONFIRM_KEY,
                                confirm_place(layout).cell))
    return refs


def meta_rows(identity: dict[str, str], refs: Sequence[CellRef]) -> list[list[str]]:
    """Rows of the ``_meta`` sheet, ready to write as text cells."""
    missing = [k for k in IDENTITY_KEYS if k not in identity]
    if missing:
        raise ValueError(f"identity lacks {missing}")
    rows = [[k, str(identity[k])] for k in (*IDENTITY_KEYS, *COVERAGE_KEYS) if k in identity]
    rows.append([])
    if any(r.origin for r in refs):
        rows.append([*MAP_HEADER, ORIGIN])
        rows.extend([r.form, r.sheet, r.row, r.column, r.cell, r.origin] for r in refs)
    else:
        rows.append(list(MAP_HEADER))
        rows.extend([r.form, r.sheet, r.row, r.column, r.cell] for r in refs)
    return rows


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_meta(rows: Sequence[Sequence[object]]) -> Meta:
    """Parse the ``_meta`` sheet's values (as a reader returns them, starting at A1).

    Tolerant of what spreadsheet programs do to text (numbers turned into floats, trailing
    blank cells); raises ValueError when the block or the map header is not there.
    """
    identity: dict[str, str] = {}
    i = 0
    while i < len(rows):
        cells = [_text(v) for v in rows[i]]
        if not any(cells):
            i += 1
            break
        if tuple(cells[:5]) == MAP_HEADER:
            break
        identity[cells[0]] = cells[1] if len(cells) > 1 else ""
        i += 1
    while i < len(rows) and not any(_text(v) for v in rows[i]):
        i += 1
    if i >= len(rows) or tuple(_text(v) for v in list(rows[i])[:5]) != MAP_HEADER:
        raise ValueError("bảng vị trí ô (form | sheet | row | column | cell) không có trong _meta")
    width = 6 if _text(list(rows[i])[5] if len(rows[i]) > 5 else "") == ORIGIN else 5
    refs = []
    for raw in rows[i + 1 :]:
        cells = [_text(v) for v in list(raw)[:width]]
        if not any(cells[:5]):
            continue
        cells += [""] * (width - len(cells))
        refs.append(CellRef(*cells))
    if "campaign" not in identity:
        raise ValueError("khối định danh (campaign, unit_code, …) không có trong _meta")
    return Meta(identity=identity, cells=tuple(refs))
