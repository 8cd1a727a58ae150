"""A workspace folder and its settings file.

Layout (names a clerk reads in the file manager)::

    toolkit-workspace.yaml      office code, units file, mail server (never a password),
                                campaigns (id → built-in id or folder of YAML files)
    don-vi.csv | don-vi.xlsx    the office's units file, as uploaded
    chien-dich/<id>/hop-thu/    the files units sent (only ever added to)
    chien-dich/<id>/ket-qua/    summary, CSVs and feedback of the last consolidation
    chien-dich/<id>/mau/        a campaign loaded from a campaign workbook (YAML files)
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from toolkit._infra.atomic import ensure_dir, write_bytes
from toolkit.spec.campaign import Campaign
from toolkit.spec.load import load_campaign
from toolkit.spec.text import nfc
from toolkit.spec.units import UnitRegistry, UnitsError, load_units

SETTINGS_FILE = "toolkit-workspace.yaml"
CAMPAIGNS_DIR = "chien-dich"
INBOX_DIR = "hop-thu"
RESULTS_DIR = "ket-qua"
SPEC_DIR = "mau"
UNITS_STEM = "don-vi"
UNITS_SUFFIXES = (".csv", ".xlsx")
MAIL_KEYS = ("smtp_host", "smtp_port", "security", "user", "sender", "reply_to", "cafile",
             "imap_host", "imap_port")


class WorkspaceError(Exception):
    """The workspace cannot be used as asked; the message is Vietnamese."""


@dataclass
class Workspace:
    """An office's workspace: the folder and what its settings file says."""

    root: Path
    office: str = ""
    units_file: str = ""  # relative to root
    mail: dict[str, str] = field(default_factory=dict)
    campaigns: dict[str, str] = field(default_factory=dict)  # id → built-in id or folder

    # ------------------------------------------------------------------ units and office

    @property
    def units_path(self) -> Path | None:
        return self.root / self.units_file if self.units_file else None

    def load_units(self) -> UnitRegistry:
        """The office's units file; a workspace without one says what to do."""
        if self.units_path is None:
            raise WorkspaceError("Chưa có danh sách đơn vị: hãy tải lên tệp đơn vị (CSV/XLSX)")
        return load_units(self.units_path)

    def set_units(self, data: bytes, name: str) -> UnitRegistry:
        """Check an uploaded units file, then keep it as ``don-vi.csv``/``.xlsx``. A file that
        does not load is refused whole (:class:`UnitsError` naming the row) and the old one
        stays. The office is kept if it is still in the file, else cleared."""
        suffix = Path(name).suffix.lower()
        if suffix not in UNITS_SUFFIXES:
            raise UnitsError(f"Tệp đơn vị phải là .csv hoặc .xlsx, không phải «{suffix or name}»")
        with tempfile.TemporaryDirectory() as tmp:
            probe = Path(tmp) / (UNITS_STEM + suffix)
            probe.write_bytes(data)
            registry = load_units(probe)
        target = self.root / (UNITS_STEM + suffix)
        write_bytes(target, data)
        for other in UNITS_SUFFIXES:
            if other != suffix:
                (self.root / (UNITS_STEM + other)).unlink(missing_ok=True)
        self.units_file = target.name
        if self.office and (self.office not in registry or not registry.children(self.office)):
            self.office = ""
        self.save()
        return UnitRegistry(units=registry.units, source=str(target))

    def set_office(self, code: str) -> None:
        """Choose the office among the units that have subordinates."""
        self.load_units().office(code)  # UnitsError when unknown or without children
        self.office = code
        self.save()

    # ------------------------------------------------------------------ campaigns

    def campaign_dir(self, campaign_id: str) -> Path:
        if campaign_id not in self.campaigns:
            raise WorkspaceError(f"Không gian làm việc chưa có chiến dịch «{campaign_id}»")
        return self.root / CAMPAIGNS_DIR / campaign_id

    def inbox(self, campaign_id: str) -> Path:
        return self.campaign_dir(campaign_id) / INBOX_DIR

    def results(self, campaign_id: str) -> Path:
        return self.campaign_dir(campaign_id) / RESULTS_DIR

    def load_campaign(self, campaign_id: str) -> Campaign:
        self.campaign_dir(campaign_id)
        ref = self.campaigns[campaign_id]
        folder = self.root / ref
        return load_campaign(folder if (folder / "campaign.yaml").exists() else ref)

    def add_campaign(self, ref: str) -> Campaign:
        """Add a built-in campaign (by id) and make its inbox and results folders."""
        campaign = load_campaign(ref)
        return self._register(campaign, ref)

    def add_campaign_workbook(self, data: bytes, name: str) -> Campaign:
        """Load a campaign workbook (the clerk's .xlsx) into ``chien-dich/<id>/mau``, checked
        whole before anything is written (through the same functions as ``campaign load``)."""
        from toolkit.author.folder import write_campaign_folder
        from toolkit.author.spec_files import campaign_files
        from toolkit.author.workbook import read_workbook
        from toolkit.spec.load import campaign_from_data

        campaign_data, forms_data = read_workbook(data, name=name)
        expected = campaign_from_data(campaign_data, forms_data, name)
        folder = self.root / CAMPAIGNS_DIR / expected.id / SPEC_DIR
        files = campaign_files(campaign_data, forms_data,
                               note=f"Chiến dịch {expected.id}: nạp từ sổ khai báo {name}.")
        campaign = write_campaign_folder(folder, files, expected, force=True)
        return self._register(campaign, folder.relative_to(self.root).as_posix())

    def _register(self, campaign: Campaign, ref: str) -> Campaign:
        self.campaigns[campaign.id] = ref
        ensure_dir(self.inbox(campaign.id))
        ensure_dir(self.results(campaign.id))
        self.save()
        return campaign

    # ------------------------------------------------------------------ file

    def save(self) -> None:
        data: dict[str, Any] = {"office": self.office, "units": self.units_file,
                                "mail": {k: v for k, v in self.mail.items() if k in MAIL_KEYS},
                                "campaigns": dict(self.campaigns)}
        text = ("# Không gian làm việc của toolkit (không ghi mật khẩu vào đây)\n"
                + yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
        write_bytes(self.root / SETTINGS_FILE, text.encode("utf-8"))


def open_workspace(root: Path) -> Workspace:
    """Read the settings file of ``root``; a missing or broken one is a WorkspaceError."""
    path = Path(root) / SETTINGS_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise WorkspaceError(f"{root} không phải không gian làm việc (thiếu {SETTINGS_FILE}); "
                             "tạo bằng: toolkit init") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise WorkspaceError(f"Không đọc được {path}: {exc}") from None
    if not isinstance(data, dict):
        raise WorkspaceError(f"{path}: nội dung phải là các cặp khóa: giá trị")
    mail = data.get("mail") or {}
    campaigns = data.get("campaigns") or {}
    if not isinstance(mail, dict) or not isinstance(campaigns, dict):
        raise WorkspaceError(f"{path}: mục mail và campaigns phải là các cặp khóa: giá trị")
    return Workspace(
        root=Path(root), office=nfc(str(data.get("office") or "")),
        units_file=str(data.get("units") or ""),
        mail={str(k): str(v) for k, v in mail.items() if k in MAIL_KEYS},
        campaigns={str(k): str(v) for k, v in campaigns.items()},
    )


def init_workspace(root: Path, *, units: Path | None = None, office: str | None = None
                   ) -> Workspace:
    """Create (or reopen) a workspace in ``root``; ``units`` is copied in and ``office``
    chosen from it (default: the file's root unit when it has subordinates)."""
    root = ensure_dir(Path(root))
    ws = open_workspace(root) if (root / SETTINGS_FILE).exists() else Workspace(root=root)
    if units is not None:
        try:
            data = Path(units).read_bytes()
        except OSError as exc:
            raise UnitsError(f"Không đọc được tệp đơn vị {units}: {exc.strerror}") from None
        registry = ws.set_units(data, Path(units).name)
        ws.office = registry.office(office).code
    ws.save()
    return ws


def find_workspace(start: Path) -> Workspace | None:
    """The workspace ``start`` is in (itself or a parent folder holds the settings file)."""
    start = Path(start).resolve()
    for folder in (start, *start.parents):
        if (folder / SETTINGS_FILE).is_file():
            return open_workspace(folder)
    return None


@dataclass(frozen=True)
class Defaults:
    """What a CLI command run inside a workspace takes when an option is not given."""

    units: Path | None
    office: str | None
    campaign: str | None  # a ref load_campaign understands
    inbox: Path | None
    out: Path | None


def defaults_for(cwd: Path) -> Defaults | None:
    """Option defaults for a command run in ``cwd``: the workspace's units file and office;
    the campaign whose folder ``cwd`` is in, or the only one (then its inbox and results)."""
    try:
        ws = find_workspace(cwd)
    except WorkspaceError:
        return None
    if ws is None:
        return None
    chosen: str | None = None
    here = Path(cwd).resolve()
    for campaign_id in ws.campaigns:
        folder = (ws.root / CAMPAIGNS_DIR / campaign_id).resolve()
        if here == folder or folder in here.parents:
            chosen = campaign_id
    if chosen is None and len(ws.campaigns) == 1:
        chosen = next(iter(ws.campaigns))
    ref = None
    if chosen is not None:
        folder = ws.root / ws.campaigns[chosen]
        ref = str(folder) if (folder / "campaign.yaml").exists() else ws.campaigns[chosen]
    return Defaults(
        units=ws.units_path, office=ws.office or None, campaign=ref,
        inbox=ws.inbox(chosen) if chosen else None,
        out=ws.results(chosen) if chosen else None,
    )

