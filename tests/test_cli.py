"""The CLI: a test per command, user mistakes give one Vietnamese line and exit ≠ 0, and
every command is documented in README.md."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from toolkit._infra.paths import samples_dir
from toolkit.cli import cli
from toolkit.spec.meta import META_SHEET, parse_meta
from toolkit.spec.units import load_units

README = Path(__file__).resolve().parent.parent / "README.md"


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    """Every command, sub-commands of groups included: ("mail", "fetch") …"""
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


def test_every_command_has_help_and_a_readme_entry():
    readme = README.read_text(encoding="utf-8")
    names = list(_commands(cli))
    assert ("campaign", "new") in dict(names) and ("mail", "fetch") in dict(names)
    for path, command in names:
        assert command.help, f"{' '.join(path)} has no help"
        result = run(*path, "--help")
        assert result.exit_code == 0
        words = r"\s+".join(re.escape(p) for p in path)
        assert re.search(rf"toolkit\s+{words}\b", readme), f"README lacks {' '.join(path)}"


def test_make_templates_writes_one_file_per_child(tmp_path):
    result = run("make-templates", "--office", "TX", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    children = load_units(samples_dir() / "units.csv").children("TX")
    files = sorted(tmp_path.glob("*.xlsx"))
    assert len(files) == len(children) + 1
    codes = set()
    for path in files:
        meta = parse_meta(list(load_workbook(path)[META_SHEET].iter_rows(values_only=True)))
        codes.add(meta.unit_code)
    assert codes == {u.code for u in children} | {""}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--units", "khong-co.csv"], "Không tìm thấy tệp đơn vị"),
        (["--office", "XYZ"], "XYZ"),
        (["--campaign", "khong-co"], "Không tìm thấy chiến dịch «khong-co»"),
    ],
)
def test_make_templates_user_mistakes(tmp_path, args, needle):
    result = CliRunner().invoke(cli, ["make-templates", *args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert needle in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_make_templates_duplicate_unit_code(tmp_path):
    units = tmp_path / "units.csv"
    units.write_text("code,name,level,parent,email\nA,Tỉnh đoàn,tinh,,\nB,Huyện đoàn,huyen,A,\n"
                     "B,Huyện đoàn khác,huyen,A,\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["make-templates", "--units", str(units),
                                      "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "bị trùng" in result.output


def test_consolidate_missing_inbox_is_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["consolidate", str(tmp_path / "nope"), "--office", "TX",
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "Không tìm thấy thư mục" in result.output
    assert "Traceback" not in result.output


def test_consolidate_sample_inbox(tmp_path):
    inbox = samples_dir() / "inbox"
    result = run("consolidate", str(inbox), "--office", "TX", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(
        (tmp_path / "submissions.csv").read_bytes().decode("utf-8-sig"))))
    status = {r["unit_code"]: r["status"] for r in rows if r["status"] != "superseded"}
    assert status["TX32"] == "missing"
    assert status["TX07"] == "rejected"  # breakdown larger than Số lượng
    assert status["TX13"] == "accepted"  # numbers typed as text are converted, with a warning
    assert "Chưa nộp" in result.output


def test_campaigns_lists_builtin_campaigns():
    result = run("campaigns")
    assert result.exit_code == 0
    assert "nq02-2020" in result.output
    assert "161-KH/ĐTN" in result.output
    assert "20/01/2021" in result.output


def test_consolidate_rerun_gives_byte_identical_outputs(tmp_path):
    """The run's time comes from the inbox (newest arrival), not the clock: same inbox, same
    bytes — summary, feedback and CSVs alike."""
    inbox = samples_dir() / "inbox"
    for name in ("a", "b"):
        assert run("consolidate", str(inbox), "--office", "TX",
                   "--out", str(tmp_path / name)).exit_code == 0
    first = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*")
                   if p.is_file())
    assert any(p.suffix == ".xlsx" for p in first)
    for rel in first:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
