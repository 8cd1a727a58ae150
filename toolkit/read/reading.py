"""One mailed file read into a :class:`~toolkit.spec.models.Submission`, through its own map.

The file is read once into memory and hashed there (the inbox is never modified). Who sent
it and where its values are come from :mod:`toolkit.read.identify`; the bytes are opened by
:mod:`toolkit.read.book` within the limits of :mod:`toolkit.read.limits`. Before a value is taken,
:mod:`toolkit.read.relocate` checks the table is still where the map says. One bad file never
stops a run: every problem becomes a :class:`~toolkit.spec.models.Finding` on its submission.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.check.values import raw_text, shown_text
from toolkit.read import limits
from toolkit.read.book import (
    Book,
    FileProblem,
    col_number,
    open_container,
    read_properties,
    short_error,
)
from toolkit.read.fsopen import open_regular
from toolkit.read.identify import (
    identify,
    is_cached_map,
    rebuildable,
    recognise_unit,
    renamed_sheets,
    template_map,
)
from toolkit.read.relocate import SHIFT_SLACK, relocate_all
from toolkit.spec.campaign import Campaign, Form
from toolkit.spec.confirm import CONFIRM_KEY, CONFIRM_ROW, is_confirm_label
from toolkit.spec.findings import make_finding
from toolkit.spec.layout import MAX_COLS, MAX_ROWS, a1, form_layout
from toolkit.spec.meta import IDENTITY_KEYS, KINDS, CellRef, Meta
from toolkit.spec.models import CellValue, Submission
from toolkit.spec.text import nfc
from toolkit.spec.units import UnitRegistry

_A1_RE = re.compile(r"\$?([A-Z]{1,3})\$?(\d{1,7})")


class OtherCampaign(Exception):
    """The file belongs to another campaign (its id is the argument): skipped, not read."""


_a1 = functools.lru_cache(maxsize=1 << 16)(a1)


@functools.lru_cache(maxsize=1 << 16)
def _cell_position(cell: str) -> tuple[int, int, str]:
    """0-based (row, col) and clean A1 of a map reference; (-1, -1, "") if it is not one."""
    m = _A1_RE.fullmatch(cell.strip().upper())
    if not m:
        return -1, -1, ""
    r, c = int(m.group(2)) - 1, col_number(m.group(1).encode()) - 1
    return r, c, a1(r, c) if r >= 0 else ""


@dataclass(frozen=True)
class _Plan:
    """What a cell map means for one campaign and one set of sheets: the cells to read per
    sheet, and the findings (code, fields) the map itself gives."""

    wanted: dict[str, list[tuple[CellRef, int, int]]]
    findings: list[tuple[str, dict[str, Any]]]
    unknown: int
    notes: dict[str, list[tuple[CellRef, int, int]]]  # the confirmation cells, per sheet


_PLANS_SIZE = 128
_PLANS: dict[tuple[Any, ...], tuple[tuple[CellRef, ...], _Plan]] = {}


def _plan(cells: tuple[CellRef, ...], book_sheets: tuple[str, ...], campaign: Campaign,
          renamed: tuple[tuple[str, str], ...] = ()) -> _Plan:
    """The read plan of a map (``renamed``: form sheet → the book's sheet holding it now);
    computed once for a map shared by many files (the cached map tuple is kept alive with
    its plan, so its id stays valid)."""
    key = (id(cells), campaign.spec_sha256, book_sheets, renamed)
    hit = _PLANS.get(key)
    if hit is not None and hit[0] is cells:
        return hit[1]
    forms = {f.id: f for f in campaign.forms}
    inputs = {f.id: {c.key for c in f.input_columns} for f in campaign.forms}
    fixed = {f.id: set(f.row_keys()) for f in campaign.forms if f.kind != "list"}
    wanted: dict[str, list[tuple[CellRef, int, int]]] = {}
    findings: list[tuple[str, dict[str, Any]]] = []
    seen: set[tuple[str, str, str]] = set()
    missing_sheets: set[str] = set()
    aliases = dict(renamed)
    unknown = 0
    notes: dict[str, list[tuple[CellRef, int, int]]] = {}
    for ref in cells:
        if ref.column == CONFIRM_KEY and ref.row == CONFIRM_ROW and ref.form in forms:
            r, c, _cell = _cell_position(ref.cell)
            sheet = nfc(ref.sheet or forms[ref.form].sheet)
            sheet = aliases.get(sheet, sheet)
            if 0 <= r < MAX_ROWS and 0 <= c < MAX_COLS and sheet in book_sheets:
                notes.setdefault(sheet, []).append((ref, r, c))
            continue  # a note, not a value: read apart, never a spec_changed cell
        if ref.column not in inputs.get(ref.form, ()) or ref.row not in fixed.get(ref.form, (
                ref.row,)):
            unknown += 1  # a form, column or fixed row the current plan no longer has
            continue
        if (ref.form, ref.row, ref.column) in seen:
            continue
        seen.add((ref.form, ref.row, ref.column))
        r, c, _cell = _cell_position(ref.cell)
        sheet = nfc(ref.sheet or forms[ref.form].sheet)
        sheet = aliases.get(sheet, sheet)
        if not (0 <= r < MAX_ROWS and 0 <= c < MAX_COLS):
            findings.append(("cell_outside_sheet", {"form": ref.form, "column": ref.column,
                                                    "row": ref.row, "value": ref.cell,
                                                    "ref": ref.cell}))
        elif sheet not in book_sheets:
            if sheet not in missing_sheets:
                missing_sheets.add(sheet)
                findings.append(("sheet_missing", {"form": ref.form, "sheet": sheet}))
        else:
            wanted.setdefault(sheet, []).append((ref, r, c))
    plan = _Plan(wanted, findings, unknown, notes)
    if is_cached_map(cells) and len(_PLANS) < _PLANS_SIZE:
        _PLANS[key] = (cells, plan)
    return plan


def _read_cells(sub: Submission, book: Book, meta: Meta, campaign: Campaign, *,
                rebuilt: bool = False) -> None:
    """CellValues through the file's own map (``rebuilt``: the current template's map, for
    a file that lost its own); sheet and position problems as findings."""
    forms = {f.id: f for f in campaign.forms}

    def add(code: str, **fields: Any) -> None:
        sub.findings.append(make_finding(code, file=sub.file, unit_code=sub.unit_code, **fields))

    plan = _plan(meta.cells, book.sheet_names, campaign)
    missing = {f["sheet"] for code, f in plan.findings if code == "sheet_missing"}
    renamed = renamed_sheets(book, campaign, missing) if missing else {}
    if renamed:
        plan = _plan(meta.cells, book.sheet_names, campaign, tuple(sorted(renamed.items())))
        for old, new in sorted(renamed.items()):
            add("sheet_renamed", sheet=old, value=new)
    for code, fields in plan.findings:
        add(code, **fields)
    unknown, wanted = plan.unknown, plan.wanted
    if unknown or (not rebuilt and sub.identity.get("spec_sha256") != campaign.spec_sha256):
        add("spec_changed", detail=f" ({unknown} ô không còn trong kế hoạch hiện tại, bỏ qua)"
            if unknown else "")
    sub.origins = {(ref.form, ref.row): nfc(ref.origin) for ref in meta.cells if ref.origin}
    cells = list(sub.cells)
    for sheet in dict.fromkeys([*wanted, *plan.notes]):
        refs, notes = wanted.get(sheet, []), plan.notes.get(sheet, [])
        rows = book.rows(sheet, nrows=max(r for _ref, r, _c in (*refs, *notes)) + 1
                         + SHIFT_SLACK)
        cells += _read_notes(notes, rows)
        if not refs:
            continue
        refs, verified = relocate_all(forms, refs, rows, sheet, sub.kind == "summary", add,
                                       strict=rebuilt)
        info = book.info(sheet) if sub.kind == "template" else None
        for ref, r, c in refs:
            raw = rows[r][c] if r < len(rows) and c < len(rows[r]) else None
            raw = None if raw == "" else raw
            cell = _a1(r, c)
            cells.append(CellValue(ref.form, ref.row, ref.column, cell, raw))
            if info is not None and (r, c) in info.formulas:
                add("formula_in_input", form=ref.form, cell=cell, column=ref.column,
                    row=ref.row, value=shown_text(raw))
        if info is not None and info.merges and refs:
            _check_merges(sub, info.merges, refs, sheet)
        for form_id in sorted({ref.form for ref, _r, _c in refs}):
            if sub.kind == "template" and forms[form_id].kind == "fixed_rows" and (
                    form_id not in verified):
                _check_row_keys(sub, forms[form_id],
                                [(ref.row, r) for ref, r, _c in refs if ref.form == form_id], rows)
    sub.cells = cells


def _read_notes(notes: list[tuple[CellRef, int, int]], rows: list[list[Any]]
                ) -> list[CellValue]:
    """The confirmation cells of one sheet (:mod:`toolkit.spec.confirm`), as the unit's raw
    text. Each is read beside its label: where the map says when the label is still there
    on its left, else beside the label found lower or higher (rows inserted or deleted
    above); no label, no note (a value is never taken from a cell that may be another)."""
    out: list[CellValue] = []
    for ref, r, c in notes:
        at = _label_at(rows, r, c)
        if at is None:
            continue
        r2, c2 = at
        raw = rows[r2][c2] if c2 < len(rows[r2]) else None
        out.append(CellValue(ref.form, ref.row, ref.column, _a1(r2, c2),
                             None if raw == "" else raw))
    return out


def _label_at(rows: list[list[Any]], r: int, c: int) -> tuple[int, int] | None:
    """Where the confirmation cell mapped at (r, c) is now: on the row that shows the label
    (the map's own row first, then the nearest), as far right of the label as the template
    put it (its label starts the row: :func:`~toolkit.spec.confirm.confirm_place`)."""
    for i in sorted(range(len(rows)), key=lambda i: (abs(i - r), i)):
        j = next((j for j, v in enumerate(rows[i][:c]) if is_confirm_label(v)), None)
        if j is not None:
            return i, c + j
    return None


def _check_merges(sub: Submission, merges: list[tuple[int, int, int, int]],
                  refs: list[tuple[CellRef, int, int]], sheet: str) -> None:
    """Input cells a unit merged into another cell: only the first cell of a merged range
    keeps a value, the others read as blank — said once per range, at its first cell."""
    top, bottom = min(r for _ref, r, _c in refs), max(r for _ref, r, _c in refs)
    for r1, c1, r2, c2 in merges:
        if r2 < top or r1 > bottom:  # the heading's and header's own merges
            continue
        covered = [ref for ref, r, c in refs
                   if r1 <= r <= r2 and c1 <= c <= c2 and (r, c) != (r1, c1)]
        if covered:
            ref = covered[0]
            sub.findings.append(make_finding(
                "merged_cells", file=sub.file, unit_code=sub.unit_code, form=ref.form,
                sheet=sheet, cell=a1(r1, c1), column=ref.column, row=ref.row,
                value=f"{a1(r1, c1)}:{a1(r2, c2)}"))


def _check_row_keys(sub: Submission, form: Form, map_rows: list[tuple[str, int]],
                    rows: list[list[Any]]) -> None:
    """A fixed row's label (column A) must still show its key where the current layout
    puts it — checked only where the file's map puts that row there too (an older layout
    is left alone)."""
    layout = form_layout(form)
    for row_key in form.rows:
        expected = layout.row(row_key.key).row
        if (row_key.key, expected) not in map_rows:
            continue
        value = rows[expected][0] if expected < len(rows) and rows[expected] else None
        if raw_text(value).strip().casefold() not in (row_key.key.casefold(),
                                                      row_key.label.casefold()):
            sub.findings.append(make_finding(
                "row_key_changed", file=sub.file, unit_code=sub.unit_code, form=form.id,
                cell=a1(expected, 0), row=row_key.key, value=raw_text(value),
                expected=row_key.label))


def _read_into(sub: Submission, data: bytes, campaign: Campaign,
               units: UnitRegistry | None) -> None:
    """Identify ``data`` and read its cells into ``sub``; raises :class:`FileProblem` or
    :class:`OtherCampaign`."""
    suffix = sub.path.suffix.lower()
    kind, zf = open_container(data, suffix)
    props, sub.modified_at = read_properties(kind, zf)
    # who sent it is known before its values are read: a file whose values cannot be read
    # is then that unit's file, rejected with the reason (not an unknown file)
    sub.identity = {k: v for k, v in props.items() if k in IDENTITY_KEYS and v}
    book = Book(data, kind, zf, cfb_as_xlsx=kind == "xls" and suffix in (".xlsx", ".xlsm"))
    sub.sheet_names = book.sheet_names
    sub.identity, meta, meta_problem = identify(book, props)
    if meta is None and _recognise(sub, book, campaign, units):
        _read_cells(sub, book, Meta(sub.identity, template_map(campaign)), campaign,
                    rebuilt=True)
        return
    if not sub.campaign:
        if meta_problem is not None and meta_problem[0] == "meta_unreadable":
            raise FileProblem(meta_problem[0], **meta_problem[1])
        raise FileProblem("legacy_xls" if kind == "xls" else "no_identity")
    if sub.campaign != campaign.id:
        raise OtherCampaign(sub.campaign)
    if sub.kind not in KINDS:
        raise FileProblem("unknown_kind", kind=sub.kind)
    if not sub.unit_code:
        raise FileProblem("no_identity")
    if meta is None:  # identified by its properties, but without a map nothing can be read
        assert meta_problem is not None
        raise FileProblem(meta_problem[0], **meta_problem[1])
    _read_cells(sub, book, meta, campaign)


def _recognise(sub: Submission, book: Book, campaign: Campaign,
               units: UnitRegistry | None) -> bool:
    """For a file without a usable ``_meta``: whether it can be read through the current
    template's map — identified by its properties as a template of ``campaign``, or (no
    properties either) by the unit's name heading its form sheets. Says so in a warning."""
    if not rebuildable(campaign) or sub.kind not in ("", "template"):
        return False
    if sub.campaign == campaign.id and sub.unit_code:
        sub.findings.append(make_finding("meta_rebuilt", file=sub.file,
                                         unit_code=sub.unit_code))
        return True
    if sub.campaign or units is None:
        return False
    found = recognise_unit(book, campaign, units)
    if found is None:
        return False
    sub.identity = {"campaign": campaign.id, "unit_code": found.unit.code,
                    "unit_name": found.unit.name, "kind": "template"}
    sub.findings.append(make_finding("identity_from_content", file=sub.file,
                                     unit_code=found.unit.code, unit_name=found.unit.name,
                                     sheet=found.sheet))
    return True


def _saved_time(sub: Submission) -> None:
    """Without a mail Date, the received time is the workbook's own save time (the unit
    saved it before mailing it); never the time the clerk saved the attachment, which would
    make every unit of a hand-saved inbox late. Neither known: no time, never late."""
    if sub.received_at is None and sub.modified_at is not None:
        sub.received_at, sub.received_source = sub.modified_at, "saved"


def read_file(rel: str, path: Path, campaign: Campaign, received: dict[str, dt.datetime],
              units: UnitRegistry | None = None) -> Submission:
    """One file as a Submission; a whole-file problem makes it ``unidentified`` (or
    ``rejected`` once unit and campaign are known). Raises :class:`OtherCampaign`."""
    with open_regular(path) as fh:
        st = os.fstat(fh.fileno())
        received_at = received.get(rel)  # the mail's Date; else the unit's save time below
        if st.st_size > limits.MAX_FILE_BYTES:
            sub = Submission(file=rel, path=path, size=st.st_size, received_at=received_at,
                             sha256=hashlib.file_digest(fh, "sha256").hexdigest())
            problem = FileProblem("too_large",
                                  detail=f"{st.st_size} byte > {limits.MAX_FILE_BYTES}")
            data = b""
        else:
            data = fh.read(limits.MAX_FILE_BYTES + 1)
            sub = Submission(file=rel, path=path, sha256=hashlib.sha256(data).hexdigest(),
                             size=len(data), received_at=received_at)
    if received_at is not None:
        sub.received_source = "mail"
    if data:
        try:
            _read_into(sub, data, campaign, units)
            _saved_time(sub)
            return sub
        except OtherCampaign:
            raise
        except FileProblem as exc:
            problem = exc
        except Exception as exc:  # a reader bug on one file stops that file only
            problem = FileProblem("file_unreadable", detail=short_error(exc))
        _saved_time(sub)
    elif st.st_size <= limits.MAX_FILE_BYTES:
        problem = FileProblem("not_a_workbook", detail="tệp rỗng, 0 byte")
    finding = make_finding(problem.code, file=rel, unit_code=sub.unit_code, **problem.fields)
    identified = sub.campaign == campaign.id and sub.kind in KINDS and bool(sub.unit_code)
    sub.findings.append(finding)
    sub.status, sub.reason = ("rejected" if identified else "unidentified"), finding.message
    sub.cells = []
    return sub
