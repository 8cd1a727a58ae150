"""Hardening: no mailbox can crash (or fool) a fetch.

Each test is one class of hostile or unlucky mail, with several members. Messages are raw
RFC 5322 bytes (built by ``mailservers`` or the ``email`` package) fed to ``save_message``,
the function ``fetch`` calls for each message; one test goes through a real Dovecot.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import hashlib
import io
import os
import random
import subprocess
import sys
import textwrap
import unicodedata
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest
from click.testing import CliRunner
from mailservers import (
    Dovecot,
    attachment,
    cp1258,
    dovecot_binary,
    make_certificate,
    message,
    rfc2231,
    zip_bytes,
)

from toolkit.cli.mail import mail_group, render_fetch
from toolkit.mail.fetch import FetchResult, InboxState, safe_filename, save_message
from toolkit.mail.settings import MailError, printable
from toolkit.read import limits
from toolkit.read.manifest import MANIFEST_NAME, read_manifest

MID = "<bao-cao-tx05@thoxuan.doan.example>"
USER = "hostile@thoxuan.doan.example"
PASSWORD = "mật-khẩu-thử"
VN = dt.timezone(dt.timedelta(hours=7))


def mail(parts: list[bytes], *, message_id: str = MID, subject: str = "Báo cáo TX05") -> bytes:
    return message(sender="Đoàn xã <tx05@thoxuan.doan.example>", subject=subject,
                   date="Mon, 18 Jan 2021 10:15:00 +0700", message_id=message_id, parts=parts)


def run(inbox: Path, *raws: bytes, skip_fetched: bool = True) -> FetchResult:
    """Like ``fetch``: one inbox state, every message through ``save_message``."""
    state = InboxState(inbox)
    result = FetchResult()
    for i, raw in enumerate(raws, start=1):
        save_message(state, raw, result, label=f"thư {i}", skip_fetched=skip_fetched)
    return result


def files(inbox: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in inbox.iterdir() if p.name != MANIFEST_NAME}


def manifest_rows(inbox: Path) -> list[dict[str, str]]:
    text = (inbox / MANIFEST_NAME).read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def no_terminal_controls(text: str) -> bool:
    return not any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") and ch != "\n"
                   for ch in text)


# --------------------------------------------------------------------------- 16. Message-ID


def xlsx(data: bytes, name: str) -> bytes:
    return attachment(data, rfc2231(name))


SAME_ID_CASES = {
    # first message's parts, second message's parts (same Message-ID), files expected
    "other-workbook": ([xlsx(b"TX05 v1", "TX05.xlsx")], [xlsx(b"TX05 v2", "TX05.xlsx")],
                       {"TX05.xlsx": b"TX05 v1", "TX05 (2).xlsx": b"TX05 v2"}),
    "one-more-workbook": ([xlsx(b"TX05", "TX05.xlsx")],
                          [xlsx(b"TX05", "TX05.xlsx"), xlsx(b"TX06", "TX06.xlsx")],
                          {"TX05.xlsx": b"TX05", "TX06.xlsx": b"TX06"}),
    "zip-member": ([xlsx(b"TX05", "TX05.xlsx")],
                   [attachment(zip_bytes({"Phụ lục.xlsx": b"annex"}), rfc2231("pl.zip"),
                               "application/zip")],
                   {"TX05.xlsx": b"TX05", "Phụ lục.xlsx": b"annex"}),
    "ods-after-xlsx": ([xlsx(b"TX05", "TX05.xlsx")],
                       [attachment(b"ODS", rfc2231("TX05.ods"),
                                   "application/vnd.oasis.opendocument.spreadsheet")],
                       {"TX05.xlsx": b"TX05", "TX05.ods": b"ODS"}),
}


@pytest.mark.parametrize("case", list(SAME_ID_CASES))
def test_same_message_id_other_attachments_are_not_dropped(tmp_path: Path, case: str) -> None:
    first_parts, second_parts, expected = SAME_ID_CASES[case]
    first, second = mail(first_parts), mail(second_parts)
    result = run(tmp_path, first, second)
    assert files(tmp_path) == expected
    assert result.already_fetched == 0
    assert {a.message_id for a in read_manifest(tmp_path).values()} == {MID}
    manifest = (tmp_path / MANIFEST_NAME).read_bytes()
    # a later fetch (fresh state, from the inbox and its manifest) skips both messages
    again = run(tmp_path, first, second)
    assert again.already_fetched == 2 and again.saved == [] and again.messages == 0
    assert (tmp_path / MANIFEST_NAME).read_bytes() == manifest
    assert files(tmp_path) == expected


@pytest.mark.parametrize("change", ["delete", "edit", "rename"])
def test_a_file_the_clerk_changed_is_not_fetched_again(tmp_path: Path, change: str) -> None:
    """The manifest keeps the sha256 as fetched: what the clerk does to the file later
    (removes a wrong report, fixes a typo in it, renames it) never brings it back."""
    raw = mail([xlsx(b"TX05", "TX05.xlsx"), xlsx(b"TX06", "TX06.xlsx")])
    run(tmp_path, raw)
    target = tmp_path / "TX05.xlsx"
    if change == "delete":
        target.unlink()
    elif change == "edit":
        target.write_bytes(b"TX05 corrected by the office")
    else:
        target.rename(tmp_path / "Thọ Xuân TX05.xlsx")
    before = files(tmp_path)
    again = run(tmp_path, raw)
    assert again.already_fetched == 1 and again.saved == []
    assert files(tmp_path) == before


def test_lines_written_before_the_sha256_column_keep_the_message_id_rule(
        tmp_path: Path) -> None:
    (tmp_path / MANIFEST_NAME).write_text(
        "\ufefffile,sender,date,message_id,subject\r\n"
        f"đã xóa.xlsx,a@b.example,2021-01-10T08:00:00+07:00,{MID},Cũ\r\n", encoding="utf-8")
    again = run(tmp_path, mail([xlsx(b"TX05", "TX05.xlsx")]))
    assert again.already_fetched == 1 and files(tmp_path) == {}


@pytest.fixture(scope="module")
def dovecot(tmp_path_factory: pytest.TempPathFactory):
    dovecot_binary()  # skip (or fail under CI) before making anything
    cert, key = make_certificate(tmp_path_factory.mktemp("tls"))
    with Dovecot(cert, key, {USER: PASSWORD}) as server:
        yield server


def test_same_message_id_through_dovecot(dovecot: Dovecot, tmp_path: Path) -> None:
    day = calendar.timegm(dt.datetime(2021, 1, 18, 9, tzinfo=VN).utctimetuple())
    dovecot.append(USER, mail([xlsx(b"TX05 v1", "TX05.xlsx")]), when=day)
    dovecot.append(USER, mail([xlsx(b"TX05 v2", "TX05.xlsx")]), when=day + 60)
    env = {"TOOLKIT_IMAP_HOST": "127.0.0.1", "TOOLKIT_IMAP_PORT": str(dovecot.imaps_port),
           "TOOLKIT_IMAP_SECURITY": "ssl", "TOOLKIT_IMAP_USER": USER,
           "TOOLKIT_IMAP_PASSWORD": PASSWORD, "TOOLKIT_IMAP_CAFILE": str(dovecot.cert)}
    inbox = tmp_path / "inbox"
    first = CliRunner().invoke(mail_group, ["fetch", str(inbox)], env=env)
    assert first.exit_code == 0, first.output
    assert "Đã lưu 2 tệp mới" in first.output
    assert files(inbox) == {"TX05.xlsx": b"TX05 v1", "TX05 (2).xlsx": b"TX05 v2"}
    again = CliRunner().invoke(mail_group, ["fetch", str(inbox)], env=env)
    assert again.exit_code == 0, again.output
    assert "Bỏ qua 2 thư đã tải" in again.output and "Đã lưu 0 tệp mới" in again.output


# --------------------------------------------------------------------------- 18. names


@pytest.mark.parametrize("disposition, saved", [
    (rfc2231("..~$TX05.xlsx"), "TX05.xlsx"),
    ('attachment; filename=" ~$TX06.xlsx"', "TX06.xlsx"),
    ('attachment; filename="bao cao.xlsx."', "bao cao.xlsx"),
    (rfc2231("Báo cáo.xlsm. . "), "Báo cáo.xlsm"),
    (rfc2231(".~$ .TX08.xls"), "TX08.xls"),
    (rfc2231("..\\..\\~$TX09.ods"), "TX09.ods"),
    (b'attachment; filename="' + cp1258("Báo cáo Xuân Hồng.xlsx") + b'"',
     "Báo cáo Xuân Hồng.xlsx"),
    (b'attachment; filename="' + cp1258("Phụ lục Thọ Xuân.xlsx") + b'"', "Phụ lục Thọ Xuân.xlsx"),
    (b"attachment; filename=" + cp1258("Đoàn_xã.xls"), "Đoàn_xã.xls"),
], ids=["dots-lock", "space-lock", "trailing-dot", "trailing-dots-spaces", "dot-lock-dot",
        "path-lock", "cp1258-8bit", "cp1258-8bit-2", "cp1258-unquoted"])
def test_attachment_names_are_saved_safely(tmp_path: Path, disposition, saved: str) -> None:
    workbook = b"PK\x03\x04 a real workbook"
    result = run(tmp_path, mail([attachment(workbook, disposition)]))
    assert files(tmp_path) == {saved: workbook}, result
    assert not result.without_workbook and not result.problems
    assert "\ufffd" not in saved and set(read_manifest(tmp_path)) == {saved}


@pytest.mark.parametrize("name", [
    "..~$TX05.xlsx", " ~$TX06.xlsx", "~$~$.xlsx", ". . ~$ ~$x.xlsm", "bao cao.xlsx.",
    "../../~$a.ods", "C:\\tmp\\.hidden.xls", "\u202eslx.exe.xlsx", "a/../../.xlsx.",
    "~$" * 200 + ".xlsx", "\x1b[2J.xlsx", "\x9b31m\u2066x\u200b.xls", "\ufeff~$.ods",
])
def test_saved_names_are_never_hidden_lock_or_paths(name: str) -> None:
    saved = safe_filename(name)
    assert "/" not in saved and "\\" not in saved
    assert not saved.startswith((".", "~$", " "))
    assert saved.lower().endswith((".xlsx", ".xlsm", ".ods", ".xls"))
    assert no_terminal_controls(saved)


@pytest.mark.parametrize("name", ["~$TX05.xlsx", " ~$TX06.xlsx", "..~$TX07.xls", "._TX08.xlsx"])
def test_a_real_lock_file_is_still_ignored(tmp_path: Path, name: str) -> None:
    lock = b"\x05Thanh" + b"\0" * 50  # what Office writes: the owner's name, no workbook
    result = run(tmp_path, mail([attachment(lock, rfc2231(name))]))
    assert files(tmp_path) == {} and result.without_workbook


# --------------------------------------------------------------------------- 19. terminal

HOSTILE_TEXTS = [
    "\x1b[2J\x1b[H",                      # clear the screen
    "\x1b]0;mật khẩu đúng rồi\x07",       # OSC: set the window title
    "\x1b]8;;http://x.invalid\x1b\\link",  # OSC 8 hyperlink
    "\x9b31m\x9d0;title\x9c",             # C1 CSI / OSC / ST
    "\u202eslx.exe",                       # right-to-left override
    "\u2066isolate\u2069\u200b\ufeff",    # bidi isolates, zero-width, BOM
    "dòng 1\u2028dòng 2\rdòng 3",         # line separators, carriage return
]


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_printable(text: str) -> None:
    shown = printable(f"Báo cáo Thọ Xuân {text}")
    assert no_terminal_controls(shown.replace("\n", "\\n"))
    assert shown.startswith("Báo cáo Thọ Xuân ")


@pytest.mark.parametrize("raw_text", HOSTILE_TEXTS)
def test_fetch_report_shows_no_terminal_controls(tmp_path: Path, raw_text: str) -> None:
    text = raw_text.replace("\r", "").replace("\u2028", "")  # EmailMessage refuses them
    msg = EmailMessage()
    msg["From"] = "tx05@thoxuan.doan.example"
    msg["Subject"] = f"Báo cáo {text}"
    msg["Date"] = "Mon, 18 Jan 2021 10:15:00 +0700"
    msg["Message-ID"] = MID
    msg.set_content("Em gửi ạ.")
    msg.add_attachment(b"workbook", maintype="application", subtype="vnd.ms-excel",
                       filename=f"TX05 {text}.xls")
    msg.add_attachment(b"", maintype="application", subtype="vnd.ms-excel",
                       filename=f"rỗng {text}.xls")  # an empty one: a note naming it
    raw = msg.as_bytes(policy=SMTP)  # RFC 2047/2231-encoded: the parser gives them back
    result = run(tmp_path, raw, mail([], message_id="<no-attachment@x>", subject=raw_text))
    assert len(result.saved) == 1 and result.problems and result.without_workbook
    report = render_fetch(result, tmp_path, "INBOX")
    assert no_terminal_controls(report), report
    assert "Báo cáo" in report


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_mail_errors_are_printable(text: str) -> None:
    assert no_terminal_controls(str(MailError(f"Máy chủ báo lỗi: {text}")))


# --------------------------------------------------------------------------- 17. size cap


@pytest.mark.parametrize("part, origin", [
    (attachment(b"0" * 5000, rfc2231("lớn.xlsx")), "lớn.xlsx"),
    (attachment(b"1" * 1001, rfc2231("vừa quá.xls"), "application/vnd.ms-excel",
                encoding="quoted-printable"), "vừa quá.xls"),
    (attachment(b"2" * 5000, "attachment", "application/vnd.oasis.opendocument.spreadsheet"),
     "tep-dinh-kem.ods"),
    (attachment(zip_bytes({"trong zip.xlsx": b"3" * 5000}), rfc2231("nén.zip"),
                "application/zip"), "nén.zip › trong zip.xlsx"),
])
def test_attachments_over_the_cap_are_refused_and_recorded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, part: bytes, origin: str) -> None:
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 1000)
    (tmp_path / MANIFEST_NAME).write_text(
        "\ufefffile,sender,date,message_id,subject\r\n"
        "cũ.xlsx,a@b.example,2021-01-10T08:00:00+07:00,<old@x>,Cũ\r\n", encoding="utf-8")
    fits = attachment(b"4" * 1000, rfc2231("vừa.xlsx"))
    result = run(tmp_path, mail([part, fits]))
    assert files(tmp_path) == {"vừa.xlsx": b"4" * 1000}
    assert [n.text for n in result.problems] == [f"{origin}: lớn hơn 0.000953674 MB"
                                                 + (", không giải nén" if "›" in origin else
                                                    " (giới hạn của toolkit consolidate), "
                                                    "không lưu")]
    text = (tmp_path / MANIFEST_NAME).read_bytes().decode("utf-8-sig")
    assert text.startswith("file,sender,date,message_id,subject,sha256,note\r\n")
    rows = manifest_rows(tmp_path)
    assert [r["file"] for r in rows] == ["cũ.xlsx", "", "vừa.xlsx"]
    assert rows[1]["note"] == result.problems[0].text and rows[1]["message_id"] == MID
    assert rows[2]["sha256"] == hashlib.sha256(b"4" * 1000).hexdigest()
    assert set(read_manifest(tmp_path)) == {"cũ.xlsx", "vừa.xlsx"}  # consolidate's view
    before = (tmp_path / MANIFEST_NAME).read_bytes()
    again = run(tmp_path, mail([part, fits]))  # fetched again: recorded once, not twice
    assert again.already_fetched == 1
    assert (tmp_path / MANIFEST_NAME).read_bytes() == before


def test_the_real_cap_is_consolidates(tmp_path: Path) -> None:
    big = b"\0" * (limits.MAX_FILE_BYTES + 1)
    result = run(tmp_path, mail([attachment(big, rfc2231("quá lớn.xlsx"))]))
    assert files(tmp_path) == {}
    assert result.problems[0].text == ("quá lớn.xlsx: lớn hơn 20 MB (giới hạn của toolkit "
                                       "consolidate), không lưu")


# --------------------------------------------------------------------------- 17. big messages


def _fetch_peak_mb(env: dict[str, str], inbox: Path, folder: str) -> tuple[float, str]:
    """``toolkit mail fetch`` in a process of its own: its peak memory (MB) and output.
    Measured from a small parent (Linux keeps a process's peak across exec, so the fetch
    must not be forked from pytest itself), run outside the worktree so that PYTHONPATH
    alone decides which toolkit runs."""
    script = textwrap.dedent(f"""
        import resource, subprocess, sys
        run = subprocess.run([sys.executable, "-m", "toolkit.cli", "mail", "fetch",
                              {str(inbox)!r}, "--folder", {folder!r}],
                             capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stdout + run.stderr
        print(run.stdout)
        print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=700, env={**os.environ, **env}, cwd=inbox.parent)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1]) / 1024, done.stdout


def test_big_messages_are_refused_or_streamed_in_bounded_memory(dovecot: Dovecot,
                                                                tmp_path: Path) -> None:
    """Three messages over 20 MB: an attachment refused by its size on the server, unread;
    a quoted-printable one whose size on the server looks small enough, refused while it
    is streamed; a 8 MB workbook streamed and saved whole. The manifest records both
    refusals; the fetch peaks at a few MB above a fetch of one small message."""
    cap = limits.MAX_FILE_BYTES
    rnd = random.Random("item-17")
    refused_unread = rnd.randbytes(cap + 4096)
    refused_streamed = (b"0123456789" * 7 + b"ABCDE\n") * ((cap + 8192) // 76)
    saved = rnd.randbytes(8 << 20)
    messages = [
        mail([xlsx(refused_unread, "quá lớn.xlsx")], message_id="<lon-1@x.example>"),
        mail([attachment(refused_streamed, rfc2231("văn bản dài.xlsx"),
                         encoding="quoted-printable")], message_id="<lon-2@x.example>"),
        mail([xlsx(saved, "TX05 lớn.xlsx")], message_id="<lon-3@x.example>"),
    ]
    assert all(len(m) > 10 << 20 for m in messages)
    for raw in messages:
        dovecot.append(USER, raw, folder="Thư lớn")
    dovecot.append(USER, mail([xlsx(b"PK\x03\x04 small", "nhỏ.xlsx")],
                              message_id="<nho@x.example>"), folder="Thư nhỏ")
    env = {"TOOLKIT_IMAP_HOST": "127.0.0.1", "TOOLKIT_IMAP_PORT": str(dovecot.imaps_port),
           "TOOLKIT_IMAP_SECURITY": "ssl", "TOOLKIT_IMAP_USER": USER,
           "TOOLKIT_IMAP_PASSWORD": PASSWORD, "TOOLKIT_IMAP_CAFILE": str(dovecot.cert)}
    small_peak, _ = _fetch_peak_mb(env, tmp_path / "nho", "Thư nhỏ")
    inbox = tmp_path / "lon"
    big_peak, output = _fetch_peak_mb(env, inbox, "Thư lớn")
    assert files(inbox) == {"TX05 lớn.xlsx": saved}
    rows = manifest_rows(inbox)
    too_large = "lớn hơn 20 MB (giới hạn của toolkit consolidate), không lưu"
    assert {(r["file"], r["message_id"], r["note"]) for r in rows} == {
        ("", "<lon-1@x.example>", f"quá lớn.xlsx: {too_large}"),
        ("", "<lon-2@x.example>", f"văn bản dài.xlsx: {too_large}"),
        ("TX05 lớn.xlsx", "<lon-3@x.example>", "")}
    assert next(r for r in rows if r["file"])["sha256"] == hashlib.sha256(saved).hexdigest()
    assert f"quá lớn.xlsx: {too_large}" in output
    # the old fetch held each message whole, decoded and parsed: ~15 × its size
    print(f"peak: {big_peak:.0f} MB, of a small message {small_peak:.0f} MB")
    assert big_peak - small_peak < 48, f"fetch peaked at {big_peak:.0f} MB ({small_peak:.0f})"
    _peak, output = _fetch_peak_mb(env, inbox, "Thư lớn")  # nothing new, nothing twice
    assert "Bỏ qua 3 thư đã tải" in output, output
    assert len(manifest_rows(inbox)) == 3 and files(inbox) == {"TX05 lớn.xlsx": saved}
