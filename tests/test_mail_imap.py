"""Fetching from a real IMAP server: a private Dovecot on 127.0.0.1 (see ``mailservers``).

Skipped when dovecot is not installed, except under CI=true where that is a failure.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from mailservers import (
    Dovecot,
    attachment,
    cp1258,
    dovecot_binary,
    free_port,
    make_certificate,
    message,
    rfc2047,
    rfc2231,
    rfc2231_continued,
    zip_bytes,
)

from toolkit.cli.mail import mail_group
from toolkit.mail import fetch as fetch_module
from toolkit.mail import imap as imap_io
from toolkit.mail.imap import imap_mailbox
from toolkit.read.manifest import MANIFEST_NAME, read_manifest

USER = "hopthu@thoxuan.doan.example"
PASSWORD = "mật-khẩu-IMAP-thử"
USERS = {USER: PASSWORD, "hopthu2@thoxuan.doan.example": PASSWORD}
VN = dt.timezone(dt.timedelta(hours=7))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    dovecot_binary()  # skip (or fail under CI) before making anything
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def server(certificate):
    """One Dovecot for the module; each test that reads mail has its own account."""
    cert, key = certificate
    with Dovecot(cert, key, USERS) as dovecot:
        yield dovecot


def imap_env(server: Dovecot, security: str = "ssl", user: str = USER,
             **extra: str | None) -> dict:
    port = server.imaps_port if security == "ssl" else server.imap_port
    env = {"TOOLKIT_IMAP_HOST": "127.0.0.1", "TOOLKIT_IMAP_PORT": str(port),
           "TOOLKIT_IMAP_SECURITY": security, "TOOLKIT_IMAP_USER": user,
           "TOOLKIT_IMAP_PASSWORD": PASSWORD, "TOOLKIT_IMAP_CAFILE": str(server.cert)}
    env.update(extra)
    return env


def when(day: int, hour: int = 9) -> float:
    return calendar.timegm(dt.datetime(2021, 1, day, hour, tzinfo=VN).utctimetuple())


def reply(code: str, name: str, parts: list[bytes], day: int, *, sender: str | None = None,
          message_id: str | None = None) -> bytes:
    return message(sender=sender or f"Đoàn {code} <{code.lower()}@thoxuan.doan.example>",
                   subject=f"Re: Biểu mẫu báo cáo gửi {name} ({code})",
                   date=f"{day:02d} Jan 2021 10:30:00 +0700",
                   message_id=message_id or f"<{code.lower()}-{day}@thoxuan.doan.example>",
                   parts=parts)


def workbook(code: str) -> bytes:
    return f"PK\x03\x04 workbook of {code}".encode()


def folder_files(inbox: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in inbox.iterdir() if p.name != MANIFEST_NAME}


@pytest.mark.parametrize("folder", ["INBOX", "Từng phần"])
def test_fetch_saves_every_workbook_once(server: Dovecot, tmp_path: Path, folder: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """In "Từng phần" every message is read as a large one is (never whole: its parts
    from BODYSTRUCTURE, streamed to disk): the same files, names and manifest."""
    if folder != "INBOX":
        monkeypatch.setattr(fetch_module, "MAX_MESSAGE_IN_MEMORY", 0)
    streamed: list[str] = []
    read_part = imap_io.read_part
    monkeypatch.setattr(imap_io, "read_part", lambda imap, uid, section, spool: (
        streamed.append(section), read_part(imap, uid, section, spool))[1])
    nfd = "Xa\u0303 Xua\u0302n Tru\u031bo\u031b\u0300ng.xlsx"  # macOS Mail decomposes
    cp = "Phụ lục - xã Xuân Giang.xlsx"
    mails = [
        reply("TX01", "Đoàn thị trấn Thọ Xuân",
              [attachment(workbook("TX01"), rfc2231("Thị trấn Thọ Xuân.xlsx"))], 15),
        reply("TX02", "Đoàn thị trấn Lam Sơn",
              [attachment(workbook("TX02"), rfc2047("Lam Sơn – báo cáo.xlsx"))], 16),
        reply("TX05", "Đoàn xã Xuân Trường", [attachment(workbook("TX05"), rfc2231(nfd))], 17),
        reply("TX06", "Đoàn xã Xuân Giang",
              [attachment(workbook("TX06"), "attachment; filename*=windows-1258''"
                          + "".join(f"%{b:02X}" for b in cp1258(cp)))], 18),
        reply("TX07", "Đoàn xã Xuân Sinh",
              [attachment(zip_bytes({"Báo cáo/Xuân Sinh.xlsx": workbook("TX07"),
                                     "../Xuân Hưng.ods": workbook("TX08")}),
                          rfc2231_continued("hai xã.zip"), "application/zip")], 19),
        reply("TX09", "Đoàn xã Xuân Lai",
              [attachment(workbook("TX09"), b'attachment; filename="'
                          + "Xuân Lai.xlsx".encode() + b'"')], 21),
        reply("TX11", "Đoàn xã Thọ Lập", [  # forwarded: a message in a message in a message
            b"Content-Type: message/rfc822\r\n\r\n" + reply("TX12", "Đoàn xã Xuân Tín", [
                attachment(workbook("TX11"), rfc2231("Thọ Lập.xlsx")),
                b"Content-Type: message/rfc822\r\n\r\n" + reply("TX13", "Đoàn xã Phú Xuân", [
                    attachment(workbook("TX13"), rfc2047("Phú Xuân.ods"),
                               "application/vnd.oasis.opendocument.spreadsheet")], 9)],
                8)], 20),
        reply("TX10", "Đoàn xã Xuân Lập", [], 19),                      # no attachment
        b"\x01\xff\xfe garbage, not a message \x80\x81\r\n\r\n\xff\r\n",  # malformed
    ]
    for i, raw in enumerate(mails):
        server.append(USER, raw, when=when(15 + i), folder=folder)
    # the same message twice in the mailbox
    server.append(USER, mails[0], when=when(22), folder=folder)
    inbox = tmp_path / "inbox"
    args = ["fetch", str(inbox), "--folder", folder]
    result = CliRunner().invoke(mail_group, args, env=imap_env(server))
    assert result.exit_code == 0, result.output
    assert f"Đã đọc 9 thư trong {folder}" in result.output
    # parts read one by one: the nested ones by their IMAP section numbers
    assert set(streamed) == (set() if folder == "INBOX" else
                             {"2", "2.2", "2.3.2"})
    assert "Bỏ qua 1 thư đã tải (trùng Message-ID)." in result.output
    assert "Đã lưu 9 tệp mới" in result.output
    assert "thư hỏng" in result.output and "không có tệp Excel/ODS đính kèm" in result.output
    expected = {
        "Thị trấn Thọ Xuân.xlsx": workbook("TX01"),
        "Lam Sơn – báo cáo.xlsx": workbook("TX02"),
        "Xã Xuân Trường.xlsx": workbook("TX05"),
        cp: workbook("TX06"),
        "Xuân Sinh.xlsx": workbook("TX07"),
        "Xuân Hưng.ods": workbook("TX08"),
        "Xuân Lai.xlsx": workbook("TX09"),
        "Thọ Lập.xlsx": workbook("TX11"),
        "Phú Xuân.ods": workbook("TX13"),
    }
    assert folder_files(inbox) == expected
    arrivals = read_manifest(inbox)
    assert set(arrivals) == set(expected)
    first = arrivals["Thị trấn Thọ Xuân.xlsx"]
    assert first.sender == "tx01@thoxuan.doan.example"
    assert first.date == dt.datetime(2021, 1, 15, 10, 30, tzinfo=VN)
    assert first.message_id == "<tx01-15@thoxuan.doan.example>"
    assert first.subject == "Re: Biểu mẫu báo cáo gửi Đoàn thị trấn Thọ Xuân (TX01)"
    assert arrivals["Xuân Hưng.ods"].message_id == "<tx07-19@thoxuan.doan.example>"
    assert not (tmp_path / "Xuân Hưng.ods").exists()
    manifest = (inbox / MANIFEST_NAME).read_bytes()

    again = CliRunner().invoke(mail_group, args, env=imap_env(server))
    assert again.exit_code == 0, again.output
    assert "Đã lưu 0 tệp mới" in again.output
    assert "Bỏ qua 8 thư đã tải (trùng Message-ID)." in again.output
    assert (inbox / MANIFEST_NAME).read_bytes() == manifest
    assert folder_files(inbox) == expected
    # read-only: nothing was marked as read on the server
    imap = server.client(USER)
    imap.select(imap_mailbox(folder))
    typ, flags = imap.fetch("1:*", "(FLAGS)")
    imap.logout()
    assert typ == "OK" and not any(b"\\Seen" in f for f in flags)
    assert PASSWORD not in result.output + again.output


def test_starttls_folder_and_since(server: Dovecot, tmp_path: Path) -> None:
    old = reply("TX11", "Đoàn xã Xuân Minh", [attachment(b"old", rfc2231("cũ.xlsx"))], 10)
    new = reply("TX12", "Đoàn xã Xuân Phú", [attachment(b"new", rfc2231("mới.xlsx"))], 20)
    other = "hopthu2@thoxuan.doan.example"
    server.append(other, old, when=when(10), folder="Báo cáo Đoàn")
    server.append(other, new, when=when(20), folder="Báo cáo Đoàn")
    result = CliRunner().invoke(
        mail_group, ["fetch", str(tmp_path), "--folder", "Báo cáo Đoàn", "--since", "15/01/2021"],
        env=imap_env(server, "starttls", user=other))
    assert result.exit_code == 0, result.output
    assert "Đã đọc 1 thư trong Báo cáo Đoàn" in result.output
    assert folder_files(tmp_path) == {"mới.xlsx": b"new"}


FAILURES = {  # a wrong password has its own server: Dovecot then slows that address down
    "server-down": ({"TOOLKIT_IMAP_PORT": "down"}, "máy chủ không chạy hoặc sai cổng"),
    "untrusted-certificate": ({"TOOLKIT_IMAP_CAFILE": None}, "không được tin cậy"),
    "ssl-on-the-plain-port": ({"TOOLKIT_IMAP_PORT": "plain"}, "từ chối kết nối TLS/SSL"),
    "no-such-folder": ({"TOOLKIT_IMAP_FOLDER": "Không có"},
                       "Không mở được thư mục 'Không có'"),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_failures_are_one_clear_line(case: str, server: Dovecot, tmp_path: Path) -> None:
    changes, expected = FAILURES[case]
    env = imap_env(server, **changes)
    if env["TOOLKIT_IMAP_PORT"] == "down":
        env["TOOLKIT_IMAP_PORT"] = str(free_port())
    elif env["TOOLKIT_IMAP_PORT"] == "plain":
        env["TOOLKIT_IMAP_PORT"] = str(server.imap_port)
    result = CliRunner().invoke(mail_group, ["fetch", str(tmp_path / "inbox")], env=env)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lỗi: "), result.output
    assert expected in lines[0]
    assert PASSWORD not in result.output and "Traceback" not in result.output
    assert not (tmp_path / "inbox" / MANIFEST_NAME).exists()


def test_wrong_password(certificate, tmp_path: Path) -> None:
    cert, key = certificate
    with Dovecot(cert, key, USERS) as fresh:
        result = CliRunner().invoke(mail_group, ["fetch", str(tmp_path)],
                                    env=imap_env(fresh, TOOLKIT_IMAP_PASSWORD="sai-mật-khẩu"))
    assert result.exit_code == 1
    assert result.output == (f"Lỗi: Máy chủ IMAP 127.0.0.1:{fresh.imaps_port} từ chối đăng "
                             f"nhập của {USER}: sai tên đăng nhập hoặc mật khẩu "
                             f"(TOOLKIT_IMAP_PASSWORD)\n")


def test_starttls_refused_by_a_server_without_tls(certificate, tmp_path: Path) -> None:
    cert, key = certificate
    with Dovecot(cert, key, USERS, tls=False) as plain:
        result = CliRunner().invoke(mail_group, ["fetch", str(tmp_path)],
                                    env=imap_env(plain, "starttls"))
    assert result.exit_code == 1
    assert re.fullmatch(r"Lỗi: Máy chủ IMAP 127\.0\.0\.1:\d+ không hỗ trợ STARTTLS.*\n",
                        result.output)


def test_a_missing_server_program_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    from mailservers import missing

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must install it"):
        missing("dovecot")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        missing("dovecot")
