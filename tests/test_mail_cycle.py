"""The whole mail cycle against real servers on 127.0.0.1, in one test:

send templates (SMTP) → units fill the template they received and reply (APPEND into a
Dovecot mailbox) → fetch (IMAP) → consolidate (lateness from the message dates) → send
feedback to the unit with errors → remind the units still missing or rejected.

What each unit did is decided here; the expected statuses, lateness and recipients follow
from it, not from the code under test.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import random
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from click.testing import CliRunner
from mailservers import Dovecot, SmtpServer, dovecot_binary, make_certificate

from toolkit.cli.mail import mail_group
from toolkit.pipeline import consolidate
from toolkit.read.manifest import read_manifest
from toolkit.read.provenance import sender_mismatches
from toolkit.report.outputs import write_outputs
from toolkit.spec.load import load_campaign
from toolkit.spec.units import load_units
from toolkit.testing import fill_workbook, sample_values
from toolkit.write.templates import make_templates

CAMPAIGN = load_campaign("nq02-2020")  # cơ sở deadline: 20/01/2021
VN = dt.timezone(dt.timedelta(hours=7))
UNITS_CSV = """code,name,level,parent,email
TX,Huyện đoàn Thọ Xuân,huyen,,vanphong@thoxuan.doan.example
TX01,Đoàn thị trấn Thọ Xuân,co_so,TX,thitran@thoxuan.doan.example
TX02,Đoàn thị trấn Lam Sơn,co_so,TX,lamson@thoxuan.doan.example
TX04,Đoàn xã Xuân Hồng,co_so,TX,xuanhong@thoxuan.doan.example
TX05,Đoàn xã Xuân Trường,co_so,TX,xuantruong@thoxuan.doan.example
TX32,Đoàn xã Thuận Minh,co_so,TX,thuanminh@thoxuan.doan.example
"""
OFFICE_MAIL = "vanphong@thoxuan.doan.example"
INBOX_USER, INBOX_PASSWORD = "hopthu@thoxuan.doan.example", "Mật-khẩu hộp thư 2021"
# what each unit does with the template it received: (reply date, sender, broken value)
REPLIES = {
    "TX01": (dt.datetime(2021, 1, 18, 9, 15, tzinfo=VN), None, None),  # on time
    "TX02": (dt.datetime(2021, 1, 22, 16, 40, tzinfo=VN), None, None),  # two days late
    "TX04": (dt.datetime(2021, 1, 19, 10, 5, tzinfo=VN), None,         # typed "12 người"
             {("PL4", "2019", "co_so_so_nguoi"): "12 người"}),
    "TX05": (dt.datetime(2021, 1, 20, 23, 50, tzinfo=VN),               # last evening, from
             "bithu.xuantruong@gmail.example", None),                   # a personal address
}                                                                       # TX32 never replies


def reply_to_template(template_msg: EmailMessage, unit_code: str, units) -> bytes:
    """The unit fills the attachment it received and answers the message."""
    when, sender, broken = REPLIES[unit_code]
    (part,) = list(template_msg.iter_attachments())
    values = sample_values(CAMPAIGN, random.Random(f"cycle-{unit_code}"))
    values.update(broken or {})
    filled = fill_workbook(part.get_content(), values, modified=when.replace(tzinfo=None))
    unit = units.get(unit_code)
    msg = EmailMessage()
    msg["From"] = f"{unit.name} <{sender or unit.email}>"
    msg["To"] = INBOX_USER
    msg["Subject"] = "Re: " + template_msg["Subject"]
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = f"<{unit_code.lower()}.{when:%d%H%M}@thoxuan.doan.example>"
    msg["In-Reply-To"] = template_msg["Message-ID"]
    msg.set_content(f"Kính gửi Văn phòng Huyện đoàn,\n{unit.name} gửi báo cáo ạ.\n")
    msg.add_attachment(filled, maintype="application",
                       subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       filename=f"Báo cáo NQ02 - {unit.name}.xlsx")
    return bytes(msg)


def rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def test_full_mail_cycle(tmp_path: Path, tmp_path_factory) -> None:
    dovecot_binary()  # skip locally without dovecot; fail under CI=true
    cert, key = make_certificate(tmp_path_factory.mktemp("tls"))
    units_path = tmp_path / "units.csv"
    units_path.write_text(UNITS_CSV, encoding="utf-8")
    units = load_units(units_path)
    office = units.get("TX")
    templates, inbox, out = tmp_path / "templates", tmp_path / "inbox", tmp_path / "out"
    mail_dir = out / "mail"
    runner = CliRunner()
    common = ["--units", str(units_path), "--office", "TX", "--out", str(mail_dir)]

    with SmtpServer(cert, key, user=OFFICE_MAIL) as smtp, \
            Dovecot(cert, key, {INBOX_USER: INBOX_PASSWORD}) as imap:
        env = {"TOOLKIT_SMTP_HOST": "127.0.0.1", "TOOLKIT_SMTP_PORT": str(smtp.port),
               "TOOLKIT_SMTP_SECURITY": "starttls", "TOOLKIT_SMTP_USER": OFFICE_MAIL,
               "TOOLKIT_SMTP_PASSWORD": smtp.password, "TOOLKIT_SMTP_CAFILE": str(cert),
               "TOOLKIT_MAIL_REPLY_TO": INBOX_USER,
               "TOOLKIT_IMAP_HOST": "127.0.0.1", "TOOLKIT_IMAP_PORT": str(imap.imaps_port),
               "TOOLKIT_IMAP_SECURITY": "ssl", "TOOLKIT_IMAP_USER": INBOX_USER,
               "TOOLKIT_IMAP_PASSWORD": INBOX_PASSWORD, "TOOLKIT_IMAP_CAFILE": str(cert)}

        # 1. templates out: one message per unit, its own workbook attached
        make_templates(CAMPAIGN, units, office, templates)
        result = runner.invoke(mail_group, ["send-templates", str(templates), *common], env=env)
        assert result.exit_code == 0, result.output
        sent = {r.rcpt_tos[0]: r.message for r in smtp.received}
        assert set(sent) == {u.email for u in units.children("TX")}
        assert all(m["Reply-To"] == INBOX_USER for m in sent.values())

        # 2. the units answer into the office's mailbox (arrival order ≠ reply date order)
        for code in ("TX02", "TX04", "TX01", "TX05"):
            imap.append(INBOX_USER, reply_to_template(sent[units.get(code).email], code, units),
                        when=calendar.timegm(REPLIES[code][0].utctimetuple()) + 120)

        # 3. fetch: every workbook saved once, with sender, Date, Message-ID, subject
        result = runner.invoke(mail_group, ["fetch", str(inbox)], env=env)
        assert result.exit_code == 0, result.output
        assert "Đã lưu 4 tệp mới" in result.output
        arrivals = read_manifest(inbox)
        assert {a.date for a in arrivals.values()} == {r[0] for r in REPLIES.values()}
        again = runner.invoke(mail_group, ["fetch", str(inbox)], env=env)
        assert "Đã lưu 0 tệp mới" in again.output

        # 4. consolidate: lateness from the message dates, not from file times
        run = consolidate(inbox, CAMPAIGN, units, office)
        write_outputs(run, run.frames, out)
        table = {r["unit_code"]: r for r in rows(out / "submissions.csv")}
        assert {c: table[c]["status"] for c in table} == {
            "TX01": "accepted", "TX02": "accepted", "TX04": "rejected", "TX05": "accepted",
            "TX32": "missing"}
        assert {c: table[c]["late"] for c in table} == {
            "TX01": "no", "TX02": "yes", "TX04": "no", "TX05": "no", "TX32": ""}
        for code, (when, _, _) in REPLIES.items():
            assert dt.datetime.fromisoformat(table[code]["received_at"]) == when
        # the file TX05 sent from a personal address is flagged
        assert sender_mismatches(arrivals, run.submissions, units) == [
            (table["TX05"]["file"], "TX05", "bithu.xuantruong@gmail.example",
             "xuantruong@thoxuan.doan.example")]

        # 5. feedback: the unit with errors gets its feedback workbook
        smtp.received.clear()
        result = runner.invoke(mail_group, ["send-feedback", "--results", str(out),
                                            "--today", "2021-01-21", *common], env=env)
        assert result.exit_code == 0, result.output
        feedback_files = {p.name.split("_")[0]: p for p in (out / "feedback").iterdir()}
        got = {r.rcpt_tos[0]: r.message for r in smtp.received}
        assert set(got) == {units.get(code).email for code in feedback_files}
        assert units.get("TX04").email in got
        to_tx04 = got[units.get("TX04").email]
        assert to_tx04["Subject"].endswith("cần sửa và gửi lại")
        (part,) = list(to_tx04.iter_attachments())
        assert part.get_content() == feedback_files["TX04"].read_bytes()

        # 6. reminders: the missing unit and the rejected one, with days late
        smtp.received.clear()
        result = runner.invoke(mail_group, ["remind", "--results", str(out),
                                            "--today", "2021-01-23", *common], env=env)
        assert result.exit_code == 0, result.output
        reminded = {r.rcpt_tos[0]: r.message for r in smtp.received}
        assert set(reminded) == {units.get("TX32").email, units.get("TX04").email}
        missing = reminded[units.get("TX32").email]
        assert missing["Subject"] == ("[161-KH/ĐTN] Nhắc nộp báo cáo: Đoàn xã Thuận Minh (TX32) "
                                      "— hạn 20/01/2021, đã quá hạn 3 ngày")
        assert "chưa nhận được báo cáo" in missing.get_body(("plain",)).get_content()
        assert len(smtp.received) == 2
