"""``toolkit history …``: the store of past consolidations. ``import`` loads what an office
already has (``values.csv`` of past runs, summary workbooks of past campaigns), ``list``
shows what the store holds. Parsing and rendering only: :mod:`toolkit.history`."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.cli.common import ToolkitGroup
from toolkit.spec.campaign import Campaign
from toolkit.spec.errors import SpecError
from toolkit.spec.load import load_campaign

HISTORY_HELP = ("Tệp lịch sử; mặc định .toolkit-lich-su.sqlite của không gian làm việc, hoặc "
                "trong thư mục hiện tại (bên cạnh thư mục out của toolkit consolidate).")


def _history(path: Path | None) -> Path:
    from toolkit.workspace.board import history_file

    return path or history_file(Path("out"))


@click.group("history", cls=ToolkitGroup)
def history_group() -> None:
    """Lịch sử các lần tổng hợp: nạp số liệu các kỳ trước, xem những gì đã lưu.

    \f
    The history store (SQLite) that comparisons with earlier periods use.
    """


@history_group.command("import")
@click.argument("files", metavar="TỆP…", nargs=-1, required=True,
                type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--period", default=None,
              help="Kỳ báo cáo của số liệu, ví dụ «2016 - 2020»; mặc định lấy từ chiến dịch.")
@click.option("--campaign", "campaign_ref", default=None,
              help="Chiến dịch của tệp (mã hoặc đường dẫn) khi nó không có sẵn trong máy.")
@click.option("--office", "office_code", default="",
              help="Mã văn phòng đã tổng hợp tệp values.csv (để ghi vào lịch sử).")
@click.option("--units", "units_path", type=click.Path(path_type=Path), default=None,
              help="Tệp danh sách đơn vị: có nó thì các dòng từng đơn vị của bảng tổng hợp "
                   "(biểu một dòng) cũng được nạp, nhận theo tên đơn vị.")
@click.option("--history", "history_path", type=click.Path(path_type=Path), default=None,
              help=HISTORY_HELP)
def import_cmd(files: tuple[Path, ...], period: str | None, campaign_ref: str | None,
               office_code: str, units_path: Path | None, history_path: Path | None) -> None:
    """Nạp vào lịch sử các tệp values.csv của lần tổng hợp trước và các bảng tổng hợp
    (.xlsx) của chiến dịch trước.

    \f
    Imports past values.csv files and past summary workbooks (read through their _meta)
    into the history store, so the next consolidation compares with them.
    """
    from toolkit.history.imports import import_files

    given = load_campaign(campaign_ref) if campaign_ref else None

    def lookup(campaign_id: str) -> Campaign | None:
        if given is not None and given.id == campaign_id:
            return given
        try:
            return load_campaign(campaign_id)
        except SpecError:
            return None

    from toolkit.spec.units import load_units

    units = load_units(units_path) if units_path is not None else None
    path = _history(history_path)
    done = import_files(path, list(files), period=period, lookup=lookup, office=office_code,
                        units=units)
    for item in done:
        what = "bảng tổng hợp" if item.kind == "summary" else (
            "biểu mẫu" if item.kind == "template" else "values.csv")
        state = "đã nạp" if item.new else "đã có trong lịch sử, không nạp lại"
        click.echo(f"{item.file} ({what}): chiến dịch {item.campaign}, kỳ {item.period}, "
                   f"{item.units} đơn vị, {item.values} giá trị — {state}")
    click.echo(f"Lịch sử: {path}")


@history_group.command("list")
@click.option("--history", "history_path", type=click.Path(path_type=Path), default=None,
              help=HISTORY_HELP)
def list_cmd(history_path: Path | None) -> None:
    """Liệt kê các chiến dịch và kỳ đã có số liệu trong lịch sử.

    \f
    Lists the campaigns and periods the history store holds figures of.
    """
    from toolkit.history.store import HistoryStore

    path = _history(history_path)
    if not path.exists():
        click.echo(f"Chưa có lịch sử ({path}): chạy toolkit consolidate hoặc "
                   "toolkit history import.")
        return
    with HistoryStore(path) as store:
        periods = store.periods()
        runs = store.runs()
    click.echo(f"Lịch sử: {path} — {len(runs)} lần ghi")
    for p in periods:
        click.echo(f"  {p.campaign}, kỳ {p.period}: {p.units} đơn vị, {p.values} giá trị")
