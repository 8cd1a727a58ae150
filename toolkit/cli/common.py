"""What every command shares: known errors as one Vietnamese line, and the options that
choose the campaign, the units file and the office."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from toolkit._infra.atomic import OutputError
from toolkit._infra.paths import samples_dir
from toolkit.author.plan import PlanError
from toolkit.author.workbook_vocab import WorkbookError
from toolkit.cli.vi import OPTIONS_METAVAR, SUBCOMMAND_METAVAR, VietnameseCommand
from toolkit.mail.settings import MailError
from toolkit.spec.errors import InboxError, SpecError
from toolkit.spec.load import load_campaign
from toolkit.spec.units import UnitsError, load_units
from toolkit.write.allocation import AllocationError

KNOWN_ERRORS: tuple[type[Exception], ...] = (
    SpecError, UnitsError, OutputError, InboxError, AllocationError, MailError, WorkbookError,
    PlanError,
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


def default_units() -> Path:
    """The bundled sample units file (Tỉnh đoàn Thanh Hóa), used when --units is not given."""
    return samples_dir() / "units.csv"


def campaign_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--campaign, --units, --office: shared by every command working on a campaign."""

    @click.option("--campaign", "campaign_ref", default="nq02-2020", show_default=True,
                  help="Mã chiến dịch có sẵn hoặc đường dẫn tới campaign.yaml.")
    @click.option("--units", "units_path", type=click.Path(path_type=Path), default=None,
                  help="Tệp danh sách đơn vị CSV/XLSX (code,name,level,parent,email); "
                       "mặc định samples/units.csv.")
    @click.option("--office", "office_code", default=None,
                  help="Mã đơn vị (văn phòng) ra kế hoạch; mặc định: đơn vị gốc của tệp đơn vị.")
    @functools.wraps(func)
    def wrapper(*args: Any, campaign_ref: str, units_path: Path | None,
                office_code: str | None, **kwargs: Any) -> Any:
        campaign = load_campaign(campaign_ref)
        units = load_units(units_path or default_units())
        office = units.office(office_code)
        return func(*args, campaign=campaign, units=units, office=office, **kwargs)

    return wrapper
