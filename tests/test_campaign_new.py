"""``toolkit campaign new PLAN``: from a Word plan to the campaign workbook, the preview and,
after ``campaign load``, the templates — the clerk's whole path, on real files."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import openpyxl
import pytest
from click.testing import CliRunner
from plan_builders import TABLES_161, build_docx, plan_161

from toolkit.cli import cli
from toolkit.spec.meta import META_SHEET

FORM_IDS = [f"PL{i}" for i in range(1, len(TABLES_161) + 1)]


def _caption_title(caption: tuple[str, ...]) -> str:
    """«Phụ lục 2: Tình hình …» → «Tình hình …» (the test's own table data)."""
    return " ".join(caption).split(":", 1)[1].strip()


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("new")
    (cwd / "KH 161.docx").write_bytes(build_docx(plan_161()))
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        result = runner.invoke(cli, ["campaign", "new", "KH 161.docx"])
    return runner, cwd, result


def test_new_writes_the_workbook_with_every_table_of_the_plan(made):
    _runner, cwd, result = made
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(cwd / "khai-bao_kh-161.xlsx")
    forms = [[c.value for c in row] for row in book["Biểu"].iter_rows(min_row=2)
             if row[0].value]
    assert [f[0] for f in forms] == FORM_IDS
    for row, table in zip(forms, TABLES_161, strict=True):
        assert row[2] == _caption_title(table.caption).rstrip(".")
    campaign = {row[0].value: row[1].value for row in book["Chiến dịch"].iter_rows()}
    assert "161-KH/ĐTN" in campaign.values()


def test_new_lists_every_question_in_the_workbook_and_on_screen(made):
    _runner, cwd, result = made
    book = openpyxl.load_workbook(cwd / "khai-bao_kh-161.xlsx")
    asked = [row[2].value for row in book["Câu hỏi"].iter_rows(min_row=2) if row[2].value]
    said = re.search(r"Cần trả lời (\d+) câu hỏi", result.output)
    assert said and int(said.group(1)) == len(asked) > 0
    for question in asked:
        assert question in result.output
    # the plan names no denominator for its three rates: each is asked (seed 002, PL5)
    assert sum("mẫu số" in q for q in asked) == 3


def test_the_preview_is_the_blank_template_of_every_form(made):
    _runner, cwd, _result = made
    book = openpyxl.load_workbook(cwd / "khai-bao_kh-161_xem-truoc.xlsx")
    assert [s for s in book.sheetnames if s.startswith("PL")] == FORM_IDS
    assert META_SHEET in book.sheetnames
    for form_id, table in zip(FORM_IDS, TABLES_161, strict=True):
        texts = {str(c.value) for row in book[form_id].iter_rows(max_row=8) for c in row
                 if c.value}
        assert any(_caption_title(table.caption).rstrip(".") in t for t in texts), form_id


@pytest.mark.libreoffice
def test_the_preview_prints_with_its_diacritics(made):
    _runner, cwd, _result = made
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils not installed")
    text = subprocess.run(["pdftotext", str(cwd / "khai-bao_kh-161_xem-truoc.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "PHỤ LỤC 2" in text
    assert "Bí thư, Phó Bí thư Đoàn" in text


def test_load_then_make_templates_gives_the_plan_tables(made, monkeypatch):
    runner, cwd, _result = made
    monkeypatch.chdir(cwd)
    loaded = runner.invoke(cli, ["campaign", "load", "khai-bao_kh-161.xlsx", "--out", "kh161"])
    assert loaded.exit_code == 0, loaded.output
    made_templates = runner.invoke(cli, ["make-templates", "--campaign", "kh161", "--office",
                                         "TX", "--out", "bm"])
    assert made_templates.exit_code == 0, made_templates.output
    blank = next((cwd / "bm").glob("*mau-trong.xlsx"))
    book = openpyxl.load_workbook(io.BytesIO(blank.read_bytes()))
    headers = {str(c.value) for row in book["PL2"].iter_rows(max_row=14) for c in row if c.value}
    for label in ("Bí thư, Phó Bí thư Đoàn", "Ban Thường vụ", "Ban Chấp hành", "Thạc sỹ"):
        assert label in headers


def test_new_never_overwrites_without_force(made, monkeypatch):
    runner, cwd, _result = made
    monkeypatch.chdir(cwd)
    before = (cwd / "khai-bao_kh-161.xlsx").read_bytes()
    again = runner.invoke(cli, ["campaign", "new", "KH 161.docx"])
    assert again.exit_code == 1
    assert "--force" in again.output and "Traceback" not in again.output
    assert (cwd / "khai-bao_kh-161.xlsx").read_bytes() == before


@pytest.mark.parametrize("content", [b"", b"not a plan at all", b"PK\x03\x04broken zip"])
def test_a_file_that_is_no_plan_is_one_vietnamese_line_and_nothing_is_written(
        tmp_path, monkeypatch, content):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ke-hoach.docx").write_bytes(content)
    result = CliRunner().invoke(cli, ["campaign", "new", "ke-hoach.docx"])
    assert result.exit_code == 1
    assert result.output.startswith("Lỗi: ")
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ke-hoach.docx"]


def test_a_missing_plan_file_is_named(tmp_path):
    result = CliRunner().invoke(cli, ["campaign", "new", str(tmp_path / "khong-co.docx")])
    assert result.exit_code == 1
    assert "không tìm thấy" in result.output
