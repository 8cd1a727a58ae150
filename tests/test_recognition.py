"""Files that lost their identity (issue #5): ``_meta`` deleted, custom properties gone.

When the unit and the layout can still be recognised from the content — the properties,
or the unit's name heading form sheets that carry the campaign's titles — the file is read
through the current template's map and warned about; otherwise it is ``unidentified`` or
``rejected`` with the reason. Never a value from the wrong cell: every expected value below
comes from the values the test filled in."""

from __future__ import annotations

import datetime as dt
import io
import random
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from toolkit._infra.paths import samples_dir
from toolkit.check.validate import validate
from toolkit.read.identify import recognise_unit
from toolkit.read.ingest import ingest
from toolkit.read.selection import select
from toolkit.spec.layout import UNIT_ROW, form_layout
from toolkit.spec.load import load_campaign
from toolkit.spec.meta import META_SHEET
from toolkit.spec.units import Unit, UnitRegistry, load_units
from toolkit.testing import fill_workbook, sample_values
from toolkit.write.templates import template_bytes

CAMPAIGN = load_campaign("nq02-2020")
UNITS = load_units(samples_dir() / "units.csv")
TX = UNITS.get("TX")
UNIT = UNITS.get("TX09")  # Đoàn xã Xuân Lai


def _filled(unit: Unit = UNIT) -> tuple[bytes, dict]:
    values = sample_values(CAMPAIGN, random.Random(11), list_rows=3)
    data = fill_workbook(template_bytes(CAMPAIGN, unit, TX), values,
                         modified=dt.datetime(2021, 1, 15, 9, 0))
    return data, values


def _strip(data: bytes, *, meta: bool = True, properties: bool = True,
           edit: Any = None) -> bytes:
    """What a unit's program leaves after deleting ``_meta`` (openpyxl saves like a
    spreadsheet program: the sheet gone, the other sheets as they were)."""
    book = load_workbook(io.BytesIO(data))
    if meta:
        del book[META_SHEET]
    if properties:
        book.custom_doc_props.props.clear()
    if edit is not None:
        edit(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _ingest(tmp_path: Path, data: bytes, units: UnitRegistry = UNITS):
    inbox = tmp_path / f"in{len(list(tmp_path.iterdir()))}"
    inbox.mkdir()
    (inbox / "bao cao Xuan Lai.xlsx").write_bytes(data)
    result = ingest(inbox, CAMPAIGN, units=units)
    assert len(result.submissions) == 1
    return result.submissions[0]


def _same(read: Any, filled: Any) -> bool:
    if isinstance(filled, (int, float)) and not isinstance(filled, bool):
        return isinstance(read, (int, float)) and float(read) == float(filled)
    if isinstance(filled, dt.date):
        def day(x: Any) -> Any:
            return x.date() if isinstance(x, dt.datetime) else x
        return day(read) == day(filled)
    return read == filled


def _assert_values(sub, values: dict, forms: set[str] | None = None) -> None:
    got = {(c.form, c.row, c.column): c.raw for c in sub.cells}
    wanted = {k: v for k, v in values.items() if forms is None or k[0] in forms}
    assert wanted, "the test filled nothing"
    for key, value in wanted.items():
        assert _same(got.get(key), value), (key, got.get(key), value)
    filled_forms = {k[0] for k in values}
    for key, raw in got.items():  # nothing read that was not filled (no neighbour's value)
        if key not in values and key[0] in filled_forms:
            assert raw in (None, ""), (key, raw)


def codes(sub) -> list[str]:
    return [f.code for f in sub.findings]


def test_meta_deleted_properties_kept_is_read_by_the_template_layout(tmp_path):
    data, values = _filled()
    sub = _ingest(tmp_path, _strip(data, properties=False))
    assert sub.unit_code == "TX09" and sub.status == ""
    assert codes(sub) == ["meta_rebuilt"]
    assert sub.findings[0].severity == "warning"
    assert "_meta" in sub.findings[0].message
    _assert_values(sub, values)
    select([sub], UNITS, TX, CAMPAIGN)
    validate(CAMPAIGN, [sub])
    assert sub.status == "accepted"


def test_meta_and_properties_gone_the_unit_is_recognised_by_its_name(tmp_path):
    data, values = _filled()
    sub = _ingest(tmp_path, _strip(data, meta=True, properties=True))
    assert sub.identity["campaign"] == CAMPAIGN.id
    assert (sub.unit_code, sub.unit_name) == ("TX09", "Đoàn xã Xuân Lai")
    assert codes(sub) == ["identity_from_content"]
    finding = sub.findings[0]
    assert finding.severity == "warning" and "Đoàn xã Xuân Lai" in finding.message
    assert f"«{CAMPAIGN.forms[0].sheet}»" in finding.message
    _assert_values(sub, values)


def test_recognised_file_with_rows_inserted_is_still_read_right(tmp_path):
    data, values = _filled()

    def insert(book):
        ws = book["PL2"]
        ws.protection.sheet = False
        ws.insert_rows(3, 2)  # two rows pushed into the heading block
        for rng in ws.merged_cells.ranges:  # as Excel does (openpyxl leaves merges behind):
            if rng.min_row >= 3:  # e.g. the signature block under the table moves down too
                rng.shift(0, 2)

    sub = _ingest(tmp_path, _strip(data, edit=insert))
    assert sub.unit_code == "TX09"
    assert set(codes(sub)) == {"identity_from_content", "layout_shifted"}
    _assert_values(sub, values)


def test_recognised_file_without_a_column_number_row_reads_nothing_of_that_form(tmp_path):
    data, values = _filled()
    number_row = form_layout(CAMPAIGN.form("PL2")).number_row

    def erase(book):
        for cell in book["PL2"][number_row + 1]:
            cell.value = None

    sub = _ingest(tmp_path, _strip(data, edit=erase))
    assert "layout_damaged" in codes(sub)
    assert not [c for c in sub.cells if c.form == "PL2"]
    _assert_values(sub, values, forms={f.id for f in CAMPAIGN.forms} - {"PL2"})


def test_an_unknown_unit_name_stays_unidentified(tmp_path):
    data, _values = _filled()

    def rename(book):
        for form in CAMPAIGN.forms:
            book[form.sheet].cell(UNIT_ROW + 1, 1).value = "ĐOÀN XÃ KHÔNG CÓ TRONG DANH SÁCH"

    sub = _ingest(tmp_path, _strip(data, edit=rename))
    assert sub.status == "unidentified" and codes(sub) == ["no_identity"]
    assert sub.cells == []


def test_sheets_naming_two_different_units_are_not_guessed(tmp_path):
    data, _values = _filled()

    def mix(book):
        book["PL3"].cell(UNIT_ROW + 1, 1).value = UNITS.get("TX10").name.upper()

    sub = _ingest(tmp_path, _strip(data, edit=mix))
    assert sub.status == "unidentified" and codes(sub) == ["no_identity"]


def test_same_name_in_two_districts_is_decided_by_the_superior(tmp_path):
    twin = Unit("TS99", UNIT.name, "co_so", "TS", "x@example.invalid")
    units = UnitRegistry({**UNITS.units, twin.code: twin}, "test")
    data, _values = _filled()
    sub = _ingest(tmp_path, _strip(data), units)
    assert sub.unit_code == "TX09"  # the heading's first line is Huyện đoàn Thọ Xuân

    def no_superior(book):
        for form in CAMPAIGN.forms:
            book[form.sheet].cell(1, 1).value = None

    sub = _ingest(tmp_path, _strip(data, edit=no_superior), units)
    assert codes(sub) == ["no_identity"]


def test_recognition_needs_the_campaign_titles():
    from toolkit.read.book import Book, open_container

    other = load_campaign("giua-nhiem-ky-2017-2022")
    data, _values = _filled()
    kind, zf = open_container(_strip(data), ".xlsx")
    book = Book(_strip(data), kind, zf)
    assert recognise_unit(book, CAMPAIGN, UNITS).unit.code == "TX09"
    assert recognise_unit(book, other, UNITS) is None


def test_a_summary_without_meta_is_not_rebuilt(tmp_path):
    data, _values = _filled()
    book = load_workbook(io.BytesIO(data))
    book.custom_doc_props.props.clear()
    from openpyxl.packaging.custom import StringProperty

    for key, value in (("campaign", CAMPAIGN.id), ("unit_code", "TX"), ("kind", "summary")):
        book.custom_doc_props.append(StringProperty(name=key, value=value))
    del book[META_SHEET]
    out = io.BytesIO()
    book.save(out)
    sub = _ingest(tmp_path, out.getvalue())
    assert sub.status == "rejected" and codes(sub) == ["sheet_missing"]


@pytest.mark.parametrize("campaign_id", ["nq01-hoc-tap-2018"])
def test_a_targets_campaign_file_without_meta_is_rejected_not_guessed(tmp_path, campaign_id):
    from toolkit.read.identify import rebuildable

    assert not rebuildable(load_campaign(campaign_id))
    assert rebuildable(CAMPAIGN)


# --------------------------------------------------------------------------- sheets


def test_a_renamed_form_sheet_is_found_by_its_title(tmp_path):
    data, values = _filled()

    def rename(book):
        book["PL3"].title = "Phụ lục 3 (đã sửa)"

    sub = _ingest(tmp_path, _strip(data, meta=False, properties=False, edit=rename))
    renamed = [f for f in sub.findings if f.code == "sheet_renamed"]
    assert [f.severity for f in renamed] == ["warning"]
    assert "«Phụ lục 3 (đã sửa)»" in renamed[0].message and "«PL3»" in renamed[0].message
    assert "sheet_missing" not in codes(sub)
    _assert_values(sub, values)


def test_a_renamed_sheet_that_is_not_the_form_is_still_missing(tmp_path):
    data, _values = _filled()

    def replace(book):
        del book["PL3"]
        book.create_sheet("PL3 cũ").cell(1, 1).value = "ghi chú của đơn vị"

    sub = _ingest(tmp_path, _strip(data, meta=False, properties=False, edit=replace))
    assert "sheet_missing" in codes(sub) and "sheet_renamed" not in codes(sub)
    assert not [c for c in sub.cells if c.form == "PL3"]


def test_a_hidden_form_sheet_is_read_as_it_is(tmp_path):
    data, values = _filled()

    def hide(book):
        book["PL4"].sheet_state = "hidden"

    sub = _ingest(tmp_path, _strip(data, meta=False, properties=False, edit=hide))
    assert codes(sub) == []
    _assert_values(sub, values)
