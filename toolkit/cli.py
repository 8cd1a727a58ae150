"""Command-line interface: parses, calls the library, renders. No logic lives here."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from toolkit.atomic import OutputError
from toolkit.paths import samples_dir
from toolkit.spec import Campaign, SpecError, load_campaign
from toolkit.units import UnitRegistry, UnitsError, load_units

KNOWN_ERRORS = (SpecError, UnitsError, OutputError)


def _default_units() -> Path:
    return samples_dir() / "units.csv"


def campaign_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--campaign, --units, --office: shared by every command working on a campaign."""

    @click.option("--campaign", "campaign_ref", default="nq02-2020", show_default=True,
                  help="Mã chiến dịch có sẵn hoặc đường dẫn tới campaign.yaml "
                       "(built-in campaign id or path).")
    @click.option("--units", "units_path", type=click.Path(path_type=Path), default=None,
                  help="Tệp danh sách đơn vị CSV/XLSX (code,name,level,parent,email); "
                       "mặc định samples/units.csv.")
    @click.option("--office", "office_code", default=None,
                  help="Mã đơn vị (văn phòng) ra kế hoạch; mặc định: đơn vị gốc của tệp đơn vị.")
    @functools.wraps(func)
    def wrapper(*args: Any, campaign_ref: str, units_path: Path | None,
                office_code: str | None, **kwargs: Any) -> Any:
        campaign = load_campaign(campaign_ref)
        units = load_units(units_path or _default_units())
        office = units.office(office_code)
        return func(*args, campaign=campaign, units=units, office=office, **kwargs)

    return wrapper


class ToolkitGroup(click.Group):
    """Turns known errors into a one-line Vietnamese message and exit code 1 (traceback only
    with --debug)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KNOWN_ERRORS as exc:
            if ctx.params.get("debug"):
                raise
            raise click.ClickException(str(exc)) from None


@click.group(cls=ToolkitGroup)
@click.version_option(package_name="toolkit")
@click.option("--debug", is_flag=True, help="Hiện traceback khi có lỗi (cho lập trình viên).")
def cli(debug: bool) -> None:
    """toolkit: biểu mẫu, kiểm tra và tổng hợp báo cáo Excel của Đoàn TNCS Hồ Chí Minh.

    Excel-by-email reporting for the Youth Union: templates, validation, consolidation.
    """


@cli.command("make-templates")
@campaign_options
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("templates_out"),
              show_default=True, help="Thư mục ghi các tệp biểu mẫu.")
def make_templates_cmd(campaign: Campaign, units: UnitRegistry, office: Any,
                       out_dir: Path) -> None:
    """Tạo một tệp biểu mẫu cho mỗi đơn vị trực thuộc (và một tệp trống).

    Writes one validated workbook per direct child of the office, plus one blank workbook.
    """
    from toolkit.templates import make_templates

    result = make_templates(campaign, units, office, out_dir)
    click.echo(f"Chiến dịch: {campaign.id} — {campaign.document_number}")
    click.echo(f"Văn phòng: {office.name} ({office.code})")
    click.echo(f"Đã tạo {len(result.files)} tệp biểu mẫu cho đơn vị trực thuộc "
               f"và 1 tệp trống trong {out_dir}")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="toolkit")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
