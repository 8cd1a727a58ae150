"""``toolkit mail …``: parse options (with ``TOOLKIT_*`` environment fallbacks), call the
library, render in Vietnamese. Passwords come only from ``TOOLKIT_SMTP_PASSWORD`` /
``TOOLKIT_IMAP_PASSWORD`` or a hidden prompt, never from an option, and are never printed.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from toolkit.cli.common import ToolkitGroup, campaign_options
from toolkit.mail.compose import KIND_LABELS, sender_address, today_in_vietnam
from toolkit.mail.fetch import FetchResult, fetch
from toolkit.mail.send import (
    SENT_LOG,
    Plan,
    SendReport,
    deliver,
    plan_feedback,
    plan_reminders,
    plan_templates,
)
from toolkit.mail.settings import SECURITY_MODES, MailError, make_settings, printable
from toolkit.spec.campaign import Campaign
from toolkit.spec.units import Unit, UnitRegistry


class DateType(click.ParamType):
    """``2021-01-20`` or ``20/01/2021``."""

    name = "NGÀY"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        text = str(value).strip()
        for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        self.fail(f"ngày không hợp lệ {text!r} (dạng 2021-01-20 hoặc 20/01/2021)", param, ctx)


DATE = DateType()


def send_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """SMTP server, sender, mail folder, --dry-run/--resend/--unit."""
    options = [
        click.option("--smtp-host", envvar="TOOLKIT_SMTP_HOST", show_envvar=True,
                     help="Máy chủ SMTP."),
        click.option("--smtp-port", type=int, envvar="TOOLKIT_SMTP_PORT", show_envvar=True,
                     help="Cổng SMTP (mặc định 587 cho starttls, 465 cho ssl)."),
        click.option("--smtp-security", type=click.Choice(SECURITY_MODES),
                     envvar="TOOLKIT_SMTP_SECURITY", show_envvar=True, default="starttls",
                     show_default=True,
                     help="Mã hóa kết nối; 'none' chỉ cho máy chủ thử trên 127.0.0.1."),
        click.option("--smtp-user", envvar="TOOLKIT_SMTP_USER", show_envvar=True,
                     help="Tài khoản SMTP; mật khẩu lấy từ TOOLKIT_SMTP_PASSWORD hoặc hỏi khi "
                          "chạy (không bao giờ là tham số dòng lệnh)."),
        click.option("--smtp-cafile", type=click.Path(path_type=Path),
                     envvar="TOOLKIT_SMTP_CAFILE", show_envvar=True,
                     help="Tệp chứng chỉ CA (PEM) để tin máy chủ dùng chứng chỉ tự ký."),
        click.option("--from", "from_addr", envvar="TOOLKIT_MAIL_FROM", show_envvar=True,
                     help="Địa chỉ người gửi (mặc định: tài khoản SMTP nếu là địa chỉ thư)."),
        click.option("--reply-to", envvar="TOOLKIT_MAIL_REPLY_TO", show_envvar=True,
                     help="Địa chỉ nhận thư trả lời (hộp thư mà 'mail fetch' đọc)."),
        click.option("--out", "mail_dir", type=click.Path(path_type=Path),
                     default=Path("out/mail"), show_default=True,
                     help=f"Thư mục ghi nhật ký gửi ({SENT_LOG}) và tệp .eml khi chạy thử."),
        click.option("--dry-run", is_flag=True,
                     help="Không gửi: ghi mỗi thư thành tệp .eml (mở bằng Thunderbird, "
                          "Outlook) trong OUT/dry-run."),
        click.option("--resend", is_flag=True, help="Gửi lại cả thư đã gửi trước đây."),
        click.option("--unit", "only", multiple=True,
                     help="Chỉ gửi cho đơn vị có mã này (lặp lại được)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _password(kind: str, user: str) -> Callable[[], str | None]:
    """Environment variable, else a hidden prompt — asked only when really needed."""

    def get() -> str | None:
        value = os.environ.get(f"TOOLKIT_{kind}_PASSWORD")
        if value:
            return value
        try:
            return click.prompt(f"Mật khẩu {kind} của {user}", hide_input=True, err=True)
        except click.Abort:
            raise MailError(f"Chưa có mật khẩu {kind} cho {user}: đặt biến môi trường "
                            f"TOOLKIT_{kind}_PASSWORD hoặc nhập khi được hỏi") from None

    return get


def _run_send(build: Callable[..., Plan], office: Unit, campaign: Campaign,
              opts: dict[str, Any], *, empty: str = "", **plan_args: Any) -> None:
    from_addr = opts["from_addr"] or (opts["smtp_user"] if "@" in (opts["smtp_user"] or "")
                                      else None)
    if not from_addr:
        raise MailError("Chưa có địa chỉ người gửi: dùng --from hoặc biến môi trường "
                        "TOOLKIT_MAIL_FROM")
    sender = sender_address(office.name, from_addr)
    settings = None
    if not opts["dry_run"]:
        settings = make_settings("smtp", opts["smtp_host"], opts["smtp_port"],
                                 opts["smtp_security"], opts["smtp_user"], opts["smtp_cafile"])
    plan = build(sender=sender, only=opts["only"] or None, reply_to=opts["reply_to"],
                 **plan_args)
    report = deliver(plan, opts["mail_dir"], settings=settings,
                     password=_password("SMTP", opts["smtp_user"] or ""),
                     dry_run=opts["dry_run"], resend=opts["resend"])
    click.echo(render_send(report, campaign, opts["mail_dir"], empty=empty))
    if report.failed:
        raise SystemExit(1)


def render_send(report: SendReport, campaign: Campaign, mail_dir: Path, *,
                empty: str = "") -> str:
    """The terminal report of one send command, in Vietnamese; ``empty`` is the sentence
    saying why, when there was nothing at all to send."""
    label = KIND_LABELS.get(report.kind, report.kind)
    p = printable  # every piece of text that came from outside (files, servers, registry)
    lines = [f"Chiến dịch: {p(campaign.id)} — {p(campaign.document_number)}"]
    verb = "Đã ghi (chạy thử, chưa gửi)" if report.dry_run else "Đã gửi"
    lines.append(f"{verb} {len(report.sent)} thư {label}.")
    for item in report.sent:
        names = p(", ".join(a.name for a in item.attachments))
        to = p(str(item.message["To"]))
        lines.append(f"  {p(item.unit.code)} {p(item.unit.name)} → {to}"
                     + (f" ({names})" if names else ""))
    if report.skipped:
        lines.append(f"Bỏ qua {len(report.skipped)} đơn vị:")
        lines += [f"  {p(u.code)} {p(u.name)}: {p(why)}" for u, why in report.skipped]
    if report.failed:
        lines.append(f"Không gửi được {len(report.failed)} thư:")
        lines += [f"  {p(u.code)} {p(u.name)}: {p(why)}" for u, why in report.failed]
    if empty and not (report.sent or report.skipped or report.failed):
        lines.append(p(empty))
    if report.dry_run and report.written:
        lines.append(f"Các tệp .eml nằm trong {p(str(report.written[0].parent))}")
    elif not report.dry_run and report.sent:
        lines.append(f"Nhật ký gửi: {Path(mail_dir) / SENT_LOG}")
    return "\n".join(lines)


@click.group("mail", cls=ToolkitGroup)
def mail_group() -> None:
    """Gửi biểu mẫu, phản hồi, nhắc nộp qua thư điện tử; tải tệp đính kèm về hộp thư.

    \f
    Mail in and out: send templates, feedback and reminders (SMTP); fetch workbook
    attachments with their provenance (IMAP).
    """


@mail_group.command("send-templates")
@click.argument("templates_dir", metavar="THƯ_MỤC_BIỂU_MẪU", type=click.Path(path_type=Path))
@campaign_options
@send_options
def send_templates_cmd(templates_dir: Path, campaign: Campaign, units: UnitRegistry,
                       office: Unit, **opts: Any) -> None:
    """Gửi mỗi đơn vị trực thuộc biểu mẫu của mình (thư mục của make-templates --out).

    \f
    Sends each child unit its own template from TEMPLATES_DIR.
    """
    build = functools.partial(plan_templates, campaign, units, office, templates_dir)
    _run_send(build, office, campaign, opts)


@mail_group.command("send-feedback")
@campaign_options
@click.option("--results", "results_dir", type=click.Path(path_type=Path), default=Path("out"),
              show_default=True, help="Thư mục kết quả của toolkit consolidate --out.")
@click.option("--today", type=DATE, default=None,
              help="Ngày tính số ngày còn lại/quá hạn (mặc định: hôm nay, giờ Việt Nam).")
@send_options
def send_feedback_cmd(campaign: Campaign, units: UnitRegistry, office: Unit,
                      results_dir: Path, today: dt.date | None, **opts: Any) -> None:
    """Gửi tệp phản hồi cho các đơn vị có lỗi hoặc cảnh báo.

    \f
    Sends each unit with findings its feedback workbook from RESULTS/feedback.
    """
    build = functools.partial(plan_feedback, campaign, units, office, results_dir,
                              today=today or today_in_vietnam())
    _run_send(build, office, campaign, opts, empty=(
        f"Không có thư nào để gửi: thư mục {results_dir / 'feedback'} không có tệp phản hồi "
        f"nào của đơn vị trực thuộc {office.name} (không đơn vị nào có lỗi hay cảnh báo, "
        "hoặc kết quả là của văn phòng khác). Kiểm tra --office và --results (thư mục --out "
        "của toolkit consolidate)."))


@mail_group.command("remind")
@campaign_options
@click.option("--results", "results_dir", type=click.Path(path_type=Path), default=Path("out"),
              show_default=True, help="Thư mục kết quả của toolkit consolidate --out.")
@click.option("--templates", "templates_dir", type=click.Path(path_type=Path), default=None,
              help="Thư mục biểu mẫu: gửi kèm lại biểu mẫu cho đơn vị chưa nộp.")
@click.option("--today", type=DATE, default=None,
              help="Ngày tính số ngày còn lại/quá hạn (mặc định: hôm nay, giờ Việt Nam).")
@send_options
def remind_cmd(campaign: Campaign, units: UnitRegistry, office: Unit, results_dir: Path,
               templates_dir: Path | None, today: dt.date | None, **opts: Any) -> None:
    """Nhắc các đơn vị chưa nộp hoặc bị trả lại, nêu hạn nộp và số ngày còn lại/quá hạn.

    \f
    Reminds units still missing or rejected (at most once a day per unit).
    """
    build = functools.partial(plan_reminders, campaign, units, office, results_dir,
                              today=today or today_in_vietnam(), templates_dir=templates_dir)
    _run_send(build, office, campaign, opts)


@mail_group.command("fetch")
@click.argument("inbox_dir", metavar="HỘP_THƯ", type=click.Path(path_type=Path))
@click.option("--imap-host", envvar="TOOLKIT_IMAP_HOST", show_envvar=True, help="Máy chủ IMAP.")
@click.option("--imap-port", type=int, envvar="TOOLKIT_IMAP_PORT", show_envvar=True,
              help="Cổng IMAP (mặc định 993 cho ssl, 143 cho starttls).")
@click.option("--imap-security", type=click.Choice(SECURITY_MODES), default="ssl",
              envvar="TOOLKIT_IMAP_SECURITY", show_envvar=True, show_default=True,
              help="Mã hóa kết nối; 'none' chỉ cho máy chủ thử trên 127.0.0.1.")
@click.option("--imap-user", envvar="TOOLKIT_IMAP_USER", show_envvar=True,
              help="Tài khoản IMAP; mật khẩu lấy từ TOOLKIT_IMAP_PASSWORD hoặc hỏi khi chạy.")
@click.option("--imap-cafile", type=click.Path(path_type=Path), envvar="TOOLKIT_IMAP_CAFILE",
              show_envvar=True, help="Tệp chứng chỉ CA (PEM) cho máy chủ dùng chứng chỉ tự ký.")
@click.option("--folder", default="INBOX", envvar="TOOLKIT_IMAP_FOLDER", show_envvar=True,
              show_default=True, help="Thư mục thư trên máy chủ.")
@click.option("--since", type=DATE, default=None,
              help="Chỉ đọc thư đến từ ngày này (2021-01-06 hoặc 06/01/2021).")
def fetch_cmd(inbox_dir: Path, imap_host: str | None, imap_port: int | None,
              imap_security: str, imap_user: str | None, imap_cafile: Path | None,
              folder: str, since: dt.date | None) -> None:
    """Tải mọi tệp Excel/ODS đính kèm (kể cả trong tệp .zip) về thư mục HỘP_THƯ.

    \f
    Saves every workbook attachment into INBOX_DIR (never overwriting, never twice) and
    records sender, Date, Message-ID and subject in INBOX_DIR/manifest.csv.
    """
    settings = make_settings("imap", imap_host, imap_port, imap_security, imap_user,
                             imap_cafile)
    password = _password("IMAP", settings.user)() if settings.user else None
    result = fetch(settings, password, inbox_dir, folder=folder, since=since)
    click.echo(render_fetch(result, inbox_dir, f"{folder} ({settings.where})"))


def render_fetch(result: FetchResult, inbox: Path, where: str) -> str:
    """The terminal report of a fetch, in Vietnamese. Subjects, senders, file names and
    server replies come from strangers: all of it goes through ``printable``."""
    p = printable
    lines = [f"Đã đọc {result.messages} thư trong {p(where)}."]
    if result.already_fetched:
        lines.append(f"Bỏ qua {result.already_fetched} thư đã tải (trùng Message-ID).")
    lines.append(f"Đã lưu {len(result.saved)} tệp mới vào {p(str(inbox))}.")
    lines += [f"  {p(s.file)} ← {p(s.sender or '?')} ({p(s.date or 'không rõ ngày')})"
              for s in result.saved]
    if result.recorded:
        lines.append(f"Đã ghi nguồn gốc cho {len(result.recorded)} tệp có sẵn:")
        lines += [f"  {p(s.file)} ← {p(s.sender or '?')}" for s in result.recorded]
    if result.duplicates:
        lines.append(f"Trùng nội dung, không lưu lại: {len(result.duplicates)} tệp.")
    if result.without_workbook:
        lines.append(f"Thư không có tệp Excel/ODS đính kèm: {len(result.without_workbook)}.")
        lines += [f"  {p(n.message)}" for n in result.without_workbook]
    if result.problems:
        lines.append("Cần xem lại:")
        lines += [f"  {p(n.message)}: {p(n.text)}" for n in result.problems]
    if result.saved or result.recorded:
        lines.append(f"Nguồn gốc từng tệp: {p(str(Path(inbox) / 'manifest.csv'))}")
    return "\n".join(lines)
