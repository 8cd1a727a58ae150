"""The ``toolkit`` command: parses options, calls the library, renders in Vietnamese. No logic
lives here. Shared options and error handling are in :mod:`.common`; ``toolkit mail …`` in
:mod:`.mail`.

May import: every stage, :mod:`toolkit.pipeline` and :mod:`toolkit.mail`; nothing imports it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from toolkit.cli import vi  # noqa: F401  (click's own words in Vietnamese, before any option)
from toolkit.cli.campaign import campaign_group
from toolkit.cli.common import ToolkitGroup, campaign_options
from toolkit.cli.history import history_group
from toolkit.cli.mail import mail_group
from toolkit.cli.workspace import init_cmd, serve_cmd
from toolkit.spec.campaign import Campaign
from toolkit.spec.errors import SpecError
from toolkit.spec.load import load_campaign
from toolkit.spec.units import UnitRegistry

PROGRESS_MIN_FILES = 40  # below this a progress bar is noise


@click.group(cls=ToolkitGroup)
@click.version_option(package_name="toolkit")
@click.option("--debug", is_flag=True, help="Hiện traceback khi có lỗi (cho lập trình viên).")
def cli(debug: bool) -> None:
    """toolkit: biểu mẫu, kiểm tra và tổng hợp báo cáo Excel của Đoàn TNCS Hồ Chí Minh.

    \f
    Excel-by-email reporting for the Youth Union: templates, validation, consolidation.
    """


@cli.command("make-templates")
@campaign_options
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("templates_out"),
              show_default=True, help="Thư mục ghi các tệp biểu mẫu.")
@click.option("--targets", "targets_path", type=click.Path(path_type=Path), default=None,
              help="Tệp phân bổ chỉ tiêu (tạo bằng toolkit make-allocation): chỉ tiêu của mỗi "
                   "đơn vị được điền sẵn và khóa.")
def make_templates_cmd(campaign: Campaign, units: UnitRegistry, office: Any,
                       out_dir: Path, targets_path: Path | None) -> None:
    """Tạo một tệp biểu mẫu cho mỗi đơn vị trực thuộc (và một tệp trống).

    \f
    Writes one validated workbook per direct child of the office, plus one blank workbook;
    with --targets, each unit's allocated targets are pre-filled and locked.
    """
    from toolkit.write.allocation import read_allocation
    from toolkit.write.templates import make_templates

    allocation = None
    if targets_path is not None:
        read = read_allocation(targets_path, campaign, units, office)
        for finding in read.findings:
            click.echo(f"Cảnh báo: {finding.message}", err=True)
        allocation = read.targets
    result = make_templates(campaign, units, office, out_dir, allocation=allocation)
    click.echo(f"Chiến dịch: {campaign.id} — {campaign.document_number}")
    click.echo(f"Văn phòng: {office.name} ({office.code})")
    click.echo(f"Đã tạo {len(result.files)} tệp biểu mẫu cho đơn vị trực thuộc "
               f"và 1 tệp trống trong {out_dir}")


@cli.command("consolidate")
@click.argument("inbox", metavar="HỘP_THƯ", type=click.Path(path_type=Path), required=False,
                callback=lambda ctx, param, value: _inbox_or_workspace(value, param))
@campaign_options
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Thư mục ghi bảng tổng hợp, phản hồi và các tệp CSV; mặc định out, hoặc "
                   "thư mục kết quả của chiến dịch trong không gian làm việc.")
@click.option("--history", "history_path", type=click.Path(path_type=Path), default=None,
              help="Tệp lịch sử các lần tổng hợp (để so sánh với kỳ trước); mặc định "
                   ".toolkit-lich-su.sqlite bên cạnh thư mục --out, hoặc của không gian làm việc.")
def consolidate_cmd(inbox: Path | None, campaign: Campaign, units: UnitRegistry, office: Any,
                    out_dir: Path | None, history_path: Path | None) -> None:
    """Đọc, kiểm tra và tổng hợp mọi tệp trong thư mục HỘP_THƯ.

    \f
    Reads every workbook under INBOX, validates it, writes the summary workbook, one
    feedback workbook per unit with findings, and values/findings/submissions CSVs.
    """
    from toolkit.history.record import record_result
    from toolkit.pipeline import cache_beside, consolidate
    from toolkit.report.outputs import write_outputs
    from toolkit.report.terminal import render_run_summary
    from toolkit.workspace import defaults_for
    from toolkit.workspace.board import history_file

    here = defaults_for(Path.cwd())  # inside a workspace: the campaign's inbox and results
    if inbox is None and here is not None and here.inbox is not None:
        inbox, out_dir = here.inbox, out_dir or here.out
    assert inbox is not None  # _inbox_or_workspace
    out_dir = out_dir or Path("out")
    _out_outside_inbox(inbox, out_dir)
    history = history_path or history_file(out_dir)
    with _progress(inbox) as advance:
        result = consolidate(inbox, campaign, units, office, progress=advance,
                             cache=cache_beside(out_dir), history=history)
    paths = write_outputs(result, result.frames, out_dir)
    click.echo(render_run_summary(result, paths, inbox))
    recorded = record_result(history, result)
    done = "đã ghi lần tổng hợp này" if recorded.new else "lần tổng hợp này đã có, không ghi lại"
    click.echo(f"Lịch sử: {history} ({done})")


def _inbox_or_workspace(value: Path | None, param: click.Parameter) -> Path | None:
    """HỘP_THƯ may be left out only inside a workspace with one campaign (its inbox); the
    check runs while parsing, before the units file and office are resolved."""
    from toolkit.workspace import defaults_for

    if value is None:
        here = defaults_for(Path.cwd())
        if here is None or here.inbox is None or here.out is None:
            raise click.MissingParameter(param=param)
    return value


@cli.command("report")
@click.argument("inbox", metavar="HỘP_THƯ", type=click.Path(path_type=Path))
@campaign_options
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("out"),
              show_default=True, help="Thư mục ghi báo cáo Word.")
@click.option("--template", "template_path", type=click.Path(path_type=Path), default=None,
              help="Mẫu báo cáo .docx riêng của văn phòng (sao từ toolkit report-template).")
@click.option("--place", default="", help="Địa danh ghi ở đầu báo cáo, ví dụ «Thọ Xuân»; "
              "mặc định lấy cột place của tệp đơn vị, không có thì để trống (……).")
@click.option("--history", "history_path", type=click.Path(path_type=Path), default=None,
              help="Tệp lịch sử để so sánh với kỳ trước; mặc định .toolkit-lich-su.sqlite bên "
                   "cạnh thư mục --out, hoặc của không gian làm việc.")
def report_cmd(inbox: Path, campaign: Campaign, units: UnitRegistry, office: Any,
               out_dir: Path, template_path: Path | None, place: str,
               history_path: Path | None) -> None:
    """Tổng hợp HỘP_THƯ rồi viết dự thảo báo cáo Word bao-cao_<chiến dịch>_<đơn vị>.docx.

    \f
    Consolidates INBOX and drafts the office's Word report: the Đoàn's document heading,
    the campaign's outline with the sentences the figures support, marked places for what
    only people know, and every form as an appendix table.
    """
    from toolkit._infra.atomic import write_bytes
    from toolkit.pipeline import cache_beside, consolidate
    from toolkit.report.word import render, report_name
    from toolkit.report.word.render import check_template
    from toolkit.workspace.board import history_file

    template = None
    if template_path is not None:
        try:
            template = template_path.read_bytes()
        except OSError as exc:
            raise click.ClickException(f"Không đọc được mẫu báo cáo {template_path}: "
                                       f"{exc.strerror or exc}") from None
        check_template(template)  # before reading the whole inbox
    _out_outside_inbox(inbox, out_dir, whole_set=False)
    with _progress(inbox) as advance:
        result = consolidate(inbox, campaign, units, office, progress=advance,
                             cache=cache_beside(out_dir),
                             history=history_path or history_file(out_dir))
    data = render(result, template, place=place or office.place)
    target = out_dir / report_name(result)
    write_bytes(target, data)
    accepted = sum(1 for u in result.expected if result.status_of(u.code) == "accepted")
    click.echo(f"{accepted}/{len(result.expected)} đơn vị đã báo cáo hợp lệ. Đã ghi dự thảo "
               f"báo cáo: {target}")
    click.echo("Các đoạn tô vàng trong báo cáo là phần cần viết thêm.")


@cli.command("report-template")
@click.option("--out", "out_path", type=click.Path(path_type=Path),
              default=Path("mau-bao-cao.docx"), show_default=True, help="Tệp .docx cần ghi.")
def report_template_cmd(out_path: Path) -> None:
    """Ghi mẫu báo cáo Word có sẵn để văn phòng sửa (dùng lại bằng toolkit report --template).

    \f
    Writes the built-in report template (Jinja tags such as {{ subject }}, {%p for s in
    sections %}) for an office to edit in Word and pass back with --template.
    """
    from toolkit._infra.atomic import write_bytes
    from toolkit.report.word.context import TEMPLATE_NAMES
    from toolkit.report.word.template import builtin_template

    write_bytes(out_path, builtin_template())
    click.echo(f"Đã ghi mẫu báo cáo: {out_path}. Các tên dùng được trong thẻ {{{{ … }}}}:")
    for name, what in TEMPLATE_NAMES.items():
        click.echo(f"  {name}: {what}")


def _out_outside_inbox(inbox: Path, out_dir: Path, *, whole_set: bool = True) -> None:
    """Outputs written into the inbox would be read back as submissions by the next run, and
    an inbox inside ``--out`` would go with the set when ``--out`` is a run's set (switched
    away whole by the next run; ``whole_set``)."""
    box, where = inbox.resolve(), out_dir.resolve()
    if where == box or box in where.parents:
        raise click.ClickException(
            f"Thư mục kết quả {out_dir} nằm trong hộp thư {inbox}: lần chạy sau sẽ đọc "
            "lại chính các tệp kết quả. Hãy chọn --out ở ngoài hộp thư")
    if whole_set and where in box.parents:
        raise click.ClickException(
            f"Hộp thư {inbox} nằm trong thư mục kết quả {out_dir}: mỗi lần tổng hợp thay cả "
            "thư mục kết quả. Hãy để hộp thư ở ngoài thư mục --out")


@cli.command("make-allocation")
@campaign_options
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=None,
              help="Tệp phân bổ cần ghi; mặc định phan-bo-chi-tieu_<chiến dịch>_<văn phòng>.xlsx.")
def make_allocation_cmd(campaign: Campaign, units: UnitRegistry, office: Any,
                        out_path: Path | None) -> None:
    """Tạo tệp phân bổ chỉ tiêu: mỗi đơn vị trực thuộc một dòng, mỗi chỉ tiêu một cột.

    \f
    Writes the allocation workbook of the office (its own target on top, one row per child
    unit, live totals); fill it in, then run make-templates --targets FILE.
    """
    from toolkit._infra.atomic import write_bytes
    from toolkit.write.allocation import allocation_bytes, allocation_filename

    path = out_path or Path(allocation_filename(campaign, office))
    if path.suffix.lower() != ".xlsx":  # "--out phan-bo" is meant as phan-bo.xlsx
        path = path.with_name(path.name + ".xlsx")
    write_bytes(path, allocation_bytes(campaign, units, office))
    click.echo(f"Đã tạo tệp phân bổ chỉ tiêu {path} cho {len(units.children(office.code))} "
               f"đơn vị trực thuộc {office.name}")


@cli.command("campaigns")
def campaigns_cmd() -> None:
    """Liệt kê các chiến dịch có sẵn và chiến dịch riêng (./schemas), các biểu và hạn nộp.

    \f
    Lists the built-in campaigns and the local ones (folders under ./schemas of the current
    directory) with their forms and deadlines.
    """
    from toolkit.report.terminal import render_campaign
    from toolkit.spec.load import list_builtin_campaigns, list_local_campaigns

    for campaign_id in list_builtin_campaigns():
        click.echo(render_campaign(load_campaign(campaign_id)))
    for path in list_local_campaigns():
        try:
            click.echo("(chiến dịch riêng) " + render_campaign(load_campaign(path)))
        except SpecError as exc:
            click.echo(f"(chiến dịch riêng, lỗi) {exc}")


cli.add_command(mail_group)  # toolkit mail send-templates|send-feedback|remind|fetch
cli.add_command(campaign_group)  # toolkit campaign export|load
cli.add_command(init_cmd)  # toolkit init [DIR]
cli.add_command(serve_cmd)  # toolkit serve [DIR]
cli.add_command(history_group)  # toolkit history import|list


class _NullBar:
    def update(self, n: int) -> None:
        pass


@contextlib.contextmanager
def _progress(inbox: Path) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr when many files are read and stderr is a terminal."""
    total = sum(1 for p in inbox.rglob("*") if p.is_file()) if inbox.is_dir() else 0
    if total < PROGRESS_MIN_FILES or not sys.stderr.isatty():
        yield _NullBar().update
        return
    with click.progressbar(length=total, label="Đang đọc tệp", file=sys.stderr) as bar:
        yield bar.update


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="toolkit")


if __name__ == "__main__":  # pragma: no cover
    main()
