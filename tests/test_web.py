"""The office's page through the in-process ASGI client: each safety rule of the page, the
workspace behind it, and the CLI inside a workspace. The whole loop in a real browser is
tests/test_web_browser.py."""

from __future__ import annotations

import base64
import datetime as dt
import io
import random
import threading
import unicodedata
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from starlette.testclient import TestClient

from toolkit._infra.paths import samples_dir
from toolkit.cli import cli
from toolkit.read import limits
from toolkit.spec.load import load_campaign
from toolkit.testing import fill_workbook, sample_values
from toolkit.web import security
from toolkit.web.app import create_app
from toolkit.workspace import SETTINGS_FILE, defaults_for, init_workspace, open_workspace
from toolkit.workspace.uploads import store_upload
from toolkit.write.templates import template_bytes

CID = "nq02-2020"
UNITS_CSV = samples_dir() / "units.csv"


def _as_peer(app, host: str):
    """The app as seen from ``host`` (the ASGI scope's client address)."""
    async def wrapped(scope, receive, send):
        if scope["type"] == "http":
            scope = dict(scope, client=(host, 40000))
        await app(scope, receive, send)
    return wrapped


@pytest.fixture
def ws(tmp_path):
    ws = init_workspace(tmp_path / "ws", units=UNITS_CSV, office="TX")
    ws.add_campaign(CID)
    return ws


@pytest.fixture
def app(ws):
    return create_app(ws.root)


@pytest.fixture
def client(app):
    return TestClient(_as_peer(app, "127.0.0.1"), base_url="http://127.0.0.1:8000")


def _token(app) -> str:
    return app.state.guard.token


def _inbox(ws) -> list[Path]:
    return sorted(p for p in ws.inbox(CID).rglob("*") if p.is_file())


def _workbook(ws, code: str, seed: str = "") -> bytes:
    campaign = load_campaign(CID)
    units = ws.load_units()
    values = sample_values(campaign, random.Random(f"web-{code}{seed}"))
    return fill_workbook(template_bytes(campaign, units.get(code), units.get("TX")), values,
                         modified=dt.datetime(2021, 1, 10, 8, 0))


# --------------------------------------------------------------------------- who may ask


def test_a_request_from_another_computer_is_refused_by_default(app, ws):
    for host in ("192.168.1.20", "10.0.0.5", "8.8.8.8", "testclient"):
        remote = TestClient(_as_peer(app, host), base_url="http://127.0.0.1:8000")
        for path in ("/", "/don-vi", f"/chien-dich/{CID}", "/static/style.css",
                     f"/chien-dich/{CID}/bieu-mau.zip"):
            r = remote.get(path)
            assert r.status_code == 403, (host, path)
            assert "chỉ mở được trên chính máy" in r.text
        r = remote.post(f"/chien-dich/{CID}/nop", data={"csrf": _token(app)},
                        files={"files": ("TX01.xlsx", _workbook(ws, "TX01"))})
        assert r.status_code == 403
    assert _inbox(ws) == []


def test_a_foreign_host_name_is_refused_even_from_this_computer(app):
    # a site whose DNS name points to 127.0.0.1 must not reach the page (DNS rebinding)
    c = TestClient(_as_peer(app, "127.0.0.1"), base_url="http://127.0.0.1:8000")
    for host in ("evil.example", "evil.example:8000", "127.0.0.1.evil.example", "0.0.0.0",
                 "localhost.evil.example:80", "[::2]:8000", ""):
        assert c.get("/", headers={"host": host}).status_code == 403, host
    for host in ("127.0.0.1:8123", "localhost:8000", "[::1]:8000", "127.0.0.1"):
        assert c.get("/", headers={"host": host}).status_code == 200, host


def test_other_computers_only_with_the_password(ws):
    with pytest.raises(ValueError):
        create_app(ws.root, allow_remote=True)
    app = create_app(ws.root, allow_remote=True, password="mật-khẩu-dài")
    remote = TestClient(_as_peer(app, "192.168.1.20"), base_url="http://192.168.1.2:8000")
    assert remote.get("/").status_code == 401
    for wrong in ("x:sai", "x:", "x", ":mật-khẩu-dà"):
        auth = base64.b64encode(wrong.encode()).decode()
        assert remote.get("/", headers={"authorization": f"Basic {auth}"}).status_code == 401
    good = base64.b64encode("van-thu:mật-khẩu-dài".encode()).decode()
    r = remote.get("/", headers={"authorization": f"Basic {good}"})
    assert r.status_code == 200 and "Huyện đoàn Thọ Xuân" in r.text


def test_serve_refuses_other_computers_without_a_password(ws, monkeypatch):
    monkeypatch.delenv("TOOLKIT_PASSWORD", raising=False)
    out = CliRunner().invoke(cli, ["serve", str(ws.root), "--host", "0.0.0.0", "--no-browser"])
    assert out.exit_code != 0 and "TOOLKIT_PASSWORD" in out.output


# --------------------------------------------------------------------------- forms


def test_every_form_refuses_a_post_without_the_token(app, client, ws):
    posts = {
        f"/chien-dich/{CID}/nop": {"files": ("TX01.xlsx", _workbook(ws, "TX01"))},
        "/don-vi": {"units": ("don-vi.csv", UNITS_CSV.read_bytes())},
        "/van-phong": None,
        "/chien-dich": None,
        f"/chien-dich/{CID}/phan-bo": {"allocation": ("a.xlsx", b"x")},
    }
    settings = (ws.root / SETTINGS_FILE).read_bytes()
    for path, files in posts.items():
        for token in (None, "", "sai", _token(app)[:-1], _token(app) + "x"):
            data = {"office": "TS", "builtin": "nq02-2020"}
            if token is not None:
                data["csrf"] = token
            r = client.post(path, data=data, files=files, follow_redirects=False)
            assert r.status_code == 403, (path, token)
            assert "tải lại trang" in r.text
    assert _inbox(ws) == []
    assert (ws.root / SETTINGS_FILE).read_bytes() == settings  # office still TX


def test_the_token_in_the_header_or_the_form_is_accepted(app, client, ws):
    r = client.post(f"/chien-dich/{CID}/nop", headers={"x-csrf-token": _token(app)},
                    files={"files": ("TX01.xlsx", _workbook(ws, "TX01"))})
    assert r.status_code == 200
    r = client.post(f"/chien-dich/{CID}/nop", data={"csrf": _token(app)},
                    files={"files": ("TX02.xlsx", _workbook(ws, "TX02"))})
    assert r.status_code == 200
    assert [p.name for p in _inbox(ws)] == ["TX01.xlsx", "TX02.xlsx"]
    assert 'name="csrf" value="' + _token(app) in client.get("/").text


# --------------------------------------------------------------------------- size


def test_a_file_over_the_ingest_limit_is_refused_and_not_stored(app, client, ws, monkeypatch):
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 50_000)
    big = b"PK\x03\x04" + b"\0" * 60_000
    small = _workbook(ws, "TX01")
    assert len(small) < 50_000
    r = client.post(f"/chien-dich/{CID}/nop", data={"csrf": _token(app)},
                    files=[("files", ("lớn.xlsx", big)), ("files", ("TX01.xlsx", small))])
    assert r.status_code == 200
    assert "lớn.xlsx: lớn hơn" in r.text
    assert [p.name for p in _inbox(ws)] == ["TX01.xlsx"]


def test_a_request_over_the_cap_is_refused_before_it_is_read(app, client, ws, monkeypatch):
    monkeypatch.setattr(security, "MAX_REQUEST_BYTES", 100_000)
    r = client.post(f"/chien-dich/{CID}/nop", data={"csrf": _token(app)},
                    files={"files": ("TX01.xlsx", b"x" * 200_000)})
    assert r.status_code == 413
    assert "quá lớn" in r.text

    def chunks():  # no Content-Length: counted while it streams
        yield b"--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.xlsx\"\r\n\r\n"
        for _ in range(30):
            yield b"x" * 10_000
    r = client.post(f"/chien-dich/{CID}/nop", content=chunks(),
                    headers={"content-type": "multipart/form-data; boundary=b",
                             "x-csrf-token": _token(app)})
    assert r.status_code == 413
    assert _inbox(ws) == []


# --------------------------------------------------------------------------- names


HOSTILE_NAMES = [
    "../../evil.xlsx", "..\\..\\evil.xlsx", "/etc/passwd.xlsx", "C:\\Windows\\evil.xlsx",
    "a/../../b.xlsx", ".hidden.xlsx", "..xlsx", "...", "~$TX01.xlsx", "./.././x.xlsx",
    "con.xlsx", "=cmd|' /C calc'!A0.xlsx", "tên\x00rỗng.xlsx", "tab\tname.xlsx",
    unicodedata.normalize("NFD", "Báo cáo Xuân Hồng.xlsx"), "x" * 400 + ".xlsx",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_an_uploaded_name_is_stored_safely_inside_the_inbox(app, client, ws, name):
    data = _workbook(ws, "TX01")
    r = client.post(f"/chien-dich/{CID}/nop", data={"csrf": _token(app)},
                    files={"files": (name, data)}, follow_redirects=False)
    assert r.status_code == 303
    everything = sorted(p for p in ws.root.rglob("*") if p.is_file()
                        and ".dang-tai" not in p.parts and "ket-qua" not in p.parts)
    landed = _inbox(ws)
    assert set(everything) - set(landed) == {ws.root / SETTINGS_FILE, ws.root / "don-vi.csv"}
    assert len(landed) == 1, landed
    stored = landed[0]
    assert stored.parent == ws.inbox(CID)
    assert not stored.name.startswith((".", "~$"))
    assert stored.name == unicodedata.normalize("NFC", stored.name)
    assert len(stored.name.encode()) <= 255
    assert not any(ch in stored.name for ch in "/\\\x00\t")
    assert stored.read_bytes() == data


def test_a_landed_file_is_never_overwritten_and_concurrent_uploads_lose_nothing(ws):
    inbox = ws.inbox(CID)
    first = store_upload(inbox, "TX01.xlsx", b"first")
    assert first[0].stored == "TX01.xlsx"
    payloads = [f"copy {i}".encode() for i in range(24)]
    barrier = threading.Barrier(len(payloads))
    results: list = []

    def upload(data: bytes) -> None:
        barrier.wait()
        results.extend(store_upload(inbox, "TX01.xlsx", data))

    threads = [threading.Thread(target=upload, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (inbox / "TX01.xlsx").read_bytes() == b"first"
    names = [r.stored for r in results]
    assert len(set(names)) == len(payloads)
    contents = sorted((inbox / n).read_bytes() for n in names)
    assert contents == sorted(payloads)
    assert len(list(inbox.iterdir())) == len(payloads) + 1


def test_a_zip_lands_as_its_workbooks(app, client, ws):
    buffer = io.BytesIO()
    books = {"TX01 báo cáo.xlsx": _workbook(ws, "TX01"), "sub/TX02.xlsx": _workbook(ws, "TX02")}
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in books.items():
            z.writestr(name, data)
        z.writestr("__MACOSX/._TX01.xlsx", b"junk")
        z.writestr("~$TX01.xlsx", b"lock")
        z.writestr("ghi chú.txt", b"not a workbook")
    r = client.post(f"/chien-dich/{CID}/nop", data={"csrf": _token(app)},
                    files={"files": ("gửi.zip", buffer.getvalue())})
    assert r.status_code == 200
    landed = {p.name: p.read_bytes() for p in _inbox(ws)}
    assert landed == {"TX01 báo cáo.xlsx": books["TX01 báo cáo.xlsx"],
                      "TX02.xlsx": books["sub/TX02.xlsx"]}
    assert 'data-count="accepted">2<' in r.text


def test_a_broken_zip_is_refused_with_a_message(app, client, ws):
    r = client.post(f"/chien-dich/{CID}/nop", data={"csrf": _token(app)},
                    files={"files": ("hỏng.zip", b"PK\x03\x04 not really")})
    assert "hỏng.zip" in r.text and "không mở được" in r.text
    assert _inbox(ws) == []


# --------------------------------------------------------------------------- pages


def test_pages_answer_in_vietnamese(client, ws):
    assert "Các chiến dịch báo cáo của Huyện đoàn Thọ Xuân" in client.get("/").text
    units = client.get("/don-vi").text
    assert "Đoàn thị trấn Thọ Xuân" in units and 'value="TX" selected' in units
    r = client.get("/khong-co")
    assert r.status_code == 404 and "Không tìm thấy trang này" in r.text
    r = client.get("/chien-dich/khong-co")
    assert r.status_code == 404 and "Không có chiến dịch này" in r.text
    r = client.get(f"/chien-dich/{CID}/ket-qua/../../toolkit-workspace.yaml")
    assert r.status_code == 404
    r = client.get(f"/chien-dich/{CID}/ket-qua/feedback/..%2F..%2Fdon-vi.csv")
    assert r.status_code == 404


def test_a_bad_units_file_is_refused_by_row_and_the_old_one_kept(app, client, ws):
    before = (ws.root / "don-vi.csv").read_bytes()
    bad = "code,name,level,parent,email\nTX,Huyện đoàn,huyen,,a@b\nTX01,,co_so,TX,\n"
    r = client.post("/don-vi", data={"csrf": _token(app)},
                    files={"units": ("don-vi.csv", bad.encode())})
    assert r.status_code == 400
    assert "dòng 3" in r.text and "thiếu tên đơn vị" in r.text
    assert (ws.root / "don-vi.csv").read_bytes() == before


def test_templates_zip_holds_one_workbook_per_unit(client, ws):
    r = client.get(f"/chien-dich/{CID}/bieu-mau.zip")
    assert r.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    children = ws.load_units().children("TX")
    assert len(names) == len(children) + 1
    for unit in children:
        assert sum(n.startswith(f"{CID}_{unit.code}_") for n in names) == 1
    one = client.get(f"/chien-dich/{CID}/bieu-mau/TX05")
    book = load_workbook(io.BytesIO(one.content))
    assert "PL1" in book.sheetnames
    assert client.get(f"/chien-dich/{CID}/bieu-mau/TS01").status_code == 404


# --------------------------------------------------------------------------- workspace + CLI


def test_init_then_consolidate_inside_the_workspace_needs_no_options(tmp_path, monkeypatch):
    folder = tmp_path / "huyen-doan"
    out = CliRunner().invoke(cli, ["init", str(folder), "--units", str(UNITS_CSV),
                                   "--office", "TX"])
    assert out.exit_code == 0, out.output
    ws = open_workspace(folder)
    assert (ws.office, ws.units_file) == ("TX", "don-vi.csv")
    ws.add_campaign(CID)
    (ws.inbox(CID) / "TX01.xlsx").write_bytes(_workbook(ws, "TX01"))
    monkeypatch.chdir(folder)
    found = defaults_for(Path.cwd())
    assert found is not None and found.office == "TX" and found.campaign == CID
    out = CliRunner().invoke(cli, ["consolidate"])
    assert out.exit_code == 0, out.output
    assert "Huyện đoàn Thọ Xuân" in out.output
    results = ws.results(CID)
    assert (results / "tong-hop_nq02-2020_TX.xlsx").exists()
    rows = (results / "submissions.csv").read_text(encoding="utf-8-sig").splitlines()
    assert any(r.startswith("TX01,") and ",accepted," in r for r in rows)


def test_outside_a_workspace_nothing_changes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert defaults_for(tmp_path) is None
    out = CliRunner().invoke(cli, ["consolidate"])
    assert out.exit_code != 0 and "HỘP_THƯ" in out.output


def test_a_broken_settings_file_is_one_vietnamese_line(tmp_path, monkeypatch):
    (tmp_path / SETTINGS_FILE).write_text("office: [", encoding="utf-8")
    with pytest.raises(Exception, match="Không đọc được"):
        open_workspace(tmp_path)
    out = CliRunner().invoke(cli, ["serve", str(tmp_path), "--no-browser"])
    assert out.exit_code == 1 and "Không đọc được" in out.output
    assert "Traceback" not in out.output


def test_a_units_page_shows_what_changed_between_its_files(app, client, ws):
    campaign = load_campaign(CID)
    units = ws.load_units()
    values = sample_values(campaign, random.Random("versions"))
    template = template_bytes(campaign, units.get("TX04"), units.get("TX"))
    first = fill_workbook(template, values, modified=dt.datetime(2021, 1, 10, 8, 0))
    key = ("PL4", "2018", "co_so_so_lop")
    changed = dict(values)
    changed[key] = int(values.get(key) or 0) + 7
    second = fill_workbook(template, changed, modified=dt.datetime(2021, 1, 12, 8, 0))
    for name, data in (("TX04 lần 1.xlsx", first), ("TX04 lần 2.xlsx", second)):
        client.post(f"/chien-dich/{CID}/nop", data={"csrf": _token(app)},
                    files={"files": (name, data)}, follow_redirects=False)
    page = client.get(f"/chien-dich/{CID}/don-vi/TX04").text
    assert "Thay đổi giữa các lần nộp" in page
    assert "1 ô thay đổi" in page
    before, after = str(values.get(key) or ""), str(changed[key])
    assert f"<td>{before}</td><td>{after}</td>" in page


def test_a_new_campaign_from_the_plan_then_its_workbook(app, client, ws):
    from plan_builders import build_docx, plan_161

    r = client.post("/ke-hoach", data={"csrf": _token(app)},
                    files={"plan": ("Kế hoạch 161.docx", build_docx(plan_161()))})
    assert r.status_code == 200 and str(r.url).endswith("/ke-hoach/ke-hoach-161")
    page = r.text
    assert "161-KH/ĐTN" in page
    for form_id in ("PL1", "PL2", "PL3", "PL4", "PL5", "PL6"):
        assert f'data-form="{form_id}"' in page
    assert "Thạc sỹ" in page or "Thạc sĩ" in page  # a header cell of PL2 in the preview
    workbook = client.get("/ke-hoach/ke-hoach-161/khai-bao.xlsx")
    assert workbook.status_code == 200
    assert "Câu hỏi" in load_workbook(io.BytesIO(workbook.content)).sheetnames
    assert client.get("/ke-hoach/ke-hoach-161/..%2Ftoolkit-workspace.yaml").status_code in (
        400, 404)
    r = client.post("/chien-dich", data={"csrf": _token(app)},
                    files={"workbook": ("khai-bao.xlsx", workbook.content)})
    assert r.status_code == 200 and "Nhận bài nộp" in r.text  # the new campaign's board
    added = set(open_workspace(ws.root).campaigns) - {CID}
    assert len(added) == 1 and str(r.url).endswith(f"/chien-dich/{added.pop()}")
    spec = ws.root / "chien-dich"
    assert any(spec.glob("*/mau/campaign.yaml"))


def test_a_file_that_is_no_plan_is_one_vietnamese_line(app, client, ws):
    r = client.post("/ke-hoach", data={"csrf": _token(app)},
                    files={"plan": ("kế hoạch.docx", b"not a docx")})
    assert r.status_code == 400 and "kế hoạch.docx" in r.text
    r = client.post("/ke-hoach", data={"csrf": _token(app)},
                    files={"plan": ("ảnh.png", b"\x89PNG")})
    assert r.status_code == 400 and ".docx" in r.text
    assert not (ws.root / "ke-hoach").exists()


def test_mail_shows_the_messages_then_sends_them_once(app, client, ws, tmp_path):
    from mailservers import SmtpServer, make_certificate

    (ws.inbox(CID) / "TX01.xlsx").write_bytes(_workbook(ws, "TX01"))
    cert, key = make_certificate(tmp_path / "tls")
    with SmtpServer(cert, key, security="none") as server:
        settings = {"csrf": _token(app), "smtp_host": "127.0.0.1", "smtp_port": str(server.port),
                    "security": "none", "user": server.user, "sender": server.user,
                    "loai": "remind"}
        r = client.post(f"/chien-dich/{CID}/thu/cau-hinh", data=settings)
        assert r.status_code == 200
        saved = (ws.root / SETTINGS_FILE).read_text(encoding="utf-8")
        assert "127.0.0.1" in saved and server.password not in saved
        children = ws.load_units().children("TX")
        # one reminder per unit still missing, each shown before anything is sent
        assert f"Nhắc nộp: {len(children) - 1} thư" in r.text
        assert r.text.count('<details class="mail"') == len(children) - 1
        assert "Đoàn thị trấn Lam Sơn" in r.text and server.received == []
        r = client.post(f"/chien-dich/{CID}/thu?loai=remind",
                        data={"csrf": _token(app), "loai": "remind", "password": "sai"})
        assert r.status_code == 400 and server.received == []
        r = client.post(f"/chien-dich/{CID}/thu?loai=remind",
                        data={"csrf": _token(app), "loai": "remind",
                              "password": server.password})
        assert r.status_code == 200, r.text
        assert f"Đã gửi {len(children) - 1} thư" in r.text
        got = sorted(str(m["To"]) for m in server.messages())
        assert got == sorted(u.email for u in children if u.code != "TX01")
        r = client.post(f"/chien-dich/{CID}/thu?loai=remind",
                        data={"csrf": _token(app), "loai": "remind",
                              "password": server.password})
        assert "Đã gửi 0 thư" in r.text and len(server.received) == len(children) - 1
    assert server.password not in (ws.root / SETTINGS_FILE).read_text(encoding="utf-8")


def test_fetch_from_the_mailbox_lands_the_attachments_in_the_inbox(app, client, ws, tmp_path):
    from mailservers import Dovecot, attachment, dovecot_binary, make_certificate, message

    dovecot_binary()  # skipped (failed under CI) without dovecot
    user, password = "hopthu@thoxuan.doan.example", "mật-khẩu-IMAP-thử"
    cert, key = make_certificate(tmp_path / "tls")
    book = _workbook(ws, "TX05")
    with Dovecot(cert, key, {user: password}, tls=False) as server:
        server.append(user, message(
            sender="xuantruong@thoxuan.doan.example", subject="Báo cáo Xuân Trường",
            date="Fri, 15 Jan 2021 09:00:00 +0700", message_id="<tx05@example>",
            parts=[attachment(book, 'attachment; filename="TX05 bao cao.xlsx"')]))
        settings = {"csrf": _token(app), "imap_host": "127.0.0.1",
                    "imap_port": str(server.imap_port), "security": "none", "user": user,
                    "sender": user}
        client.post(f"/chien-dich/{CID}/thu/cau-hinh", data=settings)
        page = client.get(f"/chien-dich/{CID}").text
        assert 'id="form-lay-thu"' in page
        r = client.post(f"/chien-dich/{CID}/lay-thu", data={"csrf": _token(app),
                                                             "password": "sai"})
        assert "từ chối" in r.text and (ws.inbox(CID) / "TX05 bao cao.xlsx").exists() is False
        r = client.post(f"/chien-dich/{CID}/lay-thu", data={"csrf": _token(app),
                                                             "password": password})
        assert "✓ TX05 bao cao.xlsx" in r.text
        assert (ws.inbox(CID) / "TX05 bao cao.xlsx").read_bytes() == book
        assert 'data-unit="TX05" data-status="accepted"' in r.text
        r = client.post(f"/chien-dich/{CID}/lay-thu", data={"csrf": _token(app),
                                                             "password": password})
        assert "không có thư mới" in r.text


def test_init_asks_for_the_office_among_units_with_subordinates(tmp_path, monkeypatch):
    import toolkit.cli.workspace as cli_workspace

    monkeypatch.setattr(cli_workspace, "_interactive", lambda: True)
    out = CliRunner().invoke(cli, ["init", str(tmp_path / "w"), "--units", str(UNITS_CSV)],
                             input="2\n")
    assert out.exit_code == 0, out.output
    assert "1. Tỉnh đoàn Thanh Hóa (TDTH)" in out.output
    assert "2. Huyện đoàn Thọ Xuân (TX)" in out.output
    assert "Đoàn thị trấn Thọ Xuân" not in out.output  # no subordinates: not an office
    assert open_workspace(tmp_path / "w").office == "TX"


def test_a_targets_campaign_takes_its_allocation_back(app, client, ws):
    targets_id = "nq01-hoc-tap-2018"  # its sample allocation is Thọ Xuân's
    r = client.post("/chien-dich", data={"csrf": _token(app), "builtin": targets_id})
    assert r.status_code == 200 and "Phân bổ chỉ tiêu" in r.text
    blank = client.get(f"/chien-dich/{targets_id}/phan-bo.xlsx")
    assert blank.status_code == 200
    assert load_workbook(io.BytesIO(blank.content)).sheetnames
    r = client.post(f"/chien-dich/{targets_id}/phan-bo", data={"csrf": _token(app)},
                    files={"allocation": ("phan-bo.xlsx", _workbook(ws, "TX01"))})
    assert r.status_code == 400 and "phân bổ" in r.text  # a template is no allocation
    filled = (samples_dir() / targets_id / "allocation.xlsx").read_bytes()
    r = client.post(f"/chien-dich/{targets_id}/phan-bo", data={"csrf": _token(app)},
                    files={"allocation": ("phan-bo.xlsx", filled)})
    assert r.status_code == 200 and "đã có tệp phân bổ" in r.text
    assert "✓ phan-bo.xlsx" in r.text
    assert "KQ!I16 — chỉ tiêu «Tin, bài tuyên truyền" in r.text  # its warnings, by cell
    one = client.get(f"/chien-dich/{targets_id}/bieu-mau/TX01")
    assert one.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(client.get(
        f"/chien-dich/{targets_id}/bieu-mau.zip").content)).namelist()


def test_serve_on_a_taken_port_is_one_vietnamese_line(ws):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        out = CliRunner().invoke(cli, ["serve", str(ws.root), "--port", str(port),
                                       "--no-browser"])
    assert out.exit_code == 1 and f"127.0.0.1:{port}" in out.output and "--port" in out.output


def test_the_word_report_of_the_board_and_a_broken_office_template(app, client, ws):
    """The board's «Dự thảo báo cáo Word» link gives the report ``toolkit report`` writes
    for the files on the board; an office template with a broken tag is a Vietnamese page."""
    from docx import Document

    for code in ("TX01", "TX02"):
        client.post(f"/chien-dich/{CID}/nop", data={"csrf": _token(app)},
                    files={"files": (f"{code}.xlsx", _workbook(ws, code))},
                    follow_redirects=False)
    assert f'href="/chien-dich/{CID}/bao-cao.docx"' in client.get(f"/chien-dich/{CID}").text
    got = client.get(f"/chien-dich/{CID}/bao-cao.docx")
    assert got.status_code == 200
    assert "bao-cao_nq02-2020_TX.docx" in got.headers["content-disposition"]
    doc = Document(io.BytesIO(got.content))
    texts = [p.text for p in doc.paragraphs]
    children = ws.load_units().children("TX")
    assert f"2/{len(children)} cơ sở đã báo cáo; chưa báo cáo: " in "\n".join(texts)
    heading = [c.text for row in doc.tables[0].rows for c in row.cells]
    assert any("BCH ĐOÀN HUYỆN THỌ XUÂN" in t for t in heading)
    (ws.root / "mau-bao-cao.docx").write_bytes(_docx_with("{{ chua_dong"))
    broken = client.get(f"/chien-dich/{CID}/bao-cao.docx")
    assert broken.status_code == 400 and "Mẫu báo cáo không dùng được" in broken.text
    assert "chua_dong" in broken.text


def _docx_with(text: str) -> bytes:
    from docx import Document

    doc = Document()
    doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
