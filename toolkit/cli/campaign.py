"""``toolkit campaign …``: the campaign workbook (sổ khai báo chiến dịch) a clerk edits in
Excel or LibreOffice, exported from any campaign and loaded back into a campaign folder of
YAML files that ``make-templates --campaign DIR`` uses. Parsing and rendering only: the
conversions are :mod:`toolkit.author.workbook` and :mod:`toolkit.author.spec_files`."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit._infra.atomic import write_bytes
from toolkit.author.folder import write_campaign_folder
from toolkit.author.spec_files import campaign_files
from toolkit.author.workbook import WorkbookError, read_workbook, workbook_bytes
from toolkit.cli.common import ToolkitGroup
from toolkit.spec.data import campaign_to_data
from toolkit.spec.load import campaign_from_data, load_campaign


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
