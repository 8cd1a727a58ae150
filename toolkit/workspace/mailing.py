"""Mail from the workspace: the messages of a campaign (templates, feedback, reminders)
planned by :mod:`toolkit.mail.send` from the workspace's own folders, shown before sending,
then sent with the server settings kept in the workspace and a password typed at that
moment (never stored)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from toolkit._infra.atomic import write_bytes
from toolkit.mail.compose import sender_address, today_in_vietnam
from toolkit.mail.fetch import fetch
from toolkit.mail.send import (
    Plan,
    SendReport,
    deliver,
    plan_feedback,
    plan_reminders,
    plan_templates,
)
from toolkit.mail.settings import MailError, make_settings
from toolkit.workspace.settings import Workspace
from toolkit.workspace.uploads import Landed
from toolkit.write.templates import make_templates

KINDS = {"templates": "Gửi biểu mẫu", "feedback": "Gửi phản hồi", "remind": "Nhắc nộp"}
MAIL_DIR = "thu"  # sent log, per campaign
TEMPLATES_DIR = "bieu-mau"  # the templates as mailed, per campaign
STAMP = ".da-tao"  # what the templates in TEMPLATES_DIR were made from


@dataclass(frozen=True)
class Preview:
    """One message as the unit will read it."""

    unit: str
    to: str
    subject: str
    body: str
    attachments: tuple[str, ...]


def _stamp(path: Path | None) -> str:
    try:
        return str(path.stat().st_mtime_ns) if path is not None else "-"
    except OSError:
        return "-"


def _templates_dir(ws: Workspace, campaign_id: str) -> Path:
    """The templates to attach, written again only when the campaign, the units file, the
    office or the allocation changed since they were last written."""
    from toolkit.workspace.downloads import ALLOCATION_FILE, read_allocation

    campaign = ws.load_campaign(campaign_id)
    folder = ws.campaign_dir(campaign_id) / TEMPLATES_DIR
    key = "|".join((campaign.spec_sha256, ws.units_file, _stamp(ws.units_path), ws.office,
                    _stamp(ws.campaign_dir(campaign_id) / ALLOCATION_FILE)))
    stamp = folder / STAMP
    if stamp.exists() and stamp.read_text(encoding="utf-8") == key:
        return folder
    units = ws.load_units()
    allocation = read_allocation(ws, campaign_id)
    make_templates(campaign, units, units.office(ws.office or None), folder,
                   allocation=allocation.targets if allocation is not None else None)
    write_bytes(stamp, key.encode("utf-8"))
    return folder


def mail_plan(ws: Workspace, campaign_id: str, kind: str, *,
              today: dt.date | None = None) -> Plan:
    """The messages ``kind`` would send now (results from the last consolidation)."""
    if kind not in KINDS:
        raise MailError(f"Không có loại thư «{kind}»")
    campaign = ws.load_campaign(campaign_id)
    units = ws.load_units()
    office = units.office(ws.office or None)
    sender = sender_address(office.name, ws.mail.get("sender") or ws.mail.get("user") or "")
    reply_to = ws.mail.get("reply_to") or None
    results = ws.results(campaign_id)
    day = today or today_in_vietnam()
    if kind == "templates":
        return plan_templates(campaign, units, office, _templates_dir(ws, campaign_id), sender,
                              reply_to=reply_to)
    if kind == "feedback":
        return plan_feedback(campaign, units, office, results, sender, today=day,
                             reply_to=reply_to)
    return plan_reminders(campaign, units, office, results, sender, today=day,
                          templates_dir=_templates_dir(ws, campaign_id), reply_to=reply_to)


def previews(plan: Plan) -> list[Preview]:
    out = []
    for item in plan.outgoing:
        body = item.message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        out.append(Preview(f"{item.unit.name} ({item.unit.code})", str(item.message["To"]),
                           str(item.message["Subject"]), text,
                           tuple(a.name for a in item.attachments)))
    return out


def send(ws: Workspace, campaign_id: str, kind: str, password: str, *,
         today: dt.date | None = None) -> SendReport:
    """Send ``kind`` over the workspace's SMTP server; the sent log of the campaign keeps a
    message from going twice."""
    mail = ws.mail
    port = int(mail["smtp_port"]) if mail.get("smtp_port", "").isdigit() else None
    settings = make_settings("smtp", mail.get("smtp_host"), port,
                             mail.get("security") or "starttls", mail.get("user"),
                             mail.get("cafile") or None)
    plan = mail_plan(ws, campaign_id, kind, today=today)
    return deliver(plan, ws.campaign_dir(campaign_id) / MAIL_DIR, settings=settings,
                   password=lambda: password or None)


def fetch_mail(ws: Workspace, campaign_id: str, password: str) -> list[Landed]:
    """Save the workbooks mailed to the office's mailbox into the campaign's inbox (the
    fetcher's own rules: read-only, repeats skipped, provenance in the inbox's manifest)."""
    mail = ws.mail
    port = int(mail["imap_port"]) if mail.get("imap_port", "").isdigit() else None
    settings = make_settings("imap", mail.get("imap_host"), port,
                             mail.get("security") or "ssl", mail.get("user"),
                             mail.get("cafile") or None)
    result = fetch(settings, password or None, ws.inbox(campaign_id))
    landed = [Landed(f.origin, stored=f.file) for f in result.saved]
    landed += [Landed(f.origin, problem=f.note) for f in result.recorded if f.note]
    landed += [Landed(n.message, problem=n.text)
               for n in (*result.problems, *result.without_workbook)]
    if not landed:
        landed.append(Landed("", problem=f"không có thư mới ({result.messages} thư đã xem, "
                                         f"{result.already_fetched} thư đã lấy trước đây)"))
    return landed
