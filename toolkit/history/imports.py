"""Loading what an office already has into the history: the ``values.csv`` of past runs and
the summary workbooks of past campaigns (read through their own ``_meta`` map), so the first
comparison does not wait for a second consolidation.

A ``values.csv`` gives every unit's values (contract columns ``campaign, unit_code,
unit_name, form, row, column, value``); a summary workbook gives its office's own figures
(the rows its map names: the level above reads the same), kept as that office's values. The
period is the campaign spec's when the campaign is known (built-in or ``--campaign``), else
it must be given. Importing the same file twice keeps it once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from toolkit._infra.zipguard import Refused, check_members
from toolkit.history.store import Cell, FileValues, HistoryError, HistoryStore, digest
from toolkit.spec.campaign import Campaign
from toolkit.spec.compare import period_of
from toolkit.spec.layout import rowcol
from toolkit.spec.meta import META_SHEET, Meta, parse_meta
from toolkit.spec.text import nfc
from toolkit.spec.units import UnitRegistry

VALUES_COLUMNS = ("campaign", "unit_code", "unit_name", "form", "row", "column", "value")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_IMPORT_BYTES = 200 * 1024 * 1024
# campaign id → its spec when known (to take the period and the numeric columns), else None
CampaignLookup = Callable[[str], Campaign | None]


@dataclass(frozen=True)
class Imported:
    """One imported file: what it held and whether it was new to the history."""

    file: str
    kind: str  # "values.csv" or "summary"
    campaign: str
    period: str
    units: int
    values: int
    new: bool


def _period(campaign_id: str, period: str | None, lookup: CampaignLookup, name: str) -> str:
    if period:
        return nfc(period).strip()
    spec = lookup(campaign_id)
    if spec is None:
        raise HistoryError(f"{name}: không biết kỳ báo cáo của chiến dịch «{campaign_id}» (không "
                           "có chiến dịch này trong máy); hãy ghi kỳ bằng --period, ví dụ "
                           "--period \"2016 - 2020\"")
    return period_of(spec)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _csv_value(text: str, numeric: bool | None) -> Any:
    """A values.csv cell back to its value: a number for a numeric column (or any number
    when the column is unknown), the text otherwise (the ``'`` written before a text that
    looks like a formula taken off)."""
    if numeric is not False:
        num = _number(text)
        if num is not None:
            return num
    if text.startswith("'") and text[1:2] and text[1] in FORMULA_STARTS:
        return text[1:]
    return text


def _numeric(spec: Campaign | None, form: str, column: str) -> bool | None:
    if spec is None:
        return None
    try:
        return spec.form(form).column(column).is_numeric
    except KeyError:
        return None


def import_values_csv(store: HistoryStore, data: bytes, name: str, *, period: str | None,
                      lookup: CampaignLookup, office: str = "") -> list[Imported]:
    """Import one ``values.csv`` (one import per campaign it holds)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HistoryError(f"{name}: không phải tệp values.csv UTF-8") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in VALUES_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise HistoryError(f"{name}: thiếu cột {', '.join(missing)} (values.csv phải có các cột "
                           f"{', '.join(VALUES_COLUMNS)})")
    by_campaign: dict[str, dict[str, list[Cell]]] = {}
    for line in reader:
        campaign = nfc(line["campaign"] or "").strip()
        unit = nfc(line["unit_code"] or "").strip()
        raw = nfc(line["value"] or "")
        if not campaign or not unit or not raw.strip():
            continue
        by_campaign.setdefault(campaign, {}).setdefault(unit, []).append(
            (line["form"], line["row"], line["column"], raw))
    sha = hashlib.sha256(data).hexdigest()
    out = []
    for campaign, units in by_campaign.items():
        spec = lookup(campaign)
        when = _period(campaign, period, lookup, name)
        files = [FileValues(unit, sha, name, [
            (f, r, c, _csv_value(v, _numeric(spec, f, c))) for f, r, c, v in cells])
            for unit, cells in units.items()]
        done = store.record(campaign=campaign, period=when, office=office, generated_at="",
                            spec_sha256=spec.spec_sha256 if spec else "",
                            inbox_digest=digest([sha]), source="values.csv", files=files)
        out.append(Imported(name, "values.csv", campaign, when, len(units),
                            sum(len(c) for c in units.values()), done.new))
    if not out:
        raise HistoryError(f"{name}: không có giá trị nào để nạp")
    return out


def _sheets(data: bytes, name: str) -> CalamineWorkbook:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        check_members(data, zf.infolist())
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Refused as exc:
        raise HistoryError(f"{name}: tệp bị từ chối ({exc.detail})") from None
    except Exception as exc:  # a broken zip or workbook: one Vietnamese line
        raise HistoryError(f"{name}: không đọc được bảng tính ({exc})") from None


def _unit_rows(meta: Meta, grids: dict[str, list[list[Any]]], spec: Campaign | None,
               units: UnitRegistry) -> dict[str, list[Cell]]:
    """A summary's unit rows of its single-row forms, which its map does not name: above the
    office's row, in the same columns, each named by the unit's name in column A (a
    rolled-up unit's coverage on the line below it). Read while the names are ``units``'."""
    by_name: dict[str, list[str]] = {}
    for unit in units.units.values():
        by_name.setdefault(nfc(unit.name).strip().casefold(), []).append(unit.code)
    out: dict[str, list[Cell]] = {}
    forms: dict[tuple[str, str], list[tuple[str, int, int]]] = {}
    for ref in meta.cells:
        if ref.row == "-" and ref.sheet in grids:
            try:
                r, c = rowcol(ref.cell)
            except ValueError:
                continue
            forms.setdefault((ref.form, ref.sheet), []).append((ref.column, r, c))
    for (form, sheet), refs in forms.items():
        grid = grids[sheet]
        top = min(r for _col, r, _c in refs)
        row = top - 1
        while row >= 0 and grid[row] and isinstance(grid[row][0], str):
            found = by_name.get(nfc(grid[row][0].split("\n")[0]).strip().casefold(), [])
            if len(found) != 1:
                break
            for col, _r, c in refs:
                value = grid[row][c] if c < len(grid[row]) else None
                if value is None or value == "":
                    continue
                if isinstance(value, str) and _numeric(spec, form, col):
                    value = _csv_value(value, True)
                out.setdefault(found[0], []).append((form, "-", col, value))
            row -= 1
    return out


def import_summary(store: HistoryStore, data: bytes, name: str, *, period: str | None,
                   lookup: CampaignLookup, units: UnitRegistry | None = None) -> Imported:
    """Import a summary workbook (or a unit's filled template): the values its ``_meta``
    map names, kept as the values of the unit it belongs to; with ``units``, a summary's
    unit rows of single-row forms too (:func:`_unit_rows`)."""
    book = _sheets(data, name)
    if META_SHEET not in book.sheet_names:
        raise HistoryError(f"{name}: không có trang _meta (không phải bảng tổng hợp hay biểu "
                           "mẫu do toolkit tạo)")
    try:
        meta = parse_meta(book.get_sheet_by_name(META_SHEET).to_python(skip_empty_area=False))
    except ValueError as exc:
        raise HistoryError(f"{name}: trang _meta không đọc được ({exc})") from None
    if meta.kind not in ("summary", "template") or not meta.unit_code:
        raise HistoryError(f"{name}: _meta không ghi loại tệp (kind) hay mã đơn vị")
    when = _period(meta.campaign, period, lookup, name)
    spec = lookup(meta.campaign)
    grids: dict[str, list[list[Any]]] = {}
    cells: list[Cell] = []
    for ref in meta.cells:
        if ref.sheet not in grids:
            if ref.sheet not in book.sheet_names:
                continue
            grids[ref.sheet] = book.get_sheet_by_name(ref.sheet).to_python(skip_empty_area=False)
        grid = grids[ref.sheet]
        try:
            r, c = rowcol(ref.cell)
        except ValueError:
            continue
        value = grid[r][c] if r < len(grid) and c < len(grid[r]) else None
        if value is None or value == "":
            continue
        if isinstance(value, str) and _numeric(spec, ref.form, ref.column):
            value = _csv_value(value, True)
        cells.append((ref.form, ref.row, ref.column, value))
    sha = hashlib.sha256(data).hexdigest()
    files = [FileValues(meta.unit_code, sha, name, cells)]
    if units is not None and meta.kind == "summary":
        files += [FileValues(code, sha, name, unit_cells) for code, unit_cells in
                  _unit_rows(meta, grids, spec, units).items() if code != meta.unit_code]
    done = store.record(campaign=meta.campaign, period=when, office=meta.unit_code,
                        generated_at=meta.identity.get("generated_at", ""),
                        spec_sha256=meta.identity.get("spec_sha256", ""),
                        inbox_digest=digest([sha]), source=meta.kind, files=files)
    return Imported(name, meta.kind, meta.campaign, when, len(files),
                    sum(len(f.cells) for f in files), done.new)


def import_files(path: Path, files: list[Path], *, period: str | None = None,
                 lookup: CampaignLookup, office: str = "",
                 units: UnitRegistry | None = None) -> list[Imported]:
    """Import each of ``files`` (``.csv``: a values.csv; else a workbook) into the history
    file ``path``; every problem is a :class:`HistoryError` naming the file."""
    out: list[Imported] = []
    with HistoryStore(path) as store:
        for file in files:
            try:
                if file.stat().st_size > MAX_IMPORT_BYTES:
                    raise HistoryError(f"{file}: tệp quá lớn để nạp")
                data = file.read_bytes()
            except OSError as exc:
                raise HistoryError(f"Không đọc được {file}: {exc.strerror or exc}") from None
            if file.suffix.lower() == ".csv":
                out.extend(import_values_csv(store, data, file.name, period=period,
                                             lookup=lookup, office=office))
            else:
                out.append(import_summary(store, data, file.name, period=period,
                                          lookup=lookup, units=units))
    return out

