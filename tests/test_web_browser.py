"""The whole loop in a real browser, as a clerk does it: Debian's Chromium driven by
Playwright against ``toolkit serve`` started on a fresh workspace (a subprocess, a free port).

Expected figures come from the values this test typed into the workbooks and from the units
file read here with the csv module, never from the code under test. With
``TOOLKIT_SCREENSHOTS=1`` the main pages are saved to ``docs/web-*.png`` for the README.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import random
import re
import shutil
import subprocess
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest
from openpyxl import load_workbook

from toolkit._infra.paths import samples_dir
from toolkit.spec.load import load_campaign
from toolkit.spec.meta import META_SHEET, parse_meta
from toolkit.testing import fill_workbook, sample_values

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api")

CAMPAIGN = load_campaign("nq02-2020")
DOCS = Path(__file__).resolve().parent.parent / "docs"
PLANTED = {("PL2", "-", "bt_so_luong"): 1, ("PL2", "-", "bt_thac_sy"): 1,
           ("PL2", "-", "bt_dai_hoc"): 1}  # two qualified of one secretary: a rule broken
PLANTED_COLUMNS = {"bt_so_luong", "bt_thac_sy", "bt_dai_hoc", "bt_cd_tc"}


def _units_rows() -> list[dict[str, str]]:
    text = (samples_dir() / "units.csv").read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def server(tmp_path):
    """``toolkit serve`` on an empty folder; yields the page's address."""
    folder = tmp_path / "van-phong"
    proc = subprocess.Popen(
        [sys.executable, "-m", "toolkit.cli", "serve", str(folder), "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert match, f"no address printed: {line!r}"
        yield match.group(0), folder
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def page():
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1366, "height": 768},
                                      accept_downloads=True, locale="vi-VN")
        yield context.new_page()
        browser.close()


def _shot(page, name: str) -> None:
    if os.environ.get("TOOLKIT_SCREENSHOTS") == "1":
        page.screenshot(path=str(DOCS / f"web-{name}.png"))


def _download(page, selector: str, into: Path) -> Path:
    with page.expect_download() as info:
        page.click(selector)
    path = into / info.value.suggested_filename
    info.value.save_as(path)
    return path


def _expected_office(data: dict[str, dict], order: list[str]) -> dict[tuple, object]:
    """Sums per (form, row, column) over the units, list rows one after another in
    units-file order: what the office's own figures must be."""
    sums: dict[tuple, float] = defaultdict(float)
    expected: dict[tuple, object] = {}
    list_rows: dict[str, list[dict]] = defaultdict(list)
    for code in sorted(data, key=order.index):
        values = data[code]
        for form in CAMPAIGN.forms:
            if form.kind == "list":
                for r in sorted({int(r) for (f, r, _c) in values if f == form.id}):
                    list_rows[form.id].append({c: v for (f, rr, c), v in values.items()
                                               if f == form.id and rr == str(r)})
                continue
            for col in form.input_columns:
                if col.aggregate != "sum":
                    continue
                for row in form.row_keys():
                    v = values.get((form.id, row, col.key))
                    if v is not None:
                        sums[(form.id, row, col.key)] += float(v)
                        expected[(form.id, row, col.key)] = None
    expected = {k: sums[k] for k in expected}
    for form_id, rows in list_rows.items():
        for i, row in enumerate(rows, start=1):
            expected.update({(form_id, str(i), c): v for c, v in row.items()})
    return expected


def _same(actual: object, expected: object) -> bool:
    if isinstance(expected, dt.datetime):
        return (actual.date() if isinstance(actual, dt.datetime) else
                dt.date.fromisoformat(str(actual)[:10])) == expected.date()
    if isinstance(expected, int | float):
        return isinstance(actual, int | float) and math.isclose(actual, expected, abs_tol=1e-9)
    return actual == expected


def test_the_clerks_whole_loop(server, page, tmp_path):
    url, folder = server
    rows = _units_rows()
    order = [r["code"] for r in rows]
    children = [r["code"] for r in rows if r["parent"] == "TX"]
    work = tmp_path / "may-cua-van-thu"
    work.mkdir()

    # the keyboard reaches the page: the first Tab lands on "skip to content"
    page.goto(url)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#noi-dung"
    assert "tải lên danh sách đơn vị" in page.inner_text("main")

    # 1. the units file the office keeps; then the office is chosen in it
    page.click("nav >> text=Đơn vị")
    page.set_input_files("#tep-don-vi", str(samples_dir() / "units.csv"))
    page.click("button:has-text('Tải lên')")
    assert page.locator("#cay-don-vi tbody tr").count() == len(rows)
    page.select_option("#chon-van-phong", "TX")
    page.click("button:has-text('Chọn')")
    assert page.locator("#chon-van-phong").input_value() == "TX"
    _shot(page, "units")

    # 2. the plan read and previewed (a new campaign); then, for the loop, the built-in one
    from plan_builders import build_docx, plan_161

    plan = work / "Kế hoạch 161.docx"
    plan.write_bytes(build_docx(plan_161()))
    page.click("nav >> text=Chiến dịch")
    page.set_input_files("#tep-ke-hoach", str(plan))
    page.click("button:has-text('Đọc kế hoạch')")
    page.wait_for_url(re.compile(r"/ke-hoach/"))
    assert page.locator("details.preview").count() == len(CAMPAIGN.forms)
    _shot(page, "plan")
    page.click("nav >> text=Chiến dịch")
    page.select_option("#chon-chien-dich", "nq02-2020")
    page.click("button:has-text('Thêm chiến dịch')")
    page.wait_for_url(re.compile(r"/chien-dich/nq02-2020$"))
    assert page.inner_text("#so-lieu [data-count=missing]") == str(len(children))

    # 3. the templates, all in one zip; three units fill theirs (one with a mistake)
    archive = zipfile.ZipFile(_download(page, "#tai-bieu-mau", work))
    names = archive.namelist()
    assert len(names) == len(children) + 1  # one per unit and the blank
    data: dict[str, dict] = {}
    files = []
    for code in ("TX01", "TX02", "TX03"):
        (name,) = [n for n in names if n.startswith(f"nq02-2020_{code}_")]
        values = sample_values(CAMPAIGN, random.Random(f"web-{code}"))
        if code == "TX03":
            values.update(PLANTED)
        data[code] = values
        path = work / f"{code} báo cáo.xlsx"
        path.write_bytes(fill_workbook(archive.read(name), values,
                                       modified=dt.datetime(2021, 1, 15, 9, 0)))
        files.append(str(path))
    pdf = work / "công văn.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
    files.append(str(pdf))

    # 4. into the inbox at once; the board counts them
    page.set_input_files("#chon-tep", files)
    page.click("#nut-nop")
    page.wait_for_url(re.compile(r"\?lan="))
    report = page.inner_text("#ket-qua-tai-len")
    assert all(f"✓ {Path(f).name}" in report for f in files), report
    counts = {key: page.inner_text(f"#so-lieu [data-count={key}]")
              for key in ("expected", "received", "accepted", "rejected", "missing", "late")}
    assert counts == {"expected": str(len(children)), "received": "3", "accepted": "2",
                      "rejected": "1", "missing": str(len(children) - 3),
                      "late": "0"}  # received when each unit saved it (15/01/2021), not today
    assert "công văn.pdf" in page.inner_text("#tep-khac")
    for code, status in (("TX01", "accepted"), ("TX02", "accepted"), ("TX03", "rejected"),
                         ("TX04", "missing")):
        assert page.get_attribute(f"#bang-don-vi tr[data-unit={code}]", "data-status") == status
    _shot(page, "campaign")

    # the home page shows the same counts
    page.click("nav >> text=Chiến dịch")
    row = "#bang-chien-dich tr[data-campaign='nq02-2020']"
    assert page.inner_text(f"{row} [data-count=rejected]") == "1"
    assert page.inner_text(f"{row} [data-count=missing]") == str(len(children) - 3)
    _shot(page, "home")

    # 5. the rejected unit's findings, at the cells of the broken rule
    page.click(f"{row} a")
    page.click(f"#bang-don-vi a:has-text('{_name(rows, 'TX03')}')")
    assert "Bị trả lại" in page.inner_text("#tinh-trang")
    template = load_workbook(io.BytesIO(archive.read(
        next(n for n in names if n.startswith("nq02-2020_TX03_")))))
    meta = parse_meta(list(template[META_SHEET].iter_rows(values_only=True)))
    rule_cells = {c.cell for c in meta.cells if c.form == "PL2" and c.column in PLANTED_COLUMNS}
    errors = [[td.strip() for td in tr.split("\t")] for tr in
              page.locator("table.findings tr.error").all_inner_texts()]
    assert any(e[0] == "PL2" and e[1] in rule_cells for e in errors), errors
    feedback = _download(page, ".feedback-link", work)
    assert load_workbook(feedback).sheetnames  # a real workbook
    _shot(page, "unit")

    # 6. the summary: the office's figures equal the sums of the two accepted units
    page.click(f"a:has-text('{CAMPAIGN.document_number}')")
    summary = _download(page, "#tai-tong-hop", work)
    book = load_workbook(summary, data_only=True)
    smeta = parse_meta(list(book[META_SHEET].iter_rows(values_only=True)))
    actual = {(c.form, c.row, c.column): book[c.sheet][c.cell].value for c in smeta.cells}
    expected = _expected_office({c: data[c] for c in ("TX01", "TX02")}, order)
    assert len(expected) > 50
    for key, value in expected.items():
        assert _same(actual.get(key), value), f"{key}: {actual.get(key)!r} != {value!r}"

    # 7. reminders to the units still missing or rejected, shown before anything is sent
    page.click("#thu")
    page.fill("input[name=smtp_host]", "smtp.thoxuan.doan.example")
    page.fill("input[name=sender]", "vanphong@thoxuan.doan.example")
    page.click("button:has-text('Lưu')")
    assert page.locator("details.mail").count() == len(children) - 2  # all but TX01, TX02
    assert f"Gửi {len(children) - 2} thư" in page.inner_text("#nut-gui")
    _shot(page, "mail")

    # the files landed as sent, and nothing else was written into the inbox
    inbox = folder / "chien-dich" / "nq02-2020" / "hop-thu"
    assert sorted(p.name for p in inbox.iterdir()) == sorted(Path(f).name for f in files)
    for f in files:
        assert (inbox / Path(f).name).read_bytes() == Path(f).read_bytes()
    shutil.rmtree(work)


def _name(rows: list[dict[str, str]], code: str) -> str:
    return next(r["name"] for r in rows if r["code"] == code)


def test_files_dropped_on_the_page_land_in_the_inbox(tmp_path, page):
    import base64

    from toolkit.spec.units import load_units
    from toolkit.workspace import init_workspace
    from toolkit.write.templates import template_bytes

    ws = init_workspace(tmp_path / "ws", units=samples_dir() / "units.csv", office="TX")
    ws.add_campaign("nq02-2020")
    units = load_units(samples_dir() / "units.csv")
    books = {code: fill_workbook(template_bytes(CAMPAIGN, units.get(code), units.get("TX")),
                                 sample_values(CAMPAIGN, random.Random(f"drop-{code}")))
             for code in ("TX05", "TX06")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "toolkit.cli", "serve", str(ws.root), "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8")
    try:
        assert proc.stdout is not None
        url = re.search(r"http://127\.0\.0\.1:\d+/", proc.stdout.readline()).group(0)
        page.goto(url + "chien-dich/nq02-2020")
        files = [{"name": f"{code} gửi lại.xlsx", "b64": base64.b64encode(data).decode()}
                 for code, data in books.items()]
        page.evaluate("""(files) => {
            const dt = new DataTransfer();
            for (const f of files) {
                const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
                dt.items.add(new File([bytes], f.name));
            }
            const zone = document.querySelector("[data-drop]");
            zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: dt, bubbles: true}));
            zone.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true}));
        }""", files)
        assert "Đã chọn 2 tệp kéo thả" in page.inner_text("[data-drop]")
        page.click("#nut-nop")
        page.wait_for_url(re.compile(r"\?lan="))
        assert page.inner_text("#so-lieu [data-count=accepted]") == "2"
        inbox = ws.inbox("nq02-2020")
        for code, data in books.items():
            assert (inbox / f"{code} gửi lại.xlsx").read_bytes() == data
    finally:
        proc.terminate()
        proc.wait(timeout=10)
