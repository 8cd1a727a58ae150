"""The Word report (toolkit report): generated inboxes consolidated, the report written, read
back with python-docx, every figure checked against sums this test computes from the values
it wrote into the units' workbooks (never from the code under test).

Numbers are read back from the text (``18.650`` → 18650, ``4,7%`` → 4.7) and compared with
the test's own sums: counts exactly, rates and shares to the one decimal the report prints.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import random
import re
import shutil
import subprocess
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from lo import (  # noqa: F401  (libreoffice_required: an autouse fixture)
    libreoffice_required,
    pdf_text,
    require_poppler,
    squeeze,
)

from toolkit._infra import soffice
from toolkit._infra.paths import samples_dir
from toolkit.cli import cli
from toolkit.pipeline import consolidate
from toolkit.report.summary import summary_bytes
from toolkit.report.word import ReportTemplateError, render
from toolkit.report.word.template import TEMPLATE_PATH, template_bytes
from toolkit.spec.campaign import Campaign, Form
from toolkit.spec.data import campaign_to_data
from toolkit.spec.load import campaign_from_data, load_campaign
from toolkit.spec.units import load_units
from toolkit.testing import fill_workbook, sample_values
from toolkit.write.allocation import allocation_bytes, read_allocation
from toolkit.write.templates import template_bytes as workbook_template

UNITS = load_units(samples_dir() / "units.csv")
NOW = dt.datetime(2021, 1, 25, 9, 0)
MODIFIED = dt.datetime(2021, 1, 15, 9, 0)
NUMBER = r"\d{1,3}(?:\.\d{3})*(?:,\d+)?"


def num(text: str) -> float:
    """``18.650`` → 18650.0; ``4,7`` → 4.7 (the Vietnamese way, read independently)."""
    return float(text.replace(".", "").replace(",", "."))


# ----------------------------------------------------------------------------- inboxes


def _allocation(campaign: Campaign, office_code: str, root: Path) -> dict[str, dict] | None:
    """Every unit given every indicator of the targets form (counts 5–40, rates 60–90 %)."""
    forms = [f for f in campaign.forms if f.kind == "targets"]
    if not forms:
        return None
    form, rng = forms[0], random.Random(f"alloc-{campaign.id}-{office_code}")
    values = {(form.id, u.code, i.key): float(rng.choice((60, 75, 90)) if i.is_rate
                                              else rng.randint(5, 40))
              for u in UNITS.children(office_code) for i in form.indicators}
    office = UNITS.get(office_code)
    path = root / f"phan-bo-{office_code}.xlsx"
    path.write_bytes(allocation_bytes(campaign, UNITS, office, values=values))
    return read_allocation(path, campaign, UNITS, office).targets


def _results(campaign: Campaign, targets: dict | None, rng: random.Random) -> dict:
    values = sample_values(campaign, rng)
    for form in campaign.forms:
        if form.kind != "targets":
            continue
        for key in [k for k in values if k[0] == form.id]:
            del values[key]
        for ind in form.indicators:
            if ind.is_rate:
                den = rng.randint(10, 60)
                values[(form.id, ind.key, "ket_qua_mau_so")] = den
                values[(form.id, ind.key, "ket_qua")] = rng.randint(den // 2, den)
            else:
                values[(form.id, ind.key, "ket_qua")] = rng.randint(0, 60)
            if rng.random() < 0.5:
                values[(form.id, ind.key, "ghi_chu")] = f"Ghi chú {ind.key} {rng.randint(1, 99)}"
    return values


def build_inbox(campaign: Campaign, office_code: str, root: Path, *, missing: str = "",
                broken: str = "") -> dict[str, Any]:
    """One filled workbook per child of the office, except ``missing``; ``broken`` gets a
    breakdown larger than its Số lượng (PL2), so it is sent back."""
    inbox = root / f"inbox-{office_code}"
    inbox.mkdir(parents=True)
    office = UNITS.get(office_code)
    allocation = _allocation(campaign, office_code, root)
    data: dict[str, dict] = {}
    for unit in UNITS.children(office_code):
        if unit.code == missing:
            continue
        targets = allocation[unit.code] if allocation else None
        values = _results(campaign, targets, random.Random(f"rep-{campaign.id}-{unit.code}"))
        if unit.code == broken:
            values[("PL2", "-", "bt_thac_sy")] = values[("PL2", "-", "bt_so_luong")] + 5
        book = fill_workbook(workbook_template(campaign, unit, office, targets=targets),
                             values, modified=MODIFIED)
        (inbox / f"{unit.code}.xlsx").write_bytes(book)
        data[unit.code] = {"values": values, "targets": (targets or {})}
    result = consolidate(inbox, campaign, UNITS, office, now=NOW)
    accepted = [u.code for u in UNITS.children(office_code) if u.code in data
                and u.code != broken]
    assert {s.unit_code for s in result.submissions if s.status == "accepted"} == set(accepted)
    return {"campaign": campaign, "result": result, "data": data, "accepted": accepted,
            "inbox": inbox, "office": office_code, "missing": missing, "broken": broken}


def total(run: dict[str, Any], form: str, row: str, col: str,
          codes: list[str] | None = None) -> float | None:
    """Σ of one cell over the accepted units (None when every unit left it blank)."""
    vals = [run["data"][c]["values"].get((form, row, col)) for c in codes or run["accepted"]]
    nums = [float(v) for v in vals if v is not None and v != ""]
    return math.fsum(nums) if nums else None


# ----------------------------------------------------------------------------- reading back


def paragraphs(doc: Any) -> list[str]:
    return [p.text for p in doc.paragraphs]


def under(doc: Any, heading: str) -> list[str]:
    """The paragraphs between ``heading`` and the next heading of the outline."""
    texts = paragraphs(doc)
    start = texts.index(heading)
    out = []
    for p in doc.paragraphs[start + 1:]:
        if p.runs and p.runs[0].bold and not p.text.startswith("["):
            break
        if p.runs and p.runs[0].italic and p.text.startswith("* "):
            break
        out.append(p.text)
    return out


def figure(text: str, label: str, *, last: bool = False) -> tuple[float, float | None]:
    """The figure after ``label`` in a sentence, and the share in brackets after it (the
    last such label with ``last``: «trung cấp» of LLCT after «cao đẳng, trung cấp»)."""
    found = list(re.finditer(rf"(?<![\w]){re.escape(label)} ({NUMBER})(?:%)?"
                             rf"(?: \(({NUMBER})%\))?", text))
    assert found, f"{label!r} not in {text!r}"
    m = found[-1] if last else found[0]
    return num(m[1]), (num(m[2]) if m[2] else None)


def pct_close(printed: float, fraction: float) -> bool:
    return abs(printed - fraction * 100) <= 0.05 + 1e-9


def appendix_table(doc: Any, form: Form) -> list[list[str]]:
    """Rows of the appendix table of ``form`` (found by the title line above it)."""
    body = doc.element.body
    titles = [p for p in body.iter(qn("w:p"))
              if "".join(t.text or "" for t in p.iter(qn("w:t"))) == form.title]
    assert titles, form.title
    node = titles[-1].getnext()
    while node is not None and node.tag != qn("w:tbl"):
        node = node.getnext()
    assert node is not None, form.id
    table = next(t for t in doc.tables if t._tbl is node)
    rows = []
    for row in table.rows:
        cells = []
        for tc in row._tr.tc_lst:  # merged cells once each
            cells.append("".join(t.text or "" for t in tc.iter(qn("w:t"))))
        rows.append(cells)
    return rows


def data_rows(rows: list[list[str]]) -> list[list[str]]:
    """The rows under the ``(1) (2) …`` line."""
    i = next(n for n, r in enumerate(rows) if r and r[0] == "(1)")
    return rows[i + 1:]


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def nq02(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("report-nq02")
    run = build_inbox(load_campaign("nq02-2020"), "TX", root, missing="TX05", broken="TX07")
    run["doc"] = Document(io.BytesIO(render(run["result"], place="Thọ Xuân")))
    return run


@pytest.fixture(scope="module", params=["giua-nhiem-ky-2017-2022", "nq01-hoc-tap-2018"])
def targets_run(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp(f"report-{request.param}")
    office = "TS" if request.param.startswith("giua") else "NL"
    run = build_inbox(load_campaign(request.param), office, root,
                      missing=UNITS.children(office)[-1].code)
    run["doc"] = Document(io.BytesIO(render(run["result"])))
    return run


# ----------------------------------------------------------------------------- the document


def test_heading_page_and_font_follow_the_doan_format(nq02: dict[str, Any]) -> None:
    doc = nq02["doc"]
    heading = doc.tables[0]
    left = [p.text for p in heading.cell(0, 0).paragraphs]
    right = heading.cell(0, 1).paragraphs
    assert left == ["BCH ĐOÀN TỈNH THANH HÓA", "BCH ĐOÀN HUYỆN THỌ XUÂN", "***",
                    "Số:       -BC/ĐTN"]
    assert right[0].text == "ĐOÀN TNCS HỒ CHÍ MINH"
    assert right[0].runs[0].underline and right[0].runs[0].bold
    assert right[-1].text.startswith("Thọ Xuân, ngày") and "tháng" in right[-1].text
    borders = heading._tbl.tblPr.find(qn("w:tblBorders"))
    assert all(b.get(qn("w:val")) == "nil" for b in borders)
    texts = paragraphs(doc)
    i = texts.index("BÁO CÁO")
    assert texts[i + 1] == nq02["campaign"].title
    section = doc.sections[0]
    def mm(length: int) -> float:  # Word stores twentieths of a point: 0.02 mm steps
        return round(length / Mm(1), 1)

    assert (mm(section.page_width), mm(section.page_height)) == (210, 297)
    assert [mm(section.top_margin), mm(section.bottom_margin), mm(section.left_margin),
            mm(section.right_margin)] == [20, 20, 30, 15]
    assert section.different_first_page_header_footer
    instr = "".join(t.text for t in section.header._element.iter(qn("w:instrText")))
    assert "PAGE" in instr
    assert section.header.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert section.first_page_header.is_linked_to_previous  # page 1: no number
    normal = doc.styles["Normal"]
    assert normal.font.name == "Times New Roman" and normal.font.size == Pt(14)
    assert normal.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY
    assert normal.paragraph_format.first_line_indent > 0
    sign = doc.tables[1]
    assert [p.text for p in sign.cell(0, 0).paragraphs] == [
        "Nơi nhận:", "- Ban Thường vụ Tỉnh đoàn Thanh Hóa (b/c);", "- Lưu VP."]
    right_sign = [p.text for p in sign.cell(0, 1).paragraphs if p.text]
    assert right_sign[:2] == ["TM. BAN THƯỜNG VỤ HUYỆN ĐOÀN", "BÍ THƯ"]


def test_body_follows_the_outline_in_order(nq02: dict[str, Any]) -> None:
    texts = paragraphs(nq02["doc"])
    places = [texts.index(s.heading) for s in nq02["campaign"].outline]
    assert places == sorted(places)
    for section in nq02["campaign"].outline:
        if section.points:  # what only people know: a marked, highlighted placeholder
            block = under(nq02["doc"], section.heading)
            marked = [t for t in block if t.startswith("[Phần cần viết:")]
            assert marked and all(p in marked[0] for p in section.points), section.heading


def test_reporting_status_names_the_missing_and_the_sent_back(nq02: dict[str, Any]) -> None:
    block = under(nq02["doc"], nq02["campaign"].outline[0].heading)
    n = len(UNITS.children("TX"))
    missing, broken = UNITS.get(nq02["missing"]).name, UNITS.get(nq02["broken"]).name
    assert block[0] == f"{n - 2}/{n} cơ sở đã báo cáo; chưa báo cáo: {missing}."
    assert block[1] == f"Báo cáo bị trả lại để sửa lỗi, chưa được tổng hợp: {broken}."


def _group_checks(run: dict[str, Any], sentence: str, form: str,
                  cols: list[tuple[str, str]], base: str) -> None:
    """Each (label, key): the sum, and its share of the group's Số lượng."""
    base_sum = total(run, form, "-", base)
    assert figure(sentence, "số lượng")[0] == base_sum
    for label, key in cols:
        value, share = figure(sentence, label, last=label == "trung cấp")
        assert value == total(run, form, "-", key), (label, sentence)
        assert share is not None and pct_close(share, value / base_sum), (label, sentence)


def test_cadre_figures_are_the_sums_of_the_accepted_units(nq02: dict[str, Any]) -> None:
    doc = nq02["doc"]
    block = under(doc, nq02["campaign"].outline[0].heading)
    for prefix, root in (("bt", "Bí thư, Phó Bí thư Đoàn"), ("btv", "Ban Thường vụ"),
                         ("bch", "Ban Chấp hành")):
        (sentence,) = [t for t in block if t.startswith(root + ":")]
        _group_checks(nq02, sentence, "PL2", [
            ("thạc sỹ", f"{prefix}_thac_sy"), ("đại học", f"{prefix}_dai_hoc"),
            ("cao đẳng, trung cấp", f"{prefix}_cd_tc"),
            ("cao cấp, cử nhân", f"{prefix}_llct_cc"), ("trung cấp", f"{prefix}_llct_tc")],
            f"{prefix}_so_luong")
    cadres = under(doc, "* Công tác cán bộ")
    (pbt,) = [t for t in cadres if t.startswith("Phó Bí thư Đoàn:")]
    _group_checks(nq02, pbt, "PL3", [("dân tộc thiểu số", "pbt_dan_toc"),
                                     ("tôn giáo", "pbt_ton_giao"), ("thạc sỹ", "pbt_thac_sy")],
                  "pbt_so_luong")
    assert f"Tham gia cấp ủy: {total(nq02, 'PL3', '-', 'cap_uy'):,.0f}.".replace(",", ".") \
        in cadres


def _in_sentence(label: str) -> str:
    """A header as the report words it inside a sentence (the wording rule, not a figure)."""
    label = label.replace(" (%)", "")
    parts = label.split(", ")
    return ", ".join(p[0].lower() + p[1:] if len(p) > 1 and p[1].islower() else p
                     for p in parts)


def test_every_single_row_figure_the_outline_names(nq02: dict[str, Any]) -> None:
    """Every summed column and every rate of the single-row forms under every heading that
    names them: the sum (or the rate from the summed numerator and denominator)."""
    campaign, doc = nq02["campaign"], nq02["doc"]
    checked = 0
    for section in campaign.outline:
        block = under(doc, section.heading)
        for ref in section.figures:
            form_id, _, keys = ref.partition(".")
            if form_id == "status" or campaign.form(form_id).kind != "single_row":
                continue
            form = campaign.form(form_id)
            cols = [form.column(k) for k in keys.split("+")] if keys else list(form.columns)
            for col in cols:
                if col.aggregate not in ("sum", "ratio"):
                    continue
                (sentence,) = [t for t in block if t.startswith(col.header[0] + ":")]
                if len(col.header) == 1:
                    assert num(sentence.split(": ")[1].rstrip(".")) == total(
                        nq02, form_id, "-", col.key)
                    checked += 1
                    continue
                middle = " ".join(_in_sentence(m) for m in col.header[1:-1])
                rest = sentence[sentence.index(middle + ":"):] if middle else sentence
                value, _share = figure(rest, _in_sentence(col.header[-1]))
                if col.aggregate == "ratio":
                    n_ = total(nq02, form_id, "-", col.numerator)
                    d_ = total(nq02, form_id, "-", col.denominator)
                    assert pct_close(value, n_ / d_), (col.key, sentence)
                else:
                    assert value == total(nq02, form_id, "-", col.key), (col.key, sentence)
                checked += 1
    assert checked == 52  # PL2: 18, PL3: 18, PL5: 16 (its chỉ tiêu column is not summed)


def test_training_years_total_and_notes(nq02: dict[str, Any]) -> None:
    cadres = under(nq02["doc"], "* Công tác cán bộ")
    years = ["2016", "2017", "2018", "2019", "2020"]
    (all_years,) = [t for t in cadres if t.startswith("Tổng cộng (năm 2016 - 2020):")]
    for label, key in (("tham gia ở cấp tỉnh (số người tham gia)", "tinh_so_nguoi"),
                       ("số lớp (hội nghị)", "co_so_so_lop"),
                       ("số người tham gia", "co_so_so_nguoi")):
        expected = math.fsum(total(nq02, "PL4", y, key) or 0 for y in years)
        assert figure(all_years, label)[0] == expected
        for year in years:
            (line,) = [t for t in cadres if t.startswith(f"Năm {year}:")]
            assert figure(line, label)[0] == total(nq02, "PL4", year, key)
    notes = [t for t in cadres if t.startswith("- ")]
    written = {(c, y): nq02["data"][c]["values"].get(("PL4", y, "ghi_chu"))
               for c in nq02["accepted"] for y in years}
    expected_notes = {f"- {UNITS.get(c).name} ({y}): {text}"
                      for (c, y), text in written.items() if text}
    assert set(notes) == expected_notes and expected_notes


def test_rates_are_recomputed_from_summed_numerators(nq02: dict[str, Any]) -> None:
    block = under(nq02["doc"], "1. Kết quả thực hiện các mục tiêu cụ thể của Nghị quyết")
    for root, n, d in (("Tỷ lệ ĐV, TN tham gia BHYT", "bhyt_so_nguoi", "bhyt_tong_so"),
                       ("Tỷ lệ hộ nghèo do ĐV, TN làm chủ", "ho_ngheo_so_ho",
                        "ho_ngheo_tong_so")):
        (sentence,) = [t for t in block if t.startswith(root + ":")]
        num_, den = total(nq02, "PL5", "-", n), total(nq02, "PL5", "-", d)
        rate = re.search(rf"tỷ lệ ({NUMBER})%", sentence)
        assert rate and pct_close(num(rate[1]), num_ / den), sentence


def test_documents_counted_by_kind(nq02: dict[str, Any]) -> None:
    block = under(nq02["doc"], nq02["campaign"].outline[1].heading)
    rows = [(c, k) for c in nq02["accepted"] for k in nq02["data"][c]["values"]
            if k[0] == "PL1" and k[2] == "loai_van_ban"]
    form = nq02["campaign"].form("PL1")
    assert block[0] == (f"{form.title}: {len(rows)} mục, do "
                        f"{len({c for c, _k in rows})} đơn vị báo cáo.")
    kinds = defaultdict(int)
    for c, k in rows:
        kinds[nq02["data"][c]["values"][k]] += 1
    (by_kind,) = [t for t in block if t.startswith("Theo thể loại văn bản:")]
    for kind, n in kinds.items():
        assert figure(by_kind, kind)[0] == n


def test_appendix_tables_hold_every_unit_and_the_totals(nq02: dict[str, Any]) -> None:
    doc, campaign = nq02["doc"], nq02["campaign"]
    for form_id in ("PL2", "PL3", "PL5"):
        form = campaign.form(form_id)
        rows = data_rows(appendix_table(doc, form))
        names = [UNITS.get(c).name for c in nq02["accepted"]]
        assert [r[1] for r in rows] == [*names, "Tổng cộng"]
        for r, code in zip(rows, [*nq02["accepted"], None], strict=True):
            for col, text in zip(form.columns, r[2:], strict=True):
                if col.aggregate == "ratio":
                    codes = [code] if code else None
                    n_, d_ = (total(nq02, form_id, "-", col.numerator, codes),
                              total(nq02, form_id, "-", col.denominator, codes))
                    assert pct_close(num(text.rstrip("%")), n_ / d_), (form_id, col.key)
                elif col.aggregate == "sum":
                    expected = total(nq02, form_id, "-", col.key, [code] if code else None)
                    assert (num(text) if text else None) == expected, (form_id, col.key, code)
    rows = data_rows(appendix_table(doc, campaign.form("PL4")))
    assert [r[1] for r in rows] == ["2016", "2017", "2018", "2019", "2020", "Tổng cộng"]
    col = campaign.form("PL4").columns.index(campaign.form("PL4").column("co_so_so_nguoi")) + 2
    for r in rows[:-1]:
        assert num(r[col]) == total(nq02, "PL4", r[1], "co_so_so_nguoi")
    pl2 = next(s for s in doc.sections[1:] if s.page_width > s.page_height)
    assert pl2.orientation == 1  # the wide forms are on landscape pages


def test_targets_sentences_and_appendix(targets_run: dict[str, Any]) -> None:
    run, doc = targets_run, targets_run["doc"]
    campaign = run["campaign"]
    form = next(f for f in campaign.forms if f.kind == "targets")
    section = next(s for s in campaign.outline if any(r.startswith(form.id)
                                                      for r in s.figures))
    block = under(doc, section.heading)
    table = {r[0]: r for r in data_rows(appendix_table(doc, form))}
    for ind in form.indicators:
        if section.figures != (form.id,) and not any(ind.key in r for r in section.figures):
            continue
        (sentence,) = [t for t in block if t.startswith(ind.name + ":")]
        behind = []
        if ind.is_rate:
            trip = [(run["data"][c]["targets"][form.id][ind.key],
                     run["data"][c]["values"][(form.id, ind.key, "ket_qua")],
                     run["data"][c]["values"][(form.id, ind.key, "ket_qua_mau_so")])
                    for c in run["accepted"]]
            den = math.fsum(n for _t, _k, n in trip)
            target = math.fsum(t * n for t, _k, n in trip) / den
            rate = math.fsum(k for _t, k, _n in trip) / den
            done = rate / (target / 100)
            m = re.search(rf"chỉ tiêu ({NUMBER})%, kết quả ({NUMBER})% \(({NUMBER})/({NUMBER})\)",
                          sentence)
            assert m, sentence
            assert abs(num(m[1]) - target) <= 0.05 + 1e-9 and pct_close(num(m[2]), rate)
            assert (num(m[3]), num(m[4])) == (math.fsum(k for _t, k, _n in trip), den)
            behind = [UNITS.get(c).name for c, (t, k, n) in zip(run["accepted"], trip,
                                                                 strict=True)
                      if (k / n) / (t / 100) < 1 - 1e-9]
        else:
            target = math.fsum(run["data"][c]["targets"][form.id][ind.key]
                               for c in run["accepted"])
            result = total(run, form.id, ind.key, "ket_qua")
            done = result / target
            assert figure(sentence, "chỉ tiêu")[0] == target
            assert figure(sentence, "kết quả")[0] == result
            assert f" {ind.unit}" in sentence
            behind = [UNITS.get(c).name for c in run["accepted"]
                      if run["data"][c]["values"][(form.id, ind.key, "ket_qua")]
                      < run["data"][c]["targets"][form.id][ind.key]]
        assert pct_close(figure(sentence, "đạt")[0], done), sentence
        word = "vượt chỉ tiêu" if done > 1 + 1e-9 else "đạt chỉ tiêu" if done >= 1 - 1e-9 \
            else "chưa đạt chỉ tiêu"
        assert word in sentence
        if behind:
            assert sentence.endswith(f"; đơn vị chưa đạt: {', '.join(behind)}.")
        else:
            assert "chưa đạt:" not in sentence
        row = table[ind.name]
        shown = [c.key for c in form.columns if c.key != "ghi_chu"]
        completion = row[2 + shown.index("ty_le_hoan_thanh")]
        assert pct_close(num(completion.rstrip("%")), done)
        # under the indicator's totals, one row per unit with its own result
        rows = data_rows(appendix_table(doc, form))
        at = next(i for i, r in enumerate(rows) if r[0] == ind.name)
        units = [r for r in rows[at + 1:at + 1 + len(run["accepted"])]]
        assert [r[0] for r in units] == [f"- {UNITS.get(c).name}" for c in run["accepted"]]
        for r, code in zip(units, run["accepted"], strict=True):
            own = run["data"][code]["values"][(form.id, ind.key, "ket_qua")]
            assert num(r[2 + shown.index("ket_qua")]) == own
    notes_ref = [r for s in campaign.outline for r in s.notes if r.startswith(form.id)]
    if notes_ref:
        holder = next(s for s in campaign.outline if notes_ref[0] in s.notes)
        lines = [t for t in under(doc, holder.heading) if t.startswith("- ")]
        expected = {f"- {UNITS.get(c).name} ({ind.name}): "
                    f"{run['data'][c]['values'][(form.id, ind.key, 'ghi_chu')]}"
                    for c in run["accepted"] for ind in form.indicators
                    if (form.id, ind.key, "ghi_chu") in run["data"][c]["values"]}
        assert set(lines) == expected and expected


def test_fixed_rows_and_list_forms_of_the_targets_campaigns(targets_run: dict[str, Any]
                                                            ) -> None:
    run, doc = targets_run, targets_run["doc"]
    for form in run["campaign"].forms:
        section = next((s for s in run["campaign"].outline if form.id in s.figures), None)
        if section is None or form.kind == "targets":
            continue
        block = under(doc, section.heading)
        if form.kind == "fixed_rows":
            for row in form.rows:
                (line,) = [t for t in block if t.startswith(row.label + ":")]
                for col in form.columns:
                    if col.is_numeric and total(run, form.id, row.key, col.key) is not None:
                        label = col.header[-1][0].lower() + col.header[-1][1:]
                        assert figure(line, label)[0] == total(run, form.id, row.key, col.key)
        else:
            rows = [(c, k) for c in run["accepted"] for k in run["data"][c]["values"]
                    if k[0] == form.id and k[2] == form.columns[0].key]
            assert block[0].startswith(f"{form.title}: {len(rows)} mục")
            money = form.column("kinh_phi")
            spent = math.fsum(float(v) for c in run["accepted"]
                              for k, v in run["data"][c]["values"].items()
                              if k[0] == form.id and k[2] == money.key)
            (sums,) = [t for t in block if t.startswith("Tổng cộng:")]
            assert abs(figure(sums, "kinh phí (triệu đồng)")[0] - spent) < 0.006


# ----------------------------------------------------------------------------- roll-up


def test_province_report_rolls_up_district_summaries(nq02: dict[str, Any],
                                                     tmp_path: Path) -> None:
    """The province's figures are sums over every base unit accepted by a district (Thọ
    Xuân's run above, with its missing and sent-back units, and two more districts)."""
    campaign = nq02["campaign"]
    province = tmp_path / "province"
    province.mkdir()
    runs = [nq02] + [build_inbox(campaign, d, tmp_path / d) for d in ("TS", "NL")]
    for run in runs:
        (province / f"tong-hop_{run['office']}.xlsx").write_bytes(summary_bytes(run["result"]))
    result = consolidate(province, campaign, UNITS, UNITS.get("TDTH"), now=NOW)
    doc = Document(io.BytesIO(render(result)))
    assert [p.text for p in doc.tables[0].cell(0, 0).paragraphs] == [
        "BCH ĐOÀN TỈNH THANH HÓA", "***", "Số:       -BC/TĐTN"]
    block = under(doc, campaign.outline[0].heading)
    assert block[0] == "3/3 đơn vị đã báo cáo."

    def everywhere(form: str, row: str, col: str) -> float:
        return math.fsum(total(r, form, row, col) or 0 for r in runs)

    (bt,) = [t for t in block if t.startswith("Bí thư, Phó Bí thư Đoàn:")]
    assert figure(bt, "số lượng")[0] == everywhere("PL2", "-", "bt_so_luong")
    assert figure(bt, "thạc sỹ")[0] == everywhere("PL2", "-", "bt_thac_sy")
    cadres = under(doc, "* Công tác cán bộ")
    (all_years,) = [t for t in cadres if t.startswith("Tổng cộng (năm 2016 - 2020):")]
    assert figure(all_years, "số người tham gia")[0] == math.fsum(
        everywhere("PL4", y, "co_so_so_nguoi") for y in ("2016", "2017", "2018", "2019",
                                                          "2020"))
    rows = data_rows(appendix_table(doc, campaign.form("PL2")))
    assert [r[1] for r in rows] == [UNITS.get(d).name for d in ("TX", "TS", "NL")] + [
        "Tổng cộng"]
    assert num(rows[-1][2]) == everywhere("PL2", "-", "bt_so_luong")


# ----------------------------------------------------------------------------- templates


def _with(template: bytes, old: str, new: str) -> bytes:
    """``template`` with one piece of text of word/document.xml replaced."""
    src = zipfile.ZipFile(io.BytesIO(template))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "word/document.xml":
                assert old.encode() in data
                data = data.replace(old.encode(), new.encode(), 1)
            dst.writestr(item, data)
    return out.getvalue()


def test_the_committed_template_is_what_the_code_makes() -> None:
    def parts(data: bytes) -> dict[str, bytes]:
        z = zipfile.ZipFile(io.BytesIO(data))
        return {n: z.read(n) for n in z.namelist()}

    assert parts(TEMPLATE_PATH.read_bytes()) == parts(template_bytes())


def test_an_office_template_with_one_tag_changed(nq02: dict[str, Any], tmp_path: Path) -> None:
    custom = _with(TEMPLATE_PATH.read_bytes(), "{{ title }}", "DỰ THẢO {{ subject|upper }}")
    doc = Document(io.BytesIO(render(nq02["result"], custom)))
    texts = paragraphs(doc)
    assert f"DỰ THẢO {nq02['campaign'].title.upper()}" in texts
    assert "BÁO CÁO" not in texts
    # through the command line, with --template
    path = tmp_path / "mau-rieng.docx"
    path.write_bytes(custom)
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["report", str(nq02["inbox"]), "--office", "TX",
                                   "--template", str(path), "--out", str(out)])
    assert res.exit_code == 0, res.output
    written = Document(out / "bao-cao_nq02-2020_TX.docx")
    assert f"DỰ THẢO {nq02['campaign'].title.upper()}" in paragraphs(written)


@pytest.mark.parametrize(("old", "new", "said"), [
    ("{{ intro }}", "{{ intro ", "«{{ intro»"),
    ("{{ subject }}", "{{ tieu_de }}", "«tieu_de»"),
    ("{{ s.placeholder }}", "{{ s.placeholder | khong_co }}", "khong_co"),
    ("{%p for line in s.sentences %}", "{%p for line in %}", "for line in"),
    ("{%p endfor %}</w:t>", "{%p endfr %}</w:t>", "endfr"),
])
def test_a_broken_template_is_named_and_nothing_is_written(nq02: dict[str, Any], tmp_path: Path,
                                                           old: str, new: str,
                                                           said: str) -> None:
    broken = _with(TEMPLATE_PATH.read_bytes(), old, new)
    with pytest.raises(ReportTemplateError) as info:
        render(nq02["result"], broken)
    message = str(info.value)
    assert message.startswith("Mẫu báo cáo không dùng được:")
    assert said in message and "đoạn" in message, message
    if old != "{{ intro }}":
        return  # the command line is checked once: it renders the same way
    path = tmp_path / "hong.docx"
    path.write_bytes(broken)
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["report", str(nq02["inbox"]), "--office", "TX",
                                   "--template", str(path), "--out", str(out)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "Mẫu báo cáo không dùng được" in res.output
    assert not (out / "bao-cao_nq02-2020_TX.docx").exists()


def test_a_file_that_is_not_a_docx_is_refused(nq02: dict[str, Any]) -> None:
    for data in (b"", b"not a zip", zipfile_bytes({"a.txt": b"x"})):
        with pytest.raises(ReportTemplateError, match=r"không phải \.docx"):
            render(nq02["result"], data)


def zipfile_bytes(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


# ----------------------------------------------------------------------------- the spec


def test_the_outline_is_not_part_of_the_spec_hash() -> None:
    for cid in ("nq02-2020", "giua-nhiem-ky-2017-2022", "nq01-hoc-tap-2018"):
        campaign = load_campaign(cid)
        assert campaign.outline
        folder = Path(campaign.source).parent
        data = yaml.safe_load((folder / "campaign.yaml").read_text(encoding="utf-8"))
        forms = [yaml.safe_load((folder / n).read_text(encoding="utf-8"))
                 for n in data["forms"]]
        without = {k: v for k, v in data.items() if k != "outline"}
        reworded = dict(data, outline=[dict(s, heading=s["heading"] + " (sửa)")
                                       for s in data["outline"]][:2])
        hashes = {campaign_from_data(d, forms, folder / "campaign.yaml").spec_sha256
                  for d in (data, without, reworded)}
        assert hashes == {campaign.spec_sha256}
        # and the canonical data keeps the outline: a round trip loses nothing
        again = campaign_from_data(*campaign_to_data(campaign), "x/campaign.yaml")
        assert again.outline == campaign.outline


@pytest.mark.parametrize(("outline", "said"), [
    ([{"heading": "I. X", "figures": ["PL9"]}], "không có biểu 'PL9'"),
    ([{"heading": "I. X", "figures": ["PL5.khong_co"]}], "không có cột 'khong_co'"),
    ([{"heading": "I. X", "notes": ["PL5.to_chuc_moi"]}], "ghi chú phải là một cột chữ"),
    ([{"heading": "", "figures": ["status"]}], "đề mục không được để trống"),
    ([{"heading": "I. X", "level": 7}], "cấp đề mục"),
])
def test_a_wrong_outline_is_a_spec_error(outline: list, said: str) -> None:
    from toolkit.spec.errors import SpecError

    data, forms = campaign_to_data(load_campaign("nq02-2020"))
    with pytest.raises(SpecError) as info:
        campaign_from_data(dict(data, outline=outline), forms, "x/campaign.yaml")
    assert said in str(info.value) and "outline[0]" in str(info.value)


# ----------------------------------------------------------------------------- LibreOffice


@pytest.mark.libreoffice
def test_libreoffice_prints_it_with_vietnamese_intact(nq02: dict[str, Any],
                                                      tmp_path: Path) -> None:
    require_poppler()
    data = render(nq02["result"], place="Thọ Xuân")
    pdf = tmp_path / "bao-cao.pdf"
    pdf.write_bytes(soffice.convert(data, "docx", "pdf", seconds=180))
    first, second = pdf_text(pdf, 1), pdf_text(pdf, 2)
    for text in ("ĐOÀN TNCS HỒ CHÍ MINH", "BCH ĐOÀN HUYỆN THỌ XUÂN", "BÁO CÁO",
                 "I. KHÁI QUÁT ĐẶC ĐIỂM, TÌNH HÌNH HOẠT ĐỘNG", "Thọ Xuân, ngày",
                 "Bí thư, Phó Bí thư Đoàn: số lượng"):
        assert squeeze(text) in squeeze(first), text
    assert second.split()[0] == "2"  # the page number, top centre, from page 2 on
    assert not first.split()[0].isdigit()
    whole = pdf_text(pdf)
    for form in nq02["campaign"].forms:
        assert squeeze(form.number.upper()) in squeeze(whole)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "30", "-f", "1", "-l", "1", str(pdf),
                        str(tmp_path / "page")], check=True, timeout=120)
        assert list(tmp_path.glob("page*.png"))
