"""``toolkit campaign …``: the campaign workbook (sổ khai báo chiến dịch) a clerk edits in
Excel or LibreOffice, exported from any campaign and loaded back into a campaign folder of
YAML files that ``make-templates --campaign DIR`` uses. Parsing and rendering only: the
conversions are :mod:`toolkit.author.workbook` and :mod:`toolkit.author.spec_files`."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import click

from toolkit._infra.atomic import OutputError, ensure_dir, write_bytes
from toolkit.author.spec_files import CAMPAIGN_FILE, campaign_files
from toolkit.author.workbook import WorkbookError, read_workbook, workbook_bytes
from toolkit.cli.common import ToolkitGroup
from toolkit.spec.campaign import Campaign
from toolkit.spec.data import campaign_to_data, same_campaign
from toolkit.spec.load import campaign_from_data, load_campaign

SPEC_SUFFIXES = (".yaml", ".yml")


@click.group("campaign", cls=ToolkitGroup)
def campaign_group() -> None:
    """Sổ khai báo chiến dịch (.xlsx): xuất ra để sửa bằng Excel hoặc LibreOffice, nạp lại
    thành thư mục chiến dịch.

    The campaign workbook: export any campaign to an .xlsx a clerk edits; load it back into
    a campaign folder of YAML files.
    """


@campaign_group.command("export")
@click.argument("campaign_ref", metavar="ID|PATH")
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=None,
              help="Tệp .xlsx cần ghi; mặc định khai-bao_<mã chiến dịch>.xlsx.")
def export_cmd(campaign_ref: str, out_path: Path | None) -> None:
    """Xuất chiến dịch ID (có sẵn) hoặc PATH (thư mục, campaign.yaml) ra sổ khai báo .xlsx.

    Writes the campaign workbook of a campaign: its items, forms, columns, rows, targets
    and rules on sheets a clerk edits, with dropdowns for every closed vocabulary.
    """
    campaign = load_campaign(campaign_ref)
    path = out_path or Path(f"khai-bao_{campaign.id}.xlsx")
    write_bytes(path, workbook_bytes(*campaign_to_data(campaign)))
    click.echo(f"Đã ghi sổ khai báo chiến dịch {campaign.id} ({len(campaign.forms)} biểu) "
               f"vào {path}")
    click.echo(f"Sửa xong thì nạp lại: toolkit campaign load {path}")


@campaign_group.command("load")
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Thư mục chiến dịch cần ghi; mặc định schemas/<mã chiến dịch>.")
@click.option("--force", is_flag=True,
              help="Ghi đè thư mục chiến dịch đã có (mọi tệp YAML cũ trong đó được thay).")
def load_cmd(workbook: Path, out_dir: Path | None, force: bool) -> None:
    """Nạp sổ khai báo WORKBOOK (.xlsx hoặc .ods) thành thư mục chiến dịch YAML.

    Reads and checks the whole workbook (a mistake is reported by sheet, row and column,
    and nothing is written), then writes campaign.yaml and one file per form into the
    folder at once.
    """
    try:
        data = workbook.read_bytes()
    except FileNotFoundError:
        raise WorkbookError(f"không tìm thấy tệp {workbook}") from None
    except OSError as exc:
        raise WorkbookError(f"không đọc được tệp {workbook}: {exc.strerror}") from None
    campaign_data, forms_data = read_workbook(data, name=workbook.name)
    out = out_dir or Path("schemas") / str(campaign_data["id"])
    files = campaign_files(campaign_data, forms_data,
                           note=f"Chiến dịch {campaign_data['id']}: nạp bằng toolkit campaign "
                                f"load từ sổ khai báo {workbook.name}.")
    expected = campaign_from_data(campaign_data, forms_data, workbook.name)
    campaign = write_campaign_folder(out, files, expected, force=force)
    click.echo(f"Đã nạp {workbook.name}: chiến dịch {campaign.id} — "
               f"{campaign.document_number}, {len(campaign.forms)} biểu "
               f"({', '.join(f.id for f in campaign.forms)}) vào {out}")
    click.echo(f"Tạo biểu mẫu: toolkit make-templates --campaign {out}")


def write_campaign_folder(out: Path, files: dict[str, str], expected: Campaign, *,
                          force: bool) -> Campaign:
    """Write ``files`` as the folder ``out`` all at once: into a temporary folder beside
    it, loaded back and compared with ``expected``, then renamed into place (an existing
    campaign folder only with ``force``). A failure leaves ``out`` as it was."""
    if out.exists() and not force:
        raise OutputError(f"Thư mục {out} đã có; thêm --force để ghi đè")
    if out.exists():
        _check_replaceable(out)
    parent = ensure_dir(out.parent if str(out.parent) else Path("."))
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{out.name}-", dir=parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; a campaign folder is ordinary
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")
        campaign = load_campaign(tmp)
        if not same_campaign(campaign, expected):  # the YAML must say what the workbook said
            raise OutputError(f"Các tệp YAML ghi ra không đọc lại đúng sổ khai báo; không "
                              f"ghi vào {out} (lỗi của toolkit, xin báo lại)")
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return load_campaign(out)


def _check_replaceable(out: Path) -> None:
    """Only a campaign folder (YAML files and campaign.yaml) is replaced, never a folder
    that happens to have the name (``--out .`` with ``--force`` must not empty a project)."""
    if not out.is_dir():
        raise OutputError(f"{out} là một tệp, không phải thư mục chiến dịch")
    entries = list(out.iterdir())
    foreign = [p.name for p in entries if p.is_dir() or p.suffix.lower() not in SPEC_SUFFIXES]
    if entries and (foreign or not (out / CAMPAIGN_FILE).exists()):
        what = f"có {foreign[0]}" if foreign else f"không có {CAMPAIGN_FILE}"
        raise OutputError(f"Không ghi đè {out}: đó không phải thư mục chiến dịch ({what})")


def _swap_in(tmp: Path, out: Path) -> None:
    if not out.exists():
        os.rename(tmp, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".old-{out.name}-", dir=out.parent))
    os.rename(out, old)  # onto the empty temporary folder: POSIX replaces it
    try:
        os.rename(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
