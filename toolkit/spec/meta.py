"""The ``_meta`` sheet and custom properties: the contract other tools and levels rely on.

Layout of ``_meta`` (see DESIGN.md): a key/value block (``campaign``, ``unit_code``,
``unit_name``, ``kind``, ``template_version``, ``spec_sha256``, ``generated_at``), an empty
row, then a table ``form | sheet | row | column | cell`` listing every value cell. Readers
take positions from the file's own map, so a file made from an older spec is still read
correctly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from toolkit.spec.campaign import Form
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
KINDS = ("template", "summary")


@dataclass(frozen=True)
class CellRef:
    """One entry of the cell map."""

    form: str
    sheet: str
    row: str
    column: str
    cell: str


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


def cell_map(layouts: Iterable[FormLayout], kinds: Sequence[str] = ("input",)) -> list[CellRef]:
    """The map entries of the given layouts: every value cell of rows of ``kinds``."""
    refs = []
    for layout in layouts:
        for row_key, col, cell in layout.input_cells(kinds):
            refs.append(CellRef(layout.form.id, layout.form.sheet, row_key, col.key, cell))
    return refs


def meta_rows(identity: dict[str, str], refs: Sequence[CellRef]) -> list[list[str]]:
    """Rows of the ``_meta`` sheet, ready to write as text cells."""
    missing = [k for k in IDENTITY_KEYS if k not in identity]
    if missing:
        raise ValueError(f"identity lacks {missing}")
    rows = [[k, str(identity[k])] for k in IDENTITY_KEYS]
    rows.append([])
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
    refs = []
    for raw in rows[i + 1 :]:
        cells = [_text(v) for v in list(raw)[:5]]
        if not any(cells):
            continue
        cells += [""] * (5 - len(cells))
        refs.append(CellRef(*cells))
    if "campaign" not in identity:
        raise ValueError("khối định danh (campaign, unit_code, …) không có trong _meta")
    return Meta(identity=identity, cells=tuple(refs))
