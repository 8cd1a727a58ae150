"""``toolkit campaign …``: the campaign workbook (sổ khai báo chiến dịch) a clerk edits in
Excel or LibreOffice, exported from any campaign and loaded back into a campaign folder of
YAML files that ``make-templates --campaign DIR`` uses. Parsing and rendering only: the
conversions are :mod:`toolkit.author.workbook` and :mod:`toolkit.author.spec_files`."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit._infra.atomic import OutputError, write_bytes
from toolkit.author.draft import Draft, draft_from_plan, preview_pdf
from toolkit.author.folder import write_campaign_folder
from toolkit.author.plan import PlanError
from toolkit.author.spec_files import campaign_files
from toolkit.author.workbook import WorkbookError, read_workbook, workbook_bytes
from toolkit.cli.common import ToolkitGroup
from toolkit.report.terminal import render_campaign
from toolkit.spec.data import campaign_to_data
from toolkit.spec.load import campaign_from_data, load_campaign
from toolkit.write.templates import slugify


@click.group("campaign", cls=ToolkitGroup)
def campaign_group() -> None:
    """Sổ khai báo chiến dịch (.xlsx): xuất ra để sửa bằng Excel hoặc LibreOffice, nạp lại
    thành thư mục chiến dịch.

    \f
    The campaign workbook: export any campaign to an .xlsx a clerk edits; load it back into
    a campaign folder of YAML files.
    """


@campaign_group.command("new")
@click.argument("plan", metavar="KẾ_HOẠCH", type=click.Path(path_type=Path))
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=None,
              help="Sổ khai báo .xlsx cần ghi; mặc định khai-bao_<tên tệp kế hoạch>.xlsx.")
@click.option("--force", is_flag=True, help="Ghi đè sổ khai báo và bản xem trước đã có.")
def new_cmd(plan: Path, out_path: Path | None, force: bool) -> None:
    """Đọc KẾ_HOẠCH (.docx, .xlsx; .doc, .ods nếu có LibreOffice) và đề xuất chiến dịch.

    \f
    Reads the plan's heading, deadlines and appendix tables and writes the proposed
    campaign as a campaign workbook to correct, with a preview of the templates it would
    make (also as PDF when LibreOffice is installed). Then: toolkit campaign load.
    """
    try:
        data = plan.read_bytes()
    except FileNotFoundError:
        raise PlanError(f"Tệp «{plan}»", "không tìm thấy tệp") from None
    except OSError as exc:
        raise PlanError(f"Tệp «{plan}»", f"không đọc được tệp ({exc.strerror})") from None
    draft = draft_from_plan(data, plan.name)
    out = out_path or Path(f"khai-bao_{slugify(plan.stem) or 'ke-hoach'}.xlsx")
    preview = out.with_name(f"{out.stem}_xem-truoc.xlsx")
    pdf = preview.with_suffix(".pdf")
    existing = [p for p in (out, preview, pdf) if p.exists()]
    if existing and not force:
        raise OutputError(f"Tệp {existing[0]} đã có; thêm --force để ghi đè")
    printed = preview_pdf(draft.preview)
    write_bytes(out, draft.workbook)
    write_bytes(preview, draft.preview)
    if printed is not None:
        write_bytes(pdf, printed)
    click.echo(render_draft(draft, plan.name))
    click.echo(f"Đã ghi sổ khai báo: {out}")
    click.echo(f"Xem trước biểu mẫu: {preview}" + (f" và {pdf}" if printed is not None else
                                                     " (cài LibreOffice để có bản PDF)"))
    click.echo(f"Sửa sổ khai báo, trả lời các câu hỏi, rồi nạp: toolkit campaign load {out}")


@campaign_group.command("export")
@click.argument("campaign_ref", metavar="MÃ|ĐƯỜNG_DẪN")
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=None,
              help="Tệp .xlsx cần ghi; mặc định khai-bao_<mã chiến dịch>.xlsx.")
def export_cmd(campaign_ref: str, out_path: Path | None) -> None:
    """Xuất chiến dịch MÃ (có sẵn) hoặc ĐƯỜNG_DẪN (thư mục, campaign.yaml) ra sổ khai báo .xlsx.

    \f
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
@click.argument("workbook", metavar="SỔ_KHAI_BÁO", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Thư mục chiến dịch cần ghi; mặc định schemas/<mã chiến dịch>.")
@click.option("--force", is_flag=True,
              help="Ghi đè thư mục chiến dịch đã có (mọi tệp YAML cũ trong đó được thay).")
def load_cmd(workbook: Path, out_dir: Path | None, force: bool) -> None:
    """Nạp SỔ_KHAI_BÁO (.xlsx hoặc .ods) thành thư mục chiến dịch YAML.

    \f
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


KIND_LABELS = {"single_row": "một dòng", "fixed_rows": "dòng cố định", "list": "danh sách",
               "targets": "chỉ tiêu"}


def render_draft(draft: Draft, plan_name: str) -> str:
    """What was read from the plan, and the questions the clerk must answer, in Vietnamese."""
    campaign, proposal = draft.campaign, draft.proposal
    lines = [f"Đã đọc kế hoạch «{plan_name}»:", render_campaign(campaign).rstrip()]
    for form in campaign.forms:
        inputs = len(form.input_columns)
        lines.append(f"    {form.id}: {KIND_LABELS.get(form.kind, form.kind)}, {inputs} cột nhập"
                     + (f", {len(form.rows)} dòng" if form.rows else "")
                     + (f", {len(form.indicators)} chỉ tiêu" if form.indicators else ""))
    inferred = sum(1 for note in proposal.notes if note.kind == "rule")
    if inferred:
        lines.append(f"Quy tắc suy ra từ tiêu đề cột (cần xem lại): {inferred}")
    if proposal.questions:
        lines.append(f"Cần trả lời {len(proposal.questions)} câu hỏi (trang «Câu hỏi»):")
        lines += [f"  - [{q.form or 'chiến dịch'}] {q.text}" for q in proposal.questions]
    else:
        lines.append("Không có câu hỏi nào cần trả lời.")
    return "\n".join(lines)
