"""Build minimal but contract-correct workbooks for tests (xlsxwriter, in memory).

One sheet per form named by the form id with values at the cells of
``layout.form_layout(form)``, row labels in column A, a hidden ``_meta`` sheet written with
``meta.meta_rows`` and the identity keys as text custom properties — the contract of
DESIGN.md, without waiting for the real template writer. Every part can be broken on
purpose (no ``_meta``, no properties, a different map, a missing sheet…).

Values are given as readable tables: ``{"PL2": {"-": {"bt_so_luong": 8}}, "PL4": {"2016":
{...}}}``. A ``str`` is written as text (so ``"12"`` is a number typed as text), numbers as
numbers, dates as dates, :class:`Formula` as a formula with a cached value.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter

from toolkit.spec.campaign import Campaign
from toolkit.spec.layout import FormLayout, form_layout, rowcol
from toolkit.spec.meta import IDENTITY_KEYS, META_SHEET, CellRef, cell_map, meta_rows
from toolkit.spec.models import CellValue, Submission

Values = Mapping[str, Mapping[str, Mapping[str, Any]]]
MODIFIED = dt.datetime(2021, 1, 15, 9, 0)


@dataclass(frozen=True)
class Formula:
    """A formula cell with the cached result a spreadsheet program would have saved."""

    formula: str
    cached: Any


def identity(campaign: Campaign, unit_code: str = "TX01",
             unit_name: str = "Đoàn thị trấn Thọ Xuân", kind: str = "template",
             **overrides: str) -> dict[str, str]:
    ident = {
        "campaign": campaign.id,
        "unit_code": unit_code,
        "unit_name": unit_name,
        "kind": kind,
        "template_version": campaign.template_version,
        "spec_sha256": campaign.spec_sha256,
        "generated_at": "2021-01-06T08:00:00+07:00",
    }
    ident.update(overrides)
    return ident


def _write(ws: Any, book: Any, row: int, col: int, value: Any, date_fmt: Any) -> None:
    if value is None:
        return
    if isinstance(value, Formula):
        ws.write_formula(row, col, value.formula, None, value.cached)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value)
    elif isinstance(value, (int, float)):
        ws.write_number(row, col, value)
    elif isinstance(value, dt.datetime):
        ws.write_datetime(row, col, value, date_fmt)
    elif isinstance(value, dt.date):
        ws.write_datetime(row, col, dt.datetime.combine(value, dt.time()), date_fmt)
    else:
        ws.write_string(row, col, str(value))


def workbook_bytes(
    campaign: Campaign,
    *,
    unit_code: str = "TX01",
    unit_name: str = "Đoàn thị trấn Thọ Xuân",
    kind: str = "template",
    values: Values | None = None,
    ident: Mapping[str, str] | None = None,
    meta: bool = True,
    properties: bool = True,
    refs: Iterable[CellRef] | None = None,
    cells: Mapping[str, Mapping[str, Any]] | None = None,
    drop_sheets: Iterable[str] = (),
    labels: bool = True,
    modified: dt.datetime = MODIFIED,
) -> bytes:
    """A filled workbook as bytes. ``ident`` overrides identity keys; ``refs`` replaces the
    ``_meta`` map; ``cells`` writes raw values by sheet and A1 after everything else."""
    full_ident = identity(campaign, unit_code, unit_name, kind)
    full_ident.update(ident or {})
    layouts: list[FormLayout] = [form_layout(f) for f in campaign.forms]
    values = values or {}
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    date_fmt = book.add_format({"num_format": "dd/mm/yyyy"})
    sheets: dict[str, Any] = {}
    dropped = set(drop_sheets)
    for layout in layouts:
        form = layout.form
        if form.sheet in dropped:
            continue
        ws = book.add_worksheet(form.sheet)
        sheets[form.sheet] = ws
        ws.write_string(0, 0, form.title)
        for r in layout.rows:
            label = unit_name if form.kind == "single_row" and r.kind == "input" else r.label
            if labels and label:
                ws.write_string(r.row, 0, label)
        for row_key, cols in values.get(form.id, {}).items():
            data_row = layout.row(row_key)
            for col_key, value in cols.items():
                _write(ws, book, data_row.row, layout.columns[col_key], value, date_fmt)
    if meta and META_SHEET not in dropped:
        ws = book.add_worksheet(META_SHEET)
        map_refs = list(refs) if refs is not None else cell_map(layouts)
        for i, row in enumerate(meta_rows(full_ident, map_refs)):
            for j, text in enumerate(row):
                ws.write_string(i, j, text)
        ws.hide()
        sheets[META_SHEET] = ws
    for sheet, by_cell in (cells or {}).items():
        ws = sheets.get(sheet) or book.add_worksheet(sheet)
        sheets[sheet] = ws
        for a1, value in by_cell.items():
            r, c = rowcol(a1)
            _write(ws, book, r, c, value, date_fmt)
    if properties:
        for key in IDENTITY_KEYS:
            if key in full_ident:
                book.set_custom_property(key, str(full_ident[key]))
    book.set_properties({"created": modified})
    book.close()
    return buf.getvalue()


def write_workbook(path: Path, campaign: Campaign, **kwargs: Any) -> Path:
    """:func:`workbook_bytes` written to ``path`` (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(workbook_bytes(campaign, **kwargs))
    return path


def cell_of(campaign: Campaign, form_id: str, row_key: str, col_key: str) -> str:
    """A1 of a value cell in the template layout (what a finding should point at)."""
    return form_layout(campaign.form(form_id)).cell(row_key, col_key)


def clean_values() -> dict[str, dict[str, dict[str, Any]]]:
    """A complete, valid filling of nq02-2020 (every rule holds)."""
    return {
        "PL1": {
            "1": {"loai_van_ban": "Kế hoạch", "so_hieu": "12-KH/ĐTN",
                  "ngay_ban_hanh": dt.date(2016, 3, 1),
                  "trich_yeu": "Triển khai thực hiện NQ 02-NQ/TU"},
            "2": {"loai_van_ban": "Báo cáo", "so_hieu": "45-BC/ĐTN",
                  "trich_yeu": "Sơ kết 3 năm"},
        },
        "PL2": {"-": {"bt_so_luong": 3, "bt_thac_sy": 1, "bt_dai_hoc": 2, "bt_cd_tc": 0,
                      "bt_llct_cc": 1, "bt_llct_tc": 2,
                      "btv_so_luong": 5, "btv_dai_hoc": 4,
                      "bch_so_luong": 15, "bch_dai_hoc": 10, "bch_cd_tc": 5}},
        "PL3": {"-": {"bt_so_luong": 1, "bt_dai_hoc": 1, "pbt_so_luong": 2,
                      "pbt_dai_hoc": 2, "cap_uy": 1, "hdnd": 0}},
        "PL4": {"2016": {"tinh_so_nguoi": 2, "huyen_so_nguoi": 10, "co_so_so_lop": 1,
                         "co_so_so_nguoi": 40, "ghi_chu": "Lớp cảm tình Đoàn"},
                "2020": {"tinh_so_nguoi": 3}},
        "PL5": {"-": {"tap_hop_chi_tieu": 85, "tap_hop_so_nguoi": 900,
                      "tap_hop_tong_so": 1000, "lam_nha_so_tien": 12.5,
                      "bhyt_so_nguoi": 80, "bhyt_tong_so": 100}},
        "PL6": {"2018": {"giam_sat_so_cuoc": 2, "giam_sat_so_don_vi": 3}},
    }


def submission(campaign: Campaign, values: Values | None = None, *, unit_code: str = "TX01",
               file: str | None = None, kind: str = "template") -> Submission:
    """A Submission as ingest hands it to validate: one CellValue per map cell (blank ones
    too), raw values as a reader would return them (text stays text)."""
    values = values or {}
    file = file or f"{unit_code}.xlsx"
    sub = Submission(file=file, path=Path(file), sha256=file, size=1,
                     identity=identity(campaign, unit_code, unit_code, kind))
    for layout in (form_layout(f) for f in campaign.forms):
        for row_key, col, a1 in layout.input_cells():
            raw = values.get(layout.form.id, {}).get(row_key, {}).get(col.key)
            sub.cells.append(CellValue(layout.form.id, row_key, col.key, a1, raw))
    return sub
