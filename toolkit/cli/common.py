"""What every command shares: known errors as one Vietnamese line, and the options that
choose the campaign, the units file and the office."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from toolkit._infra.atomic import OutputError
from toolkit.author.plan import PlanError
from toolkit.author.workbook_vocab import WorkbookError
from toolkit.cli.vi import OPTIONS_METAVAR, SUBCOMMAND_METAVAR, VietnameseCommand
from toolkit.history.store import HistoryError
from toolkit.mail.settings import MailError
from toolkit.report.word import ReportTemplateError
from toolkit.spec.errors import InboxError, SpecError
from toolkit.spec.load import load_campaign
from toolkit.spec.units import Unit, UnitRegistry, UnitsError, load_units
from toolkit.workspace import WorkspaceError, defaults_for
from toolkit.write.allocation import AllocationError

KNOWN_ERRORS: tuple[type[Exception], ...] = (
    SpecError, UnitsError, OutputError, InboxError, AllocationError, MailError, WorkbookError,
    PlanError, WorkspaceError, ReportTemplateError, HistoryError,
)


class ToolkitGroup(click.Group):
    """Turns known errors into a one-line Vietnamese message and exit code 1 (traceback only
    with ``toolkit --debug``); its commands and sub-groups speak Vietnamese (:mod:`.vi`)."""

    command_class = VietnameseCommand
    group_class = type  # sub-groups are ToolkitGroups too

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", OPTIONS_METAVAR)
        kwargs.setdefault("subcommand_metavar", SUBCOMMAND_METAVAR)
        super().__init__(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KNOWN_ERRORS as exc:
            if ctx.find_root().params.get("debug"):
                raise
            raise click.ClickException(str(exc)) from None


@dataclass(frozen=True)
class OfficeChoice:
    """The units file and the office a command works for, and where each came from (said
    on screen: nothing is silently assumed)."""

    units: UnitRegistry
    office: Unit
    units_from: str  # "--units", "TOOLKIT_UNITS" or "không gian làm việc"
    office_from: str  # "--office", "TOOLKIT_OFFICE" or "không gian làm việc"

    def describe(self) -> str:
        """One Vietnamese line: which units file and which office were used, and why."""
        return (f"Tệp đơn vị: {self.units.source} (theo {self.units_from}); văn phòng: "
                f"{self.office.name} ({self.office.code}, theo {self.office_from})")


WORKSPACE = "không gian làm việc"


def workspace_settings() -> tuple[Path | None, str | None]:
    """The units file and office code of the workspace the command runs in (its settings
    file, :func:`toolkit.workspace.defaults_for`), (None, None) outside one."""
    here = defaults_for(Path.cwd())
    if here is None:
        return None, None
    return here.units, here.office


def resolve_office(units_path: Path | None, office_code: str | None, *,
                   units_from: str = "--units", office_from: str = "--office") -> OfficeChoice:
    """The units file and office to use: as given (option or environment), else the
    workspace's, else a Vietnamese :class:`UnitsError` saying what to add. Never the
    bundled sample list, never the root of the file by default: a district clerk who forgot
    ``--office`` would otherwise make the province's templates."""
    if units_path is None or not office_code:
        ws_units, ws_office = workspace_settings()
        if units_path is None and ws_units is not None:
            units_path, units_from = ws_units, WORKSPACE
        if not office_code and ws_office:
            office_code, office_from = ws_office, WORKSPACE
    if units_path is None:
        raise UnitsError("Chưa chọn tệp danh sách đơn vị: thêm --units TỆP (ví dụ "
                         "--units don-vi.xlsx) hoặc đặt biến môi trường TOOLKIT_UNITS")
    units = load_units(units_path)
    if not office_code:
        offices = [u for u in units.units.values() if units.children(u.code)]
        shown = ", ".join(f"{u.code} ({u.name})" for u in offices[:8])
        more = f" và {len(offices) - 8} đơn vị khác" if len(offices) > 8 else ""
        raise UnitsError(f"Chưa chọn văn phòng ra kế hoạch: thêm --office MÃ (hoặc đặt biến "
                         f"môi trường TOOLKIT_OFFICE); trong tệp {units_path}, các đơn vị có "
                         f"đơn vị trực thuộc là: {shown}{more}")
    return OfficeChoice(units, units.office(office_code), units_from, office_from)


def _source(name: str, option: str, envvar: str) -> str:
    """Whether parameter ``name`` of the running command came from its option or from its
    environment variable."""
    ctx = click.get_current_context(silent=True)
    source = ctx.get_parameter_source(name) if ctx is not None else None
    return envvar if source == click.core.ParameterSource.ENVIRONMENT else option


def campaign_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--campaign, --units, --office: shared by every command working on a campaign. The
    units file and the office are required (or set in the environment, or by the
    workspace); the command's output ends with the line saying which were used."""

    @click.option("--campaign", "campaign_ref", default=None,
                  help="Mã chiến dịch có sẵn hoặc đường dẫn tới campaign.yaml; mặc định "
                       "nq02-2020, hoặc chiến dịch của không gian làm việc.")
    @click.option("--units", "units_path", type=click.Path(path_type=Path), default=None,
                  envvar="TOOLKIT_UNITS", show_envvar=True,
                  help="Tệp danh sách đơn vị (Excel hoặc CSV: Mã, Tên đơn vị, Cấp, Đơn vị cấp "
                       "trên, Email). Bắt buộc.")
    @click.option("--office", "office_code", default=None, envvar="TOOLKIT_OFFICE",
                  show_envvar=True,
                  help="Mã đơn vị (văn phòng) ra kế hoạch, ví dụ TX. Bắt buộc.")
    @functools.wraps(func)
    def wrapper(*args: Any, campaign_ref: str | None, units_path: Path | None,
                office_code: str | None, **kwargs: Any) -> Any:
        here = defaults_for(Path.cwd())  # inside a workspace: its campaign by default
        campaign = load_campaign(campaign_ref or (here.campaign if here else None)
                                 or "nq02-2020")
        choice = resolve_office(units_path, office_code,
                                units_from=_source("units_path", "--units", "TOOLKIT_UNITS"),
                                office_from=_source("office_code", "--office", "TOOLKIT_OFFICE"))
        result = func(*args, campaign=campaign, units=choice.units, office=choice.office,
                      **kwargs)
        click.echo(choice.describe())
        return result

    return wrapper
