"""Files the office downloads from its workspace, made by the library's own writers: the
templates (all as one ``.zip`` or one unit's), the allocation workbook of a targets campaign
and its filled copy, all feedback workbooks as one ``.zip``, the Word report draft."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from toolkit._infra.atomic import write_bytes
from toolkit.report.outputs import FEEDBACK_DIR
from toolkit.report.word import render, report_name
from toolkit.spec.campaign import Campaign
from toolkit.spec.models import ConsolidationResult
from toolkit.spec.units import Unit, UnitRegistry, UnitsError
from toolkit.workspace.settings import Workspace
from toolkit.write.allocation import Allocation, allocation_bytes, allocation_filename
from toolkit.write.allocation import read_allocation as _read_allocation
from toolkit.write.templates import child_levels, template_bytes, template_filename

ALLOCATION_FILE = "phan-bo-chi-tieu.xlsx"  # the filled allocation, in the campaign's folder
REPORT_TEMPLATE = "mau-bao-cao.docx"  # the office's own report template, at the root
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def _zip(files: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.flag_bits |= 0x800  # names are UTF-8
            archive.writestr(info, data)
    return out.getvalue()


def has_targets(campaign: Campaign) -> bool:
    return any(form.kind == "targets" for form in campaign.forms)


def _context(ws: Workspace, campaign_id: str) -> tuple[Campaign, UnitRegistry, Unit]:
    campaign = ws.load_campaign(campaign_id)
    units = ws.load_units()
    return campaign, units, units.office(ws.office or None)


def read_allocation(ws: Workspace, campaign_id: str) -> Allocation | None:
    """The allocation the office uploaded for the campaign, if any."""
    path = ws.campaign_dir(campaign_id) / ALLOCATION_FILE
    if not path.exists():
        return None
    campaign, units, office = _context(ws, campaign_id)
    return _read_allocation(path, campaign, units, office)


def save_allocation(ws: Workspace, campaign_id: str, data: bytes) -> Allocation:
    """Check a filled allocation workbook, then keep it for the templates (an
    :class:`~toolkit.write.allocation.AllocationError` refuses it and keeps the old one)."""
    campaign, units, office = _context(ws, campaign_id)
    read = _read_allocation(data, campaign, units, office)
    write_bytes(ws.campaign_dir(campaign_id) / ALLOCATION_FILE, data)
    return read


def allocation_download(ws: Workspace, campaign_id: str) -> tuple[str, bytes]:
    """The blank allocation workbook of the office (one row per subordinate unit)."""
    campaign, units, office = _context(ws, campaign_id)
    return allocation_filename(campaign, office), allocation_bytes(campaign, units, office)


def templates_zip(ws: Workspace, campaign_id: str) -> tuple[str, bytes]:
    """Every subordinate unit's template plus the blank one, as one ``.zip``."""
    campaign, units, office = _context(ws, campaign_id)
    allocation = read_allocation(ws, campaign_id)
    targets = allocation.targets if allocation is not None else {}
    children = units.children(office.code)  # any lower level; merged units get none
    files = [(template_filename(campaign, unit),
              template_bytes(campaign, unit, office, targets=targets.get(unit.code)))
             for unit in children]
    files.append((template_filename(campaign, None),
                  template_bytes(campaign, None, office, child_levels=child_levels(children))))
    return f"bieu-mau_{campaign.id}_{office.code}.zip", _zip(files)


def unit_template(ws: Workspace, campaign_id: str, code: str) -> tuple[str, bytes]:
    """One subordinate unit's template (UnitsError when ``code`` is not one of them)."""
    campaign, units, office = _context(ws, campaign_id)
    unit = units.get(code)
    if unit.parent != office.code:
        raise UnitsError(f"Đơn vị {code} không trực thuộc {office.name}")
    if unit.successor:
        raise UnitsError(f"Đơn vị {code} ({unit.name}) đã sáp nhập vào "
                         f"{units.current(code).name}: không gửi biểu mẫu riêng")
    allocation = read_allocation(ws, campaign_id)
    targets = allocation.targets.get(code) if allocation is not None else None
    return template_filename(campaign, unit), template_bytes(campaign, unit, office,
                                                             targets=targets)


def feedback_zip(ws: Workspace, campaign_id: str, paths: list[Path]) -> tuple[str, bytes]:
    """The feedback workbooks of the last consolidation, as one ``.zip``."""
    folder = ws.results(campaign_id) / FEEDBACK_DIR
    files = [(p.name, p.read_bytes()) for p in paths if p.parent == folder and p.exists()]
    return f"phan-hoi_{campaign_id}.zip", _zip(files)


def report_download(ws: Workspace, result: ConsolidationResult) -> tuple[str, bytes]:
    """The Word report draft of a consolidation, as ``toolkit report`` writes it: from the
    office's own template when the workspace holds one (:data:`REPORT_TEMPLATE`, made with
    ``toolkit report-template``), else the campaign's; the place from the units file."""
    own = ws.root / REPORT_TEMPLATE
    template = own.read_bytes() if own.is_file() else None
    return report_name(result), render(result, template, place=result.office.place)
