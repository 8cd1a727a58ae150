"""``toolkit init`` and ``toolkit serve``: the office's workspace and its page. Parsing and
rendering only: the workspace is :mod:`toolkit.workspace`, the page :mod:`toolkit.web`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from toolkit.cli.vi import VietnameseCommand
from toolkit.workspace import SETTINGS_FILE, find_workspace, init_workspace, open_workspace


@click.command("init", cls=VietnameseCommand)
@click.argument("folder", metavar="THƯ_MỤC", type=click.Path(path_type=Path), default=Path("."))
@click.option("--units", "units_path", type=click.Path(path_type=Path), default=None,
              help="Tệp danh sách đơn vị CSV/XLSX của văn phòng (chép vào không gian làm việc).")
@click.option("--office", "office_code", default=None,
              help="Mã văn phòng; không ghi thì được hỏi, chọn trong tệp đơn vị.")
def init_cmd(folder: Path, units_path: Path | None, office_code: str | None) -> None:
    """Tạo không gian làm việc trong THƯ_MỤC (mặc định thư mục hiện tại).

    \f
    Creates a workspace: settings file, the office's units file and office; inside it the
    other commands need no --units/--office, and `toolkit serve` opens its page.
    """
    if units_path is not None and office_code is None and _interactive():
        from toolkit.spec.units import load_units

        registry = load_units(units_path)
        offices = [u for u in registry.units.values() if registry.children(u.code)]
        for i, unit in enumerate(offices, start=1):
            click.echo(f"  {i}. {unit.name} ({unit.code})")
        choice = click.prompt("Văn phòng của anh/chị (số thứ tự)", type=click.IntRange(
            1, len(offices)), default=1)
        office_code = offices[choice - 1].code
    ws = init_workspace(folder, units=units_path, office=office_code)
    click.echo(f"Đã tạo không gian làm việc {folder} ({SETTINGS_FILE})")
    if ws.office:
        click.echo(f"Văn phòng: {ws.office}; tệp đơn vị: {ws.units_file}")
    click.echo(f"Mở trang làm việc: toolkit serve {folder}")


def _interactive() -> bool:
    return sys.stdin.isatty()


@click.command("serve", cls=VietnameseCommand)
@click.argument("folder", metavar="THƯ_MỤC", type=click.Path(path_type=Path), required=False)
@click.option("--port", type=int, default=0, help="Cổng; mặc định một cổng trống bất kỳ.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Địa chỉ lắng nghe. Khác 127.0.0.1 (cho máy khác vào) thì phải có mật khẩu "
                   "(biến môi trường TOOLKIT_PASSWORD).")
@click.option("--no-browser", is_flag=True, help="Không tự mở trình duyệt.")
def serve_cmd(folder: Path | None, port: int, host: str, no_browser: bool) -> None:
    """Mở trang làm việc của văn phòng trong trình duyệt (Ctrl-C để dừng).

    \f
    Starts the local web page over the workspace FOLDER (created if it is empty; default:
    the workspace the current folder is in, else the current folder) on this computer and
    opens the browser. Serving other computers takes --host and a password.
    """
    from toolkit.web.security import is_loopback
    from toolkit.web.serve import serve

    password = os.environ.get("TOOLKIT_PASSWORD") or None
    if not is_loopback(host) and host != "localhost" and not password:
        raise click.ClickException(
            "Cho máy khác vào trang cần mật khẩu: đặt biến môi trường TOOLKIT_PASSWORD "
            "rồi chạy lại (hoặc bỏ --host để chỉ dùng trên máy này)")
    if folder is None:
        here = find_workspace(Path.cwd())
        folder = here.root if here is not None else Path(".")
    if not (folder / SETTINGS_FILE).exists():
        init_workspace(folder)
    open_workspace(folder)

    def announce(url: str) -> None:
        click.echo(f"Trang làm việc: {url}  (nhấn Ctrl-C để dừng)")
        sys.stdout.flush()

    try:
        serve(folder, host=host, port=port, password=password, open_browser=not no_browser,
              announce=announce)
    except OSError as exc:  # the port is taken, or the address is not this computer's
        raise click.ClickException(f"Không mở được trang tại {host}:{port}: "
                                   f"{exc.strerror or exc}. Hãy chọn --port khác") from None
