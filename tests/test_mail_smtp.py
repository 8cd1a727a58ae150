"""Sending against a real SMTP server (aiosmtpd) on 127.0.0.1: STARTTLS and SSL with
authentication, the sent log, and one clear Vietnamese message per failure."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from mailservers import SmtpServer, free_port, make_certificate

from toolkit._infra.paths import samples_dir
from toolkit.cli.mail import mail_group
from toolkit.mail.send import SENT_LOG
from toolkit.spec.load import load_campaign
from toolkit.spec.units import load_units
from toolkit.write.templates import make_templates, template_filename

CAMPAIGN = load_campaign("nq02-2020")
UNITS = load_units(samples_dir() / "units.csv")
OFFICE = UNITS.get("TX")
CHILDREN = UNITS.children("TX")
FROM = "vanphong@thoxuan.doan.example"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("templates")
    make_templates(CAMPAIGN, UNITS, OFFICE, folder)
    return folder


def smtp_env(server: SmtpServer, cert: Path, **extra: str | None) -> dict[str, str | None]:
    env = {"TOOLKIT_SMTP_HOST": "127.0.0.1", "TOOLKIT_SMTP_PORT": str(server.port),
           "TOOLKIT_SMTP_SECURITY": server.security, "TOOLKIT_SMTP_USER": server.user,
           "TOOLKIT_SMTP_PASSWORD": server.password, "TOOLKIT_SMTP_CAFILE": str(cert),
           "TOOLKIT_MAIL_FROM": FROM, "TOOLKIT_MAIL_REPLY_TO": "hopthu@thoxuan.doan.example"}
    env.update(extra)
    return env


def all_text(folder: Path) -> str:
    return "".join(p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*")
                   if p.is_file())


def test_send_templates_over_starttls_once(certificate, templates, tmp_path: Path) -> None:
    cert, key = certificate
    mail_dir = tmp_path / "mail"
    runner = CliRunner()
    args = ["send-templates", str(templates), "--office", "TX", "--out", str(mail_dir)]
    with SmtpServer(cert, key, security="starttls") as server:
        env = smtp_env(server, cert)
        result = runner.invoke(mail_group, args, env=env)
        assert result.exit_code == 0, result.output
        assert f"Đã gửi {len(CHILDREN)} thư biểu mẫu." in result.output
        assert len(server.received) == len(CHILDREN)
        for unit, got in zip(CHILDREN, server.received, strict=True):
            msg = got.message
            assert got.login == server.user  # authenticated, after STARTTLS
            assert got.rcpt_tos == [unit.email] and got.mail_from == FROM
            assert msg["Subject"] == (f"[161-KH/ĐTN] Biểu mẫu báo cáo gửi {unit.name} "
                                      f"({unit.code})")
            assert msg["From"].addresses[0].display_name == "Huyện đoàn Thọ Xuân"
            assert msg["Reply-To"] == "hopthu@thoxuan.doan.example"
            body = msg.get_body(("plain",)).get_content()
            assert "chậm nhất ngày 20/01/2021" in body and unit.name in body
            (part,) = list(msg.iter_attachments())
            name = template_filename(CAMPAIGN, unit)
            assert part.get_filename() == name
            assert part.get_content() == (templates / name).read_bytes()
        # a second run sends nothing; --resend sends again what is asked
        again = runner.invoke(mail_group, args, env=env)
        assert again.exit_code == 0, again.output
        assert "Đã gửi 0 thư biểu mẫu." in again.output
        assert f"Bỏ qua {len(CHILDREN)} đơn vị" in again.output
        assert len(server.received) == len(CHILDREN)
        resend = runner.invoke(mail_group, [*args, "--resend", "--unit", "TX05"], env=env)
        assert resend.exit_code == 0, resend.output
        assert len(server.received) == len(CHILDREN) + 1
        assert server.received[-1].rcpt_tos == [UNITS.get("TX05").email]
    log = (mail_dir / SENT_LOG).read_text(encoding="utf-8").splitlines()
    assert len(log) == len(CHILDREN) + 1
    for output in (result.output, again.output, resend.output, all_text(mail_dir)):
        assert server.password not in output


def test_ssl_with_the_password_typed_at_the_prompt(certificate, templates,
                                                   tmp_path: Path) -> None:
    cert, key = certificate
    with SmtpServer(cert, key, security="ssl") as server:
        env = smtp_env(server, cert, TOOLKIT_SMTP_PASSWORD=None)
        result = CliRunner().invoke(
            mail_group, ["send-templates", str(templates), "--office", "TX", "--unit", "TX01",
                         "--unit", "TX02", "--out", str(tmp_path)],
            env=env, input=server.password + "\n")
        assert result.exit_code == 0, result.output
        assert "Mật khẩu SMTP của vanphong@thoxuan.doan.example" in result.output
        assert server.password not in result.output  # hidden input is not echoed
        assert [r.rcpt_tos for r in server.received] == [[UNITS.get("TX01").email],
                                                         [UNITS.get("TX02").email]]
        assert {r.login for r in server.received} == {server.user}
        # no password and no terminal to ask: a clear message
        result = CliRunner().invoke(
            mail_group, ["send-templates", str(templates), "--office", "TX", "--unit", "TX03",
                         "--out", str(tmp_path)], env=env, input="")
        assert result.exit_code == 1
        assert "Chưa có mật khẩu SMTP" in result.output and "TOOLKIT_SMTP_PASSWORD" in result.output


CASES = {
    "wrong-password": ("starttls", {"TOOLKIT_SMTP_PASSWORD": "sai-mật-khẩu"},
                       "từ chối đăng nhập của vanphong@thoxuan.doan.example: sai tên đăng nhập "
                       "hoặc mật khẩu"),
    "server-down": ("starttls", {"TOOLKIT_SMTP_PORT": "down"},
                    "máy chủ không chạy hoặc sai cổng"),
    "starttls-refused": ("none", {"TOOLKIT_SMTP_SECURITY": "starttls"},
                         "không hỗ trợ STARTTLS"),
    "untrusted-certificate": ("ssl", {"TOOLKIT_SMTP_CAFILE": None},
                              "không được tin cậy"),
    "ssl-on-a-starttls-port": ("starttls", {"TOOLKIT_SMTP_SECURITY": "ssl"},
                               "từ chối kết nối TLS/SSL"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_connection_failures_are_one_clear_line(case: str, certificate, templates,
                                                tmp_path: Path) -> None:
    cert, key = certificate
    security, changes, expected = CASES[case]
    with SmtpServer(cert, key, security=security) as server:
        env = smtp_env(server, cert, **changes)
        if env.get("TOOLKIT_SMTP_PORT") == "down":
            env["TOOLKIT_SMTP_PORT"] = str(free_port())
        result = CliRunner().invoke(
            mail_group, ["send-templates", str(templates), "--office", "TX", "--unit", "TX01",
                         "--out", str(tmp_path / "mail")], env=env)
        assert server.received == []
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lỗi: "), result.output
    assert expected in lines[0]
    assert server.password not in result.output and "Traceback" not in result.output
    assert not (tmp_path / "mail" / SENT_LOG).exists()


def test_a_refused_recipient_is_retried_next_time(certificate, templates,
                                                  tmp_path: Path) -> None:
    cert, key = certificate
    bad = UNITS.get("TX02").email
    args = ["send-templates", str(templates), "--office", "TX", "--unit", "TX01", "--unit",
            "TX02", "--unit", "TX03", "--out", str(tmp_path)]
    with SmtpServer(cert, key, refuse={bad}) as server:
        env = smtp_env(server, cert)
        result = CliRunner().invoke(mail_group, args, env=env)
        assert result.exit_code == 1
        assert "Đã gửi 2 thư biểu mẫu." in result.output
        assert "Không gửi được 1 thư:" in result.output and "TX02" in result.output
        server.refuse.clear()
        result = CliRunner().invoke(mail_group, args, env=env)
        assert result.exit_code == 0, result.output
        assert [r.rcpt_tos for r in server.received][-1] == [bad]
        assert len(server.received) == 3


def test_feedback_and_reminders(certificate, tmp_path: Path) -> None:
    cert, key = certificate
    results = tmp_path / "out"
    (results / "feedback").mkdir(parents=True)
    rows = ["TX01,a,accepted,tx01.xlsx,s,2021-01-15T09:00:00+07:00,no",
            "TX02,b,accepted,tx02.xlsx,s,2021-01-15T09:00:00+07:00,no",
            "TX03,c,rejected,tx03.xlsx,s,2021-01-16T09:00:00+07:00,no"]
    rows += [f"{u.code},{u.name},missing,,,," for u in CHILDREN[3:]]
    (results / "submissions.csv").write_text(
        "\ufeffunit_code,unit_name,status,file,sha256,received_at,late\r\n"
        + "\r\n".join(rows) + "\r\n", encoding="utf-8")
    (results / "findings.csv").write_text(
        "\ufefffile,unit_code,form,cell,column,severity,code,message\r\n"
        "tx02.xlsx,TX02,PL5,D8,c,warning,w,m\r\ntx03.xlsx,TX03,PL4,C9,c,error,e,m\r\n",
        encoding="utf-8")
    for code in ("TX02", "TX03"):
        (results / "feedback" / f"{code}_nq02-2020_phan-hoi.xlsx").write_bytes(code.encode())
    mail_dir = tmp_path / "mail"
    common = ["--office", "TX", "--results", str(results), "--out", str(mail_dir)]
    with SmtpServer(cert, key) as server:
        env = smtp_env(server, cert)
        result = CliRunner().invoke(mail_group, ["send-feedback", *common,
                                                 "--today", "2021-01-18"], env=env)
        assert result.exit_code == 0, result.output
        got = {r.rcpt_tos[0]: r.message for r in server.received}
        assert set(got) == {UNITS.get("TX02").email, UNITS.get("TX03").email}
        rejected = got[UNITS.get("TX03").email]
        assert rejected["Subject"].endswith("cần sửa và gửi lại")
        assert "1 lỗi, 0 cảnh báo" in rejected.get_body(("plain",)).get_content()
        assert [p.get_content() for p in rejected.iter_attachments()] == [b"TX03"]
        server.received.clear()

        result = CliRunner().invoke(mail_group, ["remind", *common, "--today", "23/01/2021"],
                                    env=env)
        assert result.exit_code == 0, result.output
        reminded = {r.rcpt_tos[0]: r.message for r in server.received}
        expected = {u.email for u in CHILDREN[2:]}  # TX03 rejected and every missing unit
        assert set(reminded) == expected
        late = reminded[UNITS.get("TX05").email]
        assert late["Subject"] == ("[161-KH/ĐTN] Nhắc nộp báo cáo: Đoàn xã Xuân Trường (TX05) "
                                   "— hạn 20/01/2021, đã quá hạn 3 ngày")
        assert list(late.iter_attachments()) == []
        assert [p.get_content() for p in reminded[UNITS.get("TX03").email].iter_attachments()
                ] == [b"TX03"]
        # at most one reminder a day
        again = CliRunner().invoke(mail_group, ["remind", *common, "--today", "2021-01-23"],
                                   env=env)
        assert "Đã gửi 0 thư nhắc nộp." in again.output
        next_day = CliRunner().invoke(mail_group, ["remind", *common, "--unit", "TX05",
                                                   "--today", "2021-01-24"], env=env)
        assert "Đã gửi 1 thư nhắc nộp." in next_day.output
        assert "đã quá hạn 4 ngày" in server.received[-1].message["Subject"]


def test_dates_are_vietnam_time(certificate, templates, tmp_path: Path) -> None:
    cert, key = certificate
    with SmtpServer(cert, key) as server:
        CliRunner().invoke(mail_group, ["send-templates", str(templates), "--office", "TX",
                                        "--unit", "TX01", "--out", str(tmp_path)],
                           env=smtp_env(server, cert))
        sent = server.received[0].message["Date"].datetime
    assert sent.utcoffset() == dt.timedelta(hours=7)
