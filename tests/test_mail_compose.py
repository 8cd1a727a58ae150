"""Mail without servers: messages, settings, what is planned, dry runs, the sent log, CLI.

The expected texts are written here from the plan (161-KH/ĐTN, cơ sở deadline 20/01/2021),
not read back from the code under test.
"""

from __future__ import annotations

import datetime as dt
import json
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli.mail import mail_group
from toolkit.mail.compose import (
    Attachment,
    days_phrase,
    eml_bytes,
    feedback_message,
    recipients,
    reminder_message,
    sender_address,
    template_message,
)
from toolkit.mail.send import (
    SENT_LOG,
    _log_sent,
    deliver,
    plan_feedback,
    plan_reminders,
    plan_templates,
    read_results,
    read_sent_log,
)
from toolkit.mail.settings import MailError, is_loopback, make_settings
from toolkit.spec.load import load_campaign
from toolkit.spec.units import load_units
from toolkit.write.templates import make_templates

CAMPAIGN = load_campaign("nq02-2020")
UNITS_CSV = """code,name,level,parent,email
HD,Huyện đoàn Thử Nghiệm,huyen,,vanphong@hd.example
X1,Đoàn xã Xuân Hồng,co_so,HD,xuanhong@hd.example
X2,Đoàn xã Thọ Lập,co_so,HD,"tholap@hd.example; bithu.tholap@hd.example"
X3,Đoàn xã Không Thư,co_so,HD,
"""
NOW = dt.datetime(2021, 1, 7, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=7)))


def parse(data: bytes):
    return BytesParser(policy=policy.default).parsebytes(data)


@pytest.fixture()
def units(tmp_path: Path):
    path = tmp_path / "units.csv"
    path.write_text(UNITS_CSV, encoding="utf-8")
    return load_units(path)


@pytest.fixture()
def sender():
    return sender_address("Huyện đoàn Thử Nghiệm", "vanphong@hd.example")


# --------------------------------------------------------------------------- compose


def test_template_message_is_vietnamese_addressed_and_attached(units, sender) -> None:
    unit = units.get("X1")
    att = Attachment("Biểu mẫu Xuân Hồng.xlsx", b"PK\x03\x04 workbook bytes")
    msg = template_message(CAMPAIGN, units.get("HD"), unit, sender, att,
                           reply_to="hopthu@hd.example", now=NOW)
    raw = bytes(msg)
    back = parse(raw)
    assert back["To"] == "xuanhong@hd.example"
    assert back["From"].addresses[0].display_name == "Huyện đoàn Thử Nghiệm"
    assert back["From"].addresses[0].addr_spec == "vanphong@hd.example"
    assert back["Reply-To"] == "hopthu@hd.example"
    assert back["Subject"] == "[161-KH/ĐTN] Biểu mẫu báo cáo gửi Đoàn xã Xuân Hồng (X1)"
    assert back["Message-ID"].endswith("@hd.example>")
    body = back.get_body(("plain",)).get_content()
    assert "Kính gửi: Đoàn xã Xuân Hồng" in body
    assert "Kế hoạch số 161-KH/ĐTN ngày 06/01/2021" in body
    assert "Tổng kết 5 năm thực hiện Nghị quyết số 02-NQ/TU" in body
    assert "cấp cơ sở: chậm nhất ngày 20/01/2021" in body
    assert "ô nền vàng" in body and "trả lời thư này" in body
    # the non-ASCII file name travels RFC 2231-encoded and comes back exactly
    assert b"filename*=utf-8''Bi%E1%BB%83u" in raw
    (part,) = list(back.iter_attachments())
    assert part.get_filename() == "Biểu mẫu Xuân Hồng.xlsx"
    assert part.get_content() == att.data
    assert part.get_content_type() == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def test_deadline_phrases() -> None:
    deadline = dt.date(2021, 1, 20)
    assert days_phrase(deadline, dt.date(2021, 1, 17)) == "còn 3 ngày"
    assert days_phrase(deadline, dt.date(2021, 1, 20)) == "hôm nay là hạn cuối"
    assert days_phrase(deadline, dt.date(2021, 1, 22)) == "đã quá hạn 2 ngày"
    assert days_phrase(None, dt.date(2021, 1, 22)) == ""


def test_reminder_and_feedback_texts(units, sender) -> None:
    office, unit = units.get("HD"), units.get("X2")
    late = parse(bytes(reminder_message(CAMPAIGN, office, unit, sender, status="missing",
                                        today=dt.date(2021, 1, 23), now=NOW)))
    # a long subject is folded over several encoded words: no space may get lost
    assert late["Subject"] == ("[161-KH/ĐTN] Nhắc nộp báo cáo: Đoàn xã Thọ Lập (X2) — hạn "
                               "20/01/2021, đã quá hạn 3 ngày")
    assert late["To"] == "tholap@hd.example, bithu.tholap@hd.example"
    body = late.get_body(("plain",)).get_content()
    assert "chưa nhận được báo cáo" in body and "(đã quá hạn 3 ngày)" in body
    rejected = reminder_message(CAMPAIGN, office, unit, sender, status="rejected",
                                today=dt.date(2021, 1, 18), now=NOW)
    assert "còn 2 ngày" in rejected["Subject"]
    assert "còn lỗi" in rejected.get_body(("plain",)).get_content()
    fb = feedback_message(CAMPAIGN, office, unit, sender, Attachment("X2_phan-hoi.xlsx", b"x"),
                          status="rejected", errors=2, warnings=1, file="X2.xlsx",
                          today=dt.date(2021, 1, 18), now=NOW)
    text = fb.get_body(("plain",)).get_content()
    assert "2 lỗi, 1 cảnh báo" in text and "Lỗi cần sửa" in text and "X2.xlsx" in text
    assert fb["Subject"].endswith("cần sửa và gửi lại")
    ok = feedback_message(CAMPAIGN, office, unit, sender, Attachment("f.xlsx", b"x"),
                          status="accepted", errors=0, warnings=3, now=NOW)
    assert ok["Subject"].endswith("đã tiếp nhận")
    assert "đã được tiếp nhận" in ok.get_body(("plain",)).get_content()


def test_recipients_and_sender(units) -> None:
    assert recipients(units.get("X2")) == ["tholap@hd.example", "bithu.tholap@hd.example"]
    assert recipients(units.get("X3")) == []
    with pytest.raises(MailError, match="người gửi không hợp lệ"):
        sender_address("HD", "không-phải-địa-chỉ")


def test_eml_is_crlf_and_opens_as_a_draft(units, sender) -> None:
    msg = template_message(CAMPAIGN, units.get("HD"), units.get("X1"), sender,
                           Attachment("a.xlsx", b"x"), now=NOW)
    data = eml_bytes(msg)
    assert data.startswith(b"X-Unsent: 1\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert parse(data)["Subject"] == msg["Subject"]


# --------------------------------------------------------------------------- settings


def test_security_none_only_on_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("mail.example.com") and not is_loopback("10.0.0.1")
    with pytest.raises(MailError, match="chỉ dùng cho máy chủ thử nghiệm"):
        make_settings("smtp", "mail.example.com", 25, "none", "u")
    assert make_settings("smtp", "127.0.0.1", None, "none").port == 25
    assert make_settings("smtp", "smtp.example.com", None, "ssl").port == 465
    assert make_settings("imap", "imap.example.com", None, "starttls").port == 143
    with pytest.raises(MailError, match="TOOLKIT_IMAP_HOST"):
        make_settings("imap", None, None, "ssl")
    with pytest.raises(MailError, match="không hợp lệ"):
        make_settings("smtp", "h", None, "tls13")


def test_password_is_not_part_of_settings() -> None:
    settings = make_settings("smtp", "smtp.example.com", None, "ssl", "user@example.com")
    assert "password" not in repr(settings).lower()


# --------------------------------------------------------------------------- planning


def _results(folder: Path, submissions: str, findings: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "submissions.csv").write_text(
        "\ufeffunit_code,unit_name,status,file,sha256,received_at,late\r\n" + submissions,
        encoding="utf-8")
    (folder / "findings.csv").write_text(
        "\ufefffile,unit_code,form,cell,column,severity,code,message\r\n" + findings,
        encoding="utf-8")
    return folder


def test_read_results_picks_the_chosen_file(tmp_path: Path) -> None:
    out = _results(tmp_path / "out",
                   "X1,a,accepted,x1-new.xlsx,s,2021-01-15T09:00:00+07:00,no\r\n"
                   "X1,a,superseded,x1-old.xlsx,s,2021-01-14T09:00:00+07:00,no\r\n"
                   "X2,b,rejected,x2.xlsx,s,2021-01-21T09:00:00+07:00,yes\r\n"
                   "X3,c,missing,,,,\r\n",
                   "x1-old.xlsx,X1,PL2,E9,c,error,e,m\r\n"
                   "x1-new.xlsx,X1,PL2,E9,c,warning,w,m\r\n"
                   "x2.xlsx,X2,PL2,E9,c,error,e,m\r\nx2.xlsx,X2,PL4,C5,c,error,e,m\r\n")
    results = read_results(out)
    assert results["X1"].status == "accepted" and results["X1"].file == "x1-new.xlsx"
    assert (results["X1"].errors, results["X1"].warnings) == (0, 1)
    assert (results["X2"].status, results["X2"].errors) == ("rejected", 2)
    assert results["X3"].status == "missing"
    with pytest.raises(MailError, match="toolkit consolidate"):
        read_results(tmp_path / "chưa-chạy")


def test_plans_choose_the_right_units(tmp_path: Path, units, sender) -> None:
    office = units.get("HD")
    templates = tmp_path / "templates"
    make_templates(CAMPAIGN, units, office, templates)
    plan = plan_templates(CAMPAIGN, units, office, templates, sender, now=NOW)
    assert [o.unit.code for o in plan.outgoing] == ["X1", "X2"]
    assert [(u.code, why) for u, why in plan.skipped] == [
        ("X3", "chưa có địa chỉ e-mail trong tệp đơn vị")]
    first = plan.outgoing[0]
    assert first.attachments[0].name == "nq02-2020_X1_doan-xa-xuan-hong.xlsx"
    assert first.attachments[0].data == (templates / first.attachments[0].name).read_bytes()
    assert first.key == f"nq02-2020|templates|X1|{first.attachments[0].sha256}"
    with pytest.raises(MailError, match="Không phải đơn vị trực thuộc"):
        plan_templates(CAMPAIGN, units, office, templates, sender, only=["ZZ"])

    out = _results(tmp_path / "out", "X1,a,accepted,x1.xlsx,s,,\r\nX2,b,rejected,x2.xlsx,s,,\r\n",
                   "x2.xlsx,X2,PL2,E9,c,error,e,m\r\n")
    feedback = out / "feedback"
    feedback.mkdir()
    (feedback / "X2_nq02-2020_phan-hoi.xlsx").write_bytes(b"feedback X2")
    plan = plan_feedback(CAMPAIGN, units, office, out, sender, today=dt.date(2021, 1, 18))
    assert [o.unit.code for o in plan.outgoing] == ["X2"]
    assert plan.outgoing[0].attachments[0].data == b"feedback X2"

    plan = plan_reminders(CAMPAIGN, units, office, out, sender, today=dt.date(2021, 1, 18),
                          templates_dir=templates)
    assert [o.unit.code for o in plan.outgoing] == ["X2"]  # X1 accepted, X3 has no address
    assert plan.outgoing[0].attachments[0].name == "X2_nq02-2020_phan-hoi.xlsx"
    assert plan.outgoing[0].variant == "rejected@2021-01-18"
    assert [u.code for u, _ in plan.skipped] == ["X3"]


def test_dry_run_writes_eml_and_never_marks_sent(tmp_path: Path, units, sender) -> None:
    office = units.get("HD")
    make_templates(CAMPAIGN, units, office, tmp_path / "t")
    plan = plan_templates(CAMPAIGN, units, office, tmp_path / "t", sender, now=NOW)
    report = deliver(plan, tmp_path / "mail", dry_run=True)
    names = sorted(p.name for p in report.written)
    assert names == ["nq02-2020_templates_X1.eml", "nq02-2020_templates_X2.eml"]
    msg = parse((tmp_path / "mail" / "dry-run" / names[0]).read_bytes())
    (part,) = list(msg.iter_attachments())
    assert part.get_content() == plan.outgoing[0].attachments[0].data
    assert not (tmp_path / "mail" / SENT_LOG).exists()
    # a key already in the log is skipped, even in a dry run
    _log_sent(tmp_path / "mail", plan.outgoing[0], NOW)
    assert read_sent_log(tmp_path / "mail") == {plan.outgoing[0].key}
    again = deliver(plan, tmp_path / "mail", dry_run=True)
    assert [o.unit.code for o in again.sent] == ["X2"]
    assert ("X1", "đã gửi trước đây (dùng --resend để gửi lại)") in [
        (u.code, why) for u, why in again.skipped]
    record = json.loads((tmp_path / "mail" / SENT_LOG).read_text(encoding="utf-8"))
    assert record["unit"] == "X1" and record["kind"] == "templates"
    assert record["sha256"] == [plan.outgoing[0].attachments[0].sha256]


# --------------------------------------------------------------------------- CLI


def test_no_command_takes_a_password_option() -> None:
    for command in mail_group.commands.values():
        for param in command.params:
            assert "password" not in (param.name or "").lower()
            assert not any("pass" in opt for opt in getattr(param, "opts", []))
    result = CliRunner().invoke(mail_group, ["fetch", "inbox", "--imap-password", "x"])
    assert result.exit_code == 2 and "Không có tùy chọn" in result.output


def test_cli_dry_run_and_clear_errors(tmp_path: Path) -> None:
    units_path = tmp_path / "units.csv"
    units_path.write_text(UNITS_CSV, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(mail_group, ["make-nothing"])
    assert result.exit_code == 2
    result = runner.invoke(mail_group, [
        "send-templates", str(tmp_path / "không-có"), "--units", str(units_path), "--office", "HD",
        "--dry-run", "--from", "vanphong@hd.example"])
    assert result.exit_code == 1
    assert "Không tìm thấy thư mục biểu mẫu" in result.output
    assert "Traceback" not in result.output
    load = load_units(units_path)
    make_templates(CAMPAIGN, load, load.get("HD"), tmp_path / "t")
    result = runner.invoke(mail_group, [
        "send-templates", str(tmp_path / "t"), "--units", str(units_path), "--office", "HD",
        "--dry-run", "--out", str(tmp_path / "mail")],
        env={"TOOLKIT_MAIL_FROM": "vanphong@hd.example"})
    assert result.exit_code == 0, result.output
    assert "Đã ghi (chạy thử, chưa gửi) 2 thư biểu mẫu." in result.output
    assert "X3 Đoàn xã Không Thư: chưa có địa chỉ e-mail" in result.output
    result = runner.invoke(mail_group, [
        "send-templates", str(tmp_path / "t"), "--units", str(units_path), "--office", "HD",
        "--smtp-host", "smtp.example.com", "--smtp-security", "none",
        "--from", "vanphong@hd.example"])
    assert result.exit_code == 1
    assert "chỉ dùng cho máy chủ thử nghiệm" in result.output
    result = runner.invoke(mail_group, [
        "send-templates", str(tmp_path / "t"), "--units", str(units_path), "--office", "HD",
        "--dry-run"],
        env={"TOOLKIT_MAIL_FROM": None, "TOOLKIT_SMTP_USER": None})
    assert result.exit_code == 1 and "Chưa có địa chỉ người gửi" in result.output
