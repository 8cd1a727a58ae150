"""What to send to whom (templates, feedback, reminders), SMTP delivery, the sent log and
``.eml`` dry runs.

The sent log (``sent-log.jsonl`` in the mail folder, one JSON object per message actually
sent) is keyed by campaign, kind, unit and the sha256 of the attachments (for reminders:
the day), so a second run sends nothing already sent unless ``resend`` is asked for.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
import os
import smtplib
import ssl
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

from toolkit._infra.atomic import OutputError, ensure_dir, write_bytes
from toolkit.mail.compose import (
    Attachment,
    eml_bytes,
    feedback_message,
    recipients,
    reminder_message,
    template_message,
)
from toolkit.mail.settings import MailError, ServerSettings, connection_error, tls_context
from toolkit.spec.campaign import Campaign
from toolkit.spec.units import Unit, UnitRegistry

SENT_LOG = "sent-log.jsonl"
DRY_RUN_DIR = "dry-run"
SUBMISSIONS_CSV = "submissions.csv"
FINDINGS_CSV = "findings.csv"

PasswordSource = Callable[[], str | None]


@dataclass(frozen=True)
class Outgoing:
    """One message ready to go, with the key that identifies it in the sent log."""

    kind: str
    campaign: str
    unit: Unit
    message: EmailMessage
    attachments: tuple[Attachment, ...]
    variant: str  # sha256 of the attachments, or the day for reminders

    @property
    def key(self) -> str:
        return f"{self.campaign}|{self.kind}|{self.unit.code}|{self.variant}"


@dataclass
class Plan:
    """Messages to send and units left out, each with a Vietnamese reason."""

    kind: str
    outgoing: list[Outgoing] = field(default_factory=list)
    skipped: list[tuple[Unit, str]] = field(default_factory=list)


@dataclass
class SendReport:
    """What a run did: sent (or written as ``.eml``), skipped, failed."""

    kind: str
    dry_run: bool
    sent: list[Outgoing] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    skipped: list[tuple[Unit, str]] = field(default_factory=list)
    failed: list[tuple[Unit, str]] = field(default_factory=list)


# --------------------------------------------------------------------------- planning


def _targets(units: UnitRegistry, office: Unit, only: Iterable[str] | None) -> list[Unit]:
    children = units.children(office.code)
    if not only:
        return children
    wanted = list(dict.fromkeys(only))
    codes = {u.code for u in children}
    unknown = [c for c in wanted if c not in codes]
    merged = [units.get(c) for c in unknown if units.lookup(c) and units.get(c).successor]
    if merged:
        raise MailError("; ".join(f"{u.code} ({u.name}) đã sáp nhập vào "
                                  f"{units.current(u.code).name}: không gửi thư riêng"
                                  for u in merged))
    if unknown:
        raise MailError(f"Không phải đơn vị trực thuộc {office.name} ({office.code}): "
                        f"{', '.join(unknown)}")
    return [u for u in children if u.code in wanted]


def _variant(attachments: Sequence[Attachment]) -> str:
    if len(attachments) == 1:
        return attachments[0].sha256
    return hashlib.sha256("|".join(a.sha256 for a in attachments).encode()).hexdigest()


def _add(plan: Plan, campaign: Campaign, unit: Unit, msg: EmailMessage,
         attachments: Sequence[Attachment], variant: str | None = None) -> None:
    plan.outgoing.append(Outgoing(kind=plan.kind, campaign=campaign.id, unit=unit, message=msg,
                                  attachments=tuple(attachments),
                                  variant=variant or _variant(attachments)))


def _template_file(campaign: Campaign, unit: Unit, folder: Path) -> Path:
    from toolkit.write.templates import template_filename  # the one naming rule of make-templates

    return folder / template_filename(campaign, unit)


def plan_templates(campaign: Campaign, units: UnitRegistry, office: Unit, templates_dir: Path,
                   sender: Address, *, only: Iterable[str] | None = None,
                   reply_to: str | None = None, now: dt.datetime | None = None) -> Plan:
    """One message per child unit with its own template (from ``make-templates --out``)."""
    templates_dir = Path(templates_dir)
    if not templates_dir.is_dir():
        raise MailError(f"Không tìm thấy thư mục biểu mẫu {templates_dir}: hãy chạy "
                        f"toolkit make-templates --out {templates_dir} trước")
    plan = Plan("templates")
    for unit in _targets(units, office, only):
        path = _template_file(campaign, unit, templates_dir)
        if not recipients(unit):
            plan.skipped.append((unit, "chưa có địa chỉ e-mail trong tệp đơn vị"))
        elif not path.is_file():
            plan.skipped.append((unit, f"không có tệp biểu mẫu {path.name}"))
        else:
            att = Attachment(path.name, path.read_bytes())
            _add(plan, campaign, unit,
                 template_message(campaign, office, unit, sender, att, reply_to=reply_to,
                                  now=now), [att])
    return plan


@dataclass(frozen=True)
class UnitResult:
    """A unit's state after ``consolidate``: status, chosen file, errors and warnings."""

    status: str
    file: str = ""
    errors: int = 0
    warnings: int = 0


def _read_csv(path: Path) -> list[dict[str, str]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise MailError(f"Không tìm thấy {path}: hãy chạy toolkit consolidate (với --out "
                        "là thư mục --results này, cùng chiến dịch và văn phòng) trước"
                        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MailError(f"Không đọc được {path}: {exc}") from None
    return list(csv.DictReader(io.StringIO(text)))


def read_results(results_dir: Path) -> dict[str, UnitResult]:
    """Per unit code, from ``submissions.csv`` and ``findings.csv`` of a consolidate run:
    ``accepted`` if a file was accepted, else ``rejected`` if one was rejected, else
    ``missing``."""
    rows = _read_csv(Path(results_dir) / SUBMISSIONS_CSV)
    findings_path = Path(results_dir) / FINDINGS_CSV
    findings = _read_csv(findings_path) if findings_path.exists() else []
    chosen: dict[str, dict[str, str]] = {}
    seen: set[str] = set()
    for row in rows:
        code = (row.get("unit_code") or "").strip()
        status = (row.get("status") or "").strip()
        if not code:
            continue
        seen.add(code)
        if status in ("accepted", "rejected"):
            best = chosen.get(code)
            if best is None or (best["status"] != "accepted" and status == "accepted"):
                chosen[code] = row
    results: dict[str, UnitResult] = {}
    for code in seen:
        picked = chosen.get(code)
        if picked is None:
            results[code] = UnitResult("missing")
            continue
        of_file = [f for f in findings if f.get("file") == picked.get("file")]
        results[code] = UnitResult(
            status=picked["status"], file=picked.get("file", ""),
            errors=sum(1 for f in of_file if f.get("severity") == "error"),
            warnings=sum(1 for f in of_file if f.get("severity") == "warning"))
    return results


def feedback_file(campaign: Campaign, unit: Unit, results_dir: Path) -> Path:
    """``FOLDER/feedback/{unit_code}_{campaign_id}_phan-hoi.xlsx`` as written by consolidate,
    ``FOLDER`` being the run's set folder (:func:`results_of`)."""
    from toolkit.report.outputs import FEEDBACK_DIR, FEEDBACK_SUFFIX, safe_name

    name = f"{safe_name(unit.code)}_{safe_name(campaign.id)}{FEEDBACK_SUFFIX}"
    return Path(results_dir) / FEEDBACK_DIR / name


def results_of(campaign: Campaign, office: Unit, results_dir: Path) -> Path:
    """The set folder of ``office``'s run of ``campaign``: ``--results`` itself, where
    consolidate's ``--out`` put it."""
    from toolkit.report.outputs import find_results

    return find_results(results_dir, campaign.id, office.code)


def plan_feedback(campaign: Campaign, units: UnitRegistry, office: Unit, results_dir: Path,
                  sender: Address, *, today: dt.date, only: Iterable[str] | None = None,
                  reply_to: str | None = None, now: dt.datetime | None = None) -> Plan:
    """One message per child unit that has a feedback workbook, the workbook attached."""
    results_dir = results_of(campaign, office, results_dir)
    results = read_results(results_dir)
    plan = Plan("feedback")
    for unit in _targets(units, office, only):
        path = feedback_file(campaign, unit, results_dir)
        if not path.is_file():
            continue  # no findings for this unit: nothing to say
        result = results.get(unit.code, UnitResult("missing"))
        if not recipients(unit):
            plan.skipped.append((unit, "chưa có địa chỉ e-mail trong tệp đơn vị"))
            continue
        att = Attachment(path.name, path.read_bytes())
        msg = feedback_message(campaign, office, unit, sender, att, status=result.status,
                               errors=result.errors, warnings=result.warnings,
                               file=result.file, today=today, reply_to=reply_to, now=now)
        _add(plan, campaign, unit, msg, [att])
    return plan


def plan_reminders(campaign: Campaign, units: UnitRegistry, office: Unit, results_dir: Path,
                   sender: Address, *, today: dt.date, templates_dir: Path | None = None,
                   only: Iterable[str] | None = None, reply_to: str | None = None,
                   now: dt.datetime | None = None) -> Plan:
    """One reminder per child unit still ``missing`` or ``rejected`` (at most one a day).
    A rejected unit gets its feedback workbook again; a missing one its template when
    ``templates_dir`` is given."""
    results_dir = results_of(campaign, office, results_dir)
    results = read_results(results_dir)
    plan = Plan("remind")
    for unit in _targets(units, office, only):
        status = results.get(unit.code, UnitResult("missing")).status
        if status == "accepted":
            continue
        if not recipients(unit):
            plan.skipped.append((unit, "chưa có địa chỉ e-mail trong tệp đơn vị"))
            continue
        attachments: list[Attachment] = []
        path = (feedback_file(campaign, unit, results_dir) if status == "rejected"
                else _template_file(campaign, unit, templates_dir) if templates_dir else None)
        if path is not None and path.is_file():
            attachments.append(Attachment(path.name, path.read_bytes()))
        msg = reminder_message(campaign, office, unit, sender, status=status, today=today,
                               attachments=attachments, reply_to=reply_to, now=now)
        _add(plan, campaign, unit, msg, attachments, variant=f"{status}@{today.isoformat()}")
    return plan


# --------------------------------------------------------------------------- sent log


def read_sent_log(mail_dir: Path) -> set[str]:
    """Keys of the messages already sent (unreadable lines are ignored)."""
    path = Path(mail_dir) / SENT_LOG
    keys: set[str] = set()
    if not path.is_file():
        return keys
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            keys.add(json.loads(line)["key"])
        except (ValueError, KeyError, TypeError):
            continue
    return keys


def _log_sent(mail_dir: Path, item: Outgoing, when: dt.datetime) -> None:
    record = {
        "sent_at": when.isoformat(timespec="seconds"),
        "campaign": item.campaign,
        "kind": item.kind,
        "unit": item.unit.code,
        "to": str(item.message["To"]),
        "subject": str(item.message["Subject"]),
        "message_id": str(item.message["Message-ID"]),
        "attachments": [a.name for a in item.attachments],
        "sha256": [a.sha256 for a in item.attachments],
        "key": item.key,
    }
    path = ensure_dir(Path(mail_dir)) / SENT_LOG
    try:
        with path.open("a", encoding="utf-8") as fh:  # one line per message, flushed at once
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        raise OutputError(f"Đã gửi thư cho {item.unit.code} nhưng không ghi được nhật ký "
                          f"{path}: {exc.strerror or exc}") from None


# --------------------------------------------------------------------------- SMTP


def open_smtp(settings: ServerSettings, password: str | None) -> smtplib.SMTP:
    """Connect (SSL, STARTTLS or — loopback only — plain) and log in when a user is set."""
    try:
        if settings.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port,
                                                  timeout=settings.timeout,
                                                  context=tls_context(settings))
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    except (OSError, smtplib.SMTPException) as exc:
        raise _smtp_error(settings, exc) from None
    try:
        smtp.ehlo()
        if settings.security == "starttls":
            if not smtp.has_extn("starttls"):
                raise MailError(f"Máy chủ {settings.where} không hỗ trợ STARTTLS (không mã hóa "
                                f"được kết nối); dùng --smtp-security ssl với cổng SSL (thường "
                                f"là 465) hoặc kiểm tra lại cổng")
            smtp.starttls(context=tls_context(settings))
            smtp.ehlo()
        if settings.user:
            if password is None:
                raise MailError(f"Chưa có mật khẩu SMTP cho {settings.user}: đặt biến môi "
                                f"trường TOOLKIT_SMTP_PASSWORD hoặc nhập khi được hỏi")
            _login(smtp, settings.user, password)
    except MailError:
        _quiet_close(smtp)
        raise
    except (OSError, smtplib.SMTPException) as exc:
        _quiet_close(smtp)
        raise _smtp_error(settings, exc) from None
    return smtp


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """``smtplib`` encodes credentials as ASCII; a Vietnamese password goes as UTF-8 with
    AUTH PLAIN instead."""
    try:
        smtp.login(user, password)
    except UnicodeEncodeError:
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode("ascii")
        code, resp = smtp.docmd("AUTH", f"PLAIN {token}")
        if code != 235:
            raise smtplib.SMTPAuthenticationError(code, resp) from None


def _quiet_close(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        smtp.close()


def _smtp_error(settings: ServerSettings, exc: BaseException) -> MailError:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return MailError(f"Máy chủ {settings.where} từ chối đăng nhập của {settings.user}: sai "
                         f"tên đăng nhập hoặc mật khẩu (TOOLKIT_SMTP_PASSWORD)")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return MailError(f"Máy chủ {settings.where} không cho đăng nhập trên kết nối này "
                         f"(không hỗ trợ AUTH); kiểm tra --smtp-security và cổng")
    if isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
        return MailError(f"Máy chủ {settings.where} đã ngắt kết nối; có thể sai kiểu bảo mật "
                         f"(starttls/ssl) hoặc sai cổng")
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)
        return MailError(f"Máy chủ {settings.where} trả lỗi {exc.smtp_code}: {text}")
    if isinstance(exc, OSError | ssl.SSLError):
        return connection_error(settings, exc)
    return MailError(f"Lỗi SMTP với {settings.where}: {exc}")


def deliver(plan: Plan, mail_dir: Path, *, settings: ServerSettings | None = None,
            password: PasswordSource | None = None, dry_run: bool = False,
            resend: bool = False, now: dt.datetime | None = None) -> SendReport:
    """Send the plan's messages over SMTP (or write them as ``.eml`` when ``dry_run``),
    skipping those already in the sent log unless ``resend``. Each sent message is logged
    at once, so a failure midway loses nothing. ``password`` is asked only if needed."""
    mail_dir = Path(mail_dir)
    report = SendReport(kind=plan.kind, dry_run=dry_run, skipped=list(plan.skipped))
    done = set() if resend else read_sent_log(mail_dir)
    todo = []
    for item in plan.outgoing:
        if item.key in done:
            report.skipped.append((item.unit, "đã gửi trước đây (dùng --resend để gửi lại)"))
        else:
            todo.append(item)
    if not todo:
        return report
    if dry_run:
        folder = mail_dir / DRY_RUN_DIR
        for item in todo:
            target = folder / f"{item.campaign}_{item.kind}_{item.unit.code}.eml"
            write_bytes(target, eml_bytes(item.message))
            report.written.append(target)
            report.sent.append(item)
        return report
    if settings is None:
        raise MailError("Chưa có cấu hình máy chủ SMTP (--smtp-host hoặc TOOLKIT_SMTP_HOST)")
    secret = password() if (password is not None and settings.user) else None
    smtp = open_smtp(settings, secret)
    try:
        for item in todo:
            try:
                refused = smtp.send_message(item.message)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused,
                    smtplib.SMTPDataError) as exc:
                report.failed.append((item.unit, _smtp_error(settings, exc).args[0]))
                continue
            except (OSError, smtplib.SMTPException) as exc:
                raise _smtp_error(settings, exc) from None
            if refused:
                report.failed.append((item.unit, "máy chủ từ chối địa chỉ: "
                                      + ", ".join(sorted(refused))))
                continue
            _log_sent(mail_dir, item, now or dt.datetime.now(dt.UTC))
            report.sent.append(item)
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            _quiet_close(smtp)
    return report
