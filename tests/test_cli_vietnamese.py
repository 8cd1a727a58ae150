"""Nothing English reaches the clerk from the ``toolkit`` command (issue 18 item 14): every
command's and group's ``--help``, and the usual mistakes (an unknown option, a missing
argument, a wrong value, an unknown campaign), are read for English words of the UI."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from toolkit.cli import cli

# words of click's and our own English UI; identifiers (--help, .xlsx, TOOLKIT_SMTP_HOST,
# campaign.yaml) are not words a clerk reads as prose and are stripped before the check
ENGLISH = re.compile(
    r"\b(Usage|Options|Commands|Arguments|Error|Show|this|message|exit|Try|for|help|the|"
    r"and|of|or|with|Missing|argument|option|Invalid|value|default|required|No such|"
    r"Did you mean|TEXT|PATH|INTEGER|FILE|DIRECTORY|OPTIONS|COMMAND|ARGS|PLAN|"
    r"WORKBOOK|is not|does not|exist|Aborted|version|built-in|campaign id|path|"
    r"Writes|Reads|Lists|Sends|Mail|templates)\b")
IDENTIFIER = re.compile(r"(--?[\w-]+|\b[\w.-]+\.(?:xlsx|xlsm|ods|xls|csv|yaml|docx|doc|eml|"
                        r"jsonl|zip)\b|\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b|\btoolkit(?: [a-z-]+)*|"
                        r"'[^']*'|\"[^\"]*\"|<[^>]*>|\S+@\S+|https?://\S+)")


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += _commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def _leaks(text: str) -> list[str]:
    return ENGLISH.findall(IDENTIFIER.sub(" ", text))


@pytest.mark.parametrize("path", _commands(cli), ids=lambda p: " ".join(p) or "toolkit")
def test_help_is_vietnamese(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="toolkit")
    assert result.exit_code == 0, result.output
    assert "Cách dùng:" in result.output and "Hiện hướng dẫn này rồi thoát." in result.output
    assert _leaks(result.output) == [], result.output


MISTAKES = [
    (["consolidate"], "Thiếu tham số"),
    (["consolidate", "x", "--bogus"], "Không có tùy chọn"),
    (["nope"], "Không có lệnh"),
    (["make-templates", "--campaign", "nq02"], "Không tìm thấy chiến dịch «nq02»"),
    (["mail", "send-templates", "t", "--smtp-port", "abc"], "không phải là số nguyên"),
    (["mail", "send-templates", "t", "--smtp-security", "x"], "không phải một trong"),
    (["mail", "remind", "--today", "hôm qua"], "ngày không hợp lệ"),
    (["campaign"], "Cách dùng:"),
]


@pytest.mark.parametrize(("args", "needle"), MISTAKES, ids=lambda a: str(a))
def test_mistakes_are_vietnamese(args: list[str], needle: str, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, args, prog_name="toolkit")
    assert result.exit_code != 0
    assert needle in result.output, result.output
    assert "Error" not in result.output and "Usage" not in result.output
    assert "Traceback" not in result.output
    assert _leaks(result.output) == [], result.output
