"""Attachment extraction, file names, zip limits and the manifest, without a server.

Each message is raw MIME written the way a real mail program writes it (see
``mailservers``), so every file-name encoding under test is exactly the one named.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import quopri
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mailservers import (
    attachment,
    cp1258,
    message,
    rfc2047,
    rfc2231,
    rfc2231_continued,
    zip_bytes,
)

from toolkit._infra.atomic import OutputError
from toolkit.mail import attachments as attachments_module
from toolkit.mail import inbox as inbox_module
from toolkit.mail.attachments import Spool
from toolkit.mail.fetch import (
    FetchResult,
    InboxState,
    imap_date,
    imap_mailbox,
    safe_filename,
    save_message,
)
from toolkit.mail.imap import parse_parts as imap_parts
from toolkit.mail.names import attachment_name
from toolkit.mail.settings import MailError
from toolkit.read.manifest import MANIFEST_NAME, read_manifest

NAME = "Phụ lục NQ02 - Xuân Hồng.xlsx"
DATE = "Mon, 18 Jan 2021 10:15:00 +0700"
VN = dt.timezone(dt.timedelta(hours=7))


def mail(parts: list[bytes], *, sender: str = "Đoàn xã Xuân Hồng <xuanhong@thoxuan.doan.example>",
         subject: str = "Báo cáo NQ 02 - xã Xuân Hồng", date: str | None = DATE,
         message_id: str | None = "<m1@thoxuan.doan.example>") -> bytes:
    return message(sender=sender, subject=subject, date=date, message_id=message_id,
                   parts=parts)


def run(inbox: Path, *raws: bytes, received: dt.datetime | None = None) -> FetchResult:
    state = InboxState(inbox)
    result = FetchResult()
    for i, raw in enumerate(raws, start=1):
        save_message(state, raw, result, received=received, label=f"thư {i}")
    return result


def files(inbox: Path) -> dict[str, bytes]:
    return {p.relative_to(inbox).as_posix(): p.read_bytes() for p in inbox.rglob("*")
            if p.is_file() and p.name != MANIFEST_NAME}


@pytest.mark.parametrize("disposition", [
    rfc2231(NAME),
    rfc2231_continued(NAME),
    rfc2047(NAME),
    rfc2231(unicodedata.normalize("NFD", NAME)),  # macOS Mail writes decomposed letters
    b'attachment; filename="' + NAME.encode("utf-8") + b'"',  # raw 8-bit UTF-8
    "attachment; filename*=windows-1258''" + "".join(f"%{b:02X}" for b in cp1258(NAME)),
], ids=["rfc2231", "rfc2231-continued", "rfc2047", "nfd", "8bit-utf8", "cp1258"])
def test_vietnamese_file_names_come_out_right(tmp_path: Path, disposition) -> None:
    data = b"PK\x03\x04 workbook of Xuan Hong"
    result = run(tmp_path, mail([attachment(data, disposition)]))
    assert files(tmp_path) == {NAME: data}
    assert unicodedata.is_normalized("NFC", result.saved[0].file)
    arrival = read_manifest(tmp_path)[NAME]
    assert arrival.sender == "xuanhong@thoxuan.doan.example"
    assert arrival.date == dt.datetime(2021, 1, 18, 10, 15, tzinfo=VN)
    assert arrival.message_id == "<m1@thoxuan.doan.example>"
    assert arrival.subject == "Báo cáo NQ 02 - xã Xuân Hồng"


def test_name_from_content_type_and_quoted_printable(tmp_path: Path) -> None:
    part = attachment(b"ODS bytes", 'attachment', encoding="quoted-printable",
                      content_type='application/vnd.oasis.opendocument.spreadsheet; '
                                   'name="=?utf-8?q?B=C3=A1o_c=C3=A1o_TX02=2Eods?="')
    nameless = attachment(b"xls bytes", "attachment", content_type="application/vnd.ms-excel")
    run(tmp_path, mail([part, nameless]))
    assert files(tmp_path) == {"Báo cáo TX02.ods": b"ODS bytes", "tep-dinh-kem.xls": b"xls bytes"}


def test_other_attachments_are_ignored(tmp_path: Path) -> None:
    result = run(tmp_path, mail([attachment(b"%PDF", rfc2231("công văn.pdf"), "application/pdf"),
                                 attachment(b"x", rfc2231("~$Phụ lục.xlsx"))]))
    assert files(tmp_path) == {}
    assert [n.text for n in result.without_workbook] == ["không có tệp Excel/ODS đính kèm"]


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd.xlsx", "passwd.xlsx"),
    ("C:\\Users\\Lan\\Desktop\\Báo cáo.xlsx", "Báo cáo.xlsx"),
    ('a<b>:"|?*.xlsx', "a_b______.xlsx"),
    ("  ..ẩn.xlsx", "ẩn.xlsx"),
    ("CON.xlsx", "_CON.xlsx"),
    (".xlsx", "tep-dinh-kem.xlsx"),
    ("Báo\tcáo\r\n.XLSX", "Báo cáo.xlsx"),
    ("Báo\x00cáo.xlsx", "Báo_cáo.xlsx"),
    (unicodedata.normalize("NFD", "Thọ Xuân.xlsx"), "Thọ Xuân.xlsx"),
    ("=cmd|calc.xlsx", "_cmd_calc.xlsx"),
    ("-rf.xlsx", "_rf.xlsx"),
])
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_long_names_fit_the_file_system() -> None:
    name = safe_filename("Phụ lục " * 60 + ".xlsx")
    assert name.endswith(".xlsx") and len(name.encode("utf-8")) <= 200


def test_zip_members_are_extracted_safely(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    archive = zip_bytes({
        "Báo cáo/Phụ lục TX05.xlsx": b"TX05",
        "../../thoát-ra.xlsx": b"escape",
        "/tuyệt-đối.ods": b"absolute",
        "__MACOSX/Báo cáo/._Phụ lục TX05.xlsx": b"resource fork",
        "ghi chú.txt": b"note",
    })
    no_flag = zip_bytes({"Xuân Lai.xlsx": b"TX09"}, utf8_flag=False)
    result = run(inbox, mail([attachment(archive, rfc2231("báo cáo.zip"), "application/zip"),
                              attachment(no_flag, rfc2231("xl.zip"), "application/zip")]))
    assert files(inbox) == {"Phụ lục TX05.xlsx": b"TX05", "thoát-ra.xlsx": b"escape",
                            "tuyệt-đối.ods": b"absolute", "Xuân Lai.xlsx": b"TX09"}
    assert not (tmp_path / "thoát-ra.xlsx").exists()
    assert result.saved[0].origin == "báo cáo.zip › Báo cáo/Phụ lục TX05.xlsx"
    assert set(read_manifest(inbox)) == set(files(inbox))


def test_zip_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    crowded = zip_bytes({f"{i}.xlsx": b"x" for i in range(201)})
    result = run(tmp_path, mail([attachment(crowded, rfc2231("nhiều.zip"), "application/zip")]))
    assert files(tmp_path) == {}
    assert "201 mục (quá 200)" in result.problems[0].text
    monkeypatch.setattr(attachments_module, "MAX_MEMBER_BYTES", 1000)
    big = zip_bytes({"lớn.xlsx": b"0" * 5000, "nhỏ.xlsx": b"small"})
    broken = b"PK\x03\x04 this is not really a zip"
    result = run(tmp_path, mail([attachment(big, rfc2231("lớn.zip"), "application/zip"),
                                 attachment(broken, rfc2231("hỏng.zip"), "application/zip")],
                                message_id="<m2@x>"))
    assert files(tmp_path) == {"nhỏ.xlsx": b"small"}
    texts = [n.text for n in result.problems]
    assert any("lớn.zip › lớn.xlsx: lớn hơn" in t for t in texts)
    assert any("hỏng.zip bị hỏng" in t for t in texts)


def test_zip_size_is_checked_while_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A zip whose header lies about the size is cut off at the limit, not trusted."""
    archive = bytearray(zip_bytes({"giả.xlsx": b"0" * 5000}))
    # patch the uncompressed size in the central directory (offset 24 of its header)
    central = archive.rfind(b"PK\x01\x02")
    archive[central + 24:central + 28] = (10).to_bytes(4, "little")
    monkeypatch.setattr(attachments_module, "MAX_MEMBER_BYTES", 1000)
    result = run(tmp_path, mail([attachment(bytes(archive), rfc2231("giả.zip"),
                                            "application/zip")]))
    assert files(tmp_path) == {}
    assert result.problems


def test_forwarded_message_attachments_are_found(tmp_path: Path) -> None:
    inner = mail([attachment(b"forwarded", rfc2231("Thọ Lập.xlsx"))],
                 sender="tholap@thoxuan.doan.example", message_id="<inner@x>")
    part = b"Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n" + inner
    run(tmp_path, mail([part], sender="bithu@thoxuan.doan.example", message_id="<fwd@x>"))
    assert files(tmp_path) == {"Thọ Lập.xlsx": b"forwarded"}
    assert read_manifest(tmp_path)["Thọ Lập.xlsx"].message_id == "<fwd@x>"


def test_nothing_is_saved_twice_or_overwritten(tmp_path: Path) -> None:
    first = mail([attachment(b"version 1", rfc2231(NAME))])
    (tmp_path / MANIFEST_NAME).write_text(
        "\ufefffile,sender,date,message_id,subject\r\n"
        "cũ.xlsx,a@b.example,2021-01-10T08:00:00+07:00,<old@x>,Cũ\r\n", encoding="utf-8")
    run(tmp_path, first)
    before = (tmp_path / MANIFEST_NAME).read_bytes()
    again = run(tmp_path, first)  # the same message fetched again
    assert again.saved == [] and len(again.duplicates) == 1
    assert (tmp_path / MANIFEST_NAME).read_bytes() == before
    # same name, new content: a new file next to the old one, never over it
    second = mail([attachment(b"version 2", rfc2231(NAME))], message_id="<m2@x>")
    run(tmp_path, second)
    assert files(tmp_path) == {NAME: b"version 1",
                               "Phụ lục NQ02 - Xuân Hồng (2).xlsx": b"version 2"}
    text = (tmp_path / MANIFEST_NAME).read_bytes().decode("utf-8")
    assert text.startswith("\ufefffile,sender,date,message_id,subject\r\n")
    assert text.count("\ufeff") == 1
    assert text.count("\r\n") == 4  # header, the old line, two new lines
    assert set(read_manifest(tmp_path)) == {"cũ.xlsx", NAME, "Phụ lục NQ02 - Xuân Hồng (2).xlsx"}


def test_existing_file_without_provenance_gets_it(tmp_path: Path) -> None:
    (tmp_path / "chép tay.xlsx").write_bytes(b"same bytes")
    result = run(tmp_path, mail([attachment(b"same bytes", rfc2231(NAME))]))
    assert files(tmp_path) == {"chép tay.xlsx": b"same bytes"}
    assert [s.file for s in result.recorded] == ["chép tay.xlsx"]
    assert read_manifest(tmp_path)["chép tay.xlsx"].sender == "xuanhong@thoxuan.doan.example"


def test_manifest_with_other_columns_is_refused(tmp_path: Path) -> None:
    (tmp_path / MANIFEST_NAME).write_text("tệp,người gửi\r\na,b\r\n", encoding="utf-8")
    with pytest.raises(MailError, match="cần đúng file,sender,date,message_id,subject"):
        InboxState(tmp_path)


def test_dates_without_zone_or_header(tmp_path: Path) -> None:
    received = dt.datetime(2021, 1, 21, 2, 0, tzinfo=dt.UTC)
    run(tmp_path, mail([attachment(b"a", rfc2231("a.xlsx"))], date=None, message_id="<a@x>"),
        mail([attachment(b"b", rfc2231("b.xlsx"))], date="Thu, 21 Jan 2021 08:00:00 -0000",
             message_id="<b@x>"), received=received)
    arrivals = read_manifest(tmp_path)
    assert arrivals["a.xlsx"].date == received  # no Date header: the server's arrival time
    assert arrivals["b.xlsx"].date == dt.datetime(2021, 1, 21, 8, 0, tzinfo=dt.UTC)


def test_malformed_and_empty_messages_never_stop_the_fetch(tmp_path: Path) -> None:
    garbage = b"\x01\xff\xfe not a mail at all \x80\x81\r\n\r\n\xff"
    truncated = mail([attachment(b"TX07 file", rfc2231("TX07.xlsx"))]).rsplit(b"--=_", 1)[0]
    result = run(tmp_path, garbage, truncated,
                 mail([], message_id="<empty@x>", subject="Em sẽ gửi sau"))
    assert files(tmp_path) == {"TX07.xlsx": b"TX07 file"}
    assert "thư hỏng" in result.problems[0].text
    assert any("cấu trúc MIME" in n.text for n in result.problems)
    assert [n.message for n in result.without_workbook] == [
        "thư 3 — xuanhong@thoxuan.doan.example — “Em sẽ gửi sau”"]
    assert result.messages == 3


def test_imap_names_and_dates() -> None:
    assert imap_mailbox("INBOX") == '"INBOX"'
    assert imap_mailbox("Báo cáo") == '"B&AOE-o c&AOE-o"'
    assert imap_mailbox("A&B") == '"A&-B"'
    assert imap_mailbox("Đoàn") == '"&ARA-o&AOA-n"'
    assert imap_date(dt.date(2021, 1, 5)) == "05-Jan-2021"


def test_manifest_text_never_starts_like_a_formula(tmp_path: Path) -> None:
    run(tmp_path, mail([attachment(b"x", rfc2231("a.xlsx"))],
                       subject='=HYPERLINK("http://example.invalid","Bấm")'))
    assert read_manifest(tmp_path)["a.xlsx"].subject == \
        '\'=HYPERLINK("http://example.invalid","Bấm")'


def test_a_full_disk_stops_the_fetch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(path, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(inbox_module, "write_bytes", full)
    with pytest.raises(OutputError, match="No space left on device"):
        run(tmp_path, mail([attachment(b"x", rfc2231("a.xlsx"))]))


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=5000), encoding=st.sampled_from(["base64", "quoted-printable",
                                                                 "7bit", "binary"]),
       cuts=st.lists(st.integers(min_value=1, max_value=700), max_size=30),
       cap=st.integers(min_value=0, max_value=6000))
def test_spool_decodes_in_any_pieces_and_stops_at_the_cap(data: bytes, encoding: str,
                                                          cuts: list[int], cap: int) -> None:
    """A streamed attachment decodes to the same bytes whatever the pieces the server
    sends, and is refused once over the cap (never more than a piece kept in memory)."""
    encoded = {"base64": lambda b: base64.encodebytes(b).replace(b"\n", b"\r\n"),
               "quoted-printable": lambda b: quopri.encodestring(b).replace(b"\n", b"\r\n"),
               }.get(encoding, lambda b: b)(data)
    spool = Spool(encoding, cap)
    start = 0
    for cut in [*cuts, len(encoded)]:
        if not spool.feed(encoded[start:start + cut]):
            break
        start += cut
    else:
        spool.finish()
    assert spool.over == (len(data) > cap)
    if not spool.over:
        assert spool.read() == data
        assert spool.digest.hexdigest() == hashlib.sha256(data).hexdigest()


def test_bodystructure_with_literals_nil_and_nesting_gives_the_parts() -> None:
    """A BODYSTRUCTURE as imaplib hands it over: a name sent as a literal (it holds a
    quote), raw 8-bit UTF-8, NIL fields, a forwarded message; hostile nesting is cut off."""
    name = 'Báo cáo "cuối".xlsx'.encode()
    data = [(b'1 (UID 7 BODYSTRUCTURE (("text" "plain" ("charset" "utf-8") NIL NIL "8bit" 20 1'
             b' NIL NIL NIL NIL)("application" "zip" NIL NIL NIL "base64" 4000 NIL '
             b'("attachment" ("filename" {' + str(len(name)).encode() + b'}', name),
            b')) NIL NIL)("message" "rfc822" NIL NIL NIL "7bit" 900 (NIL "s" NIL NIL NIL NIL '
            b'NIL NIL NIL NIL) ("application" "vnd.ms-excel" ("name" "Th\xe1\xbb\x8d.xls") '
            b'NIL NIL "base64" 300 NIL NIL NIL NIL) 12 NIL NIL NIL NIL) "mixed" ("boundary" '
            b'"b") NIL NIL NIL))']
    parts = {leaf.section: leaf for leaf in imap_parts(data)}
    assert set(parts) == {"1", "2", "3.1"}
    assert attachment_name(parts["2"].headers) == 'Báo cáo "cuối".xlsx'
    assert (parts["2"].encoding, parts["2"].size) == ("base64", 4000)
    assert attachment_name(parts["3.1"].headers) == "Thọ.xls"
    assert parts["3.1"].headers.get_content_type() == "application/vnd.ms-excel"
    deep = b"(" * 5000 + b'"text" "plain" NIL NIL NIL "7bit" 1 1' + b")" * 5000
    assert imap_parts([b"1 (UID 8 BODYSTRUCTURE " + deep + b")"]) is not None
