"""The public API (``toolkit/__init__.py``) and the README's library example."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import toolkit

ROOT = Path(__file__).resolve().parent.parent


def test_every_public_name_resolves_to_what_its_module_defines():
    import importlib

    assert sorted(toolkit.__all__) == sorted(toolkit._EXPORTS)
    for name, module in toolkit._EXPORTS.items():
        assert getattr(toolkit, name) is getattr(importlib.import_module(module), name)


def test_importing_toolkit_loads_no_stage():
    # worker processes and the CLI import toolkit first: the API must not drag pandas in
    code = ("import sys, toolkit; print(sorted(m for m in sys.modules "
            "if m.startswith('toolkit.') or m == 'pandas'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"


def _readme_example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use as a library", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "the section holds one python example"
    return blocks[0]


def test_readme_library_example_runs_and_writes_what_the_cli_writes(tmp_path):
    work = tmp_path / "lib"
    (work / "samples").mkdir(parents=True)
    shutil.copy(ROOT / "samples" / "units.csv", work / "samples" / "units.csv")
    shutil.copytree(ROOT / "samples" / "inbox", work / "samples" / "inbox")
    code = _readme_example()
    assert len([line for line in code.splitlines() if line.strip()]) <= 8
    here = os.getcwd()
    os.chdir(work)
    try:
        exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(here)
    cli_out = tmp_path / "cli"
    subprocess.run([sys.executable, "-m", "toolkit.cli", "consolidate",
                    str(work / "samples" / "inbox"), "--office", "TX",
                    "--units", str(work / "samples" / "units.csv"), "--out", str(cli_out)],
                   check=True, capture_output=True)
    for name in ("values.csv", "findings.csv"):
        assert (work / "out" / name).read_bytes() == (cli_out / name).read_bytes(), name
    # the example's run accepted real figures: the sample inbox has accepted units whose
    # values are in values.csv, every one of them one of the office's children
    with open(work / "out" / "submissions.csv", encoding="utf-8-sig", newline="") as f:
        subs = list(csv.DictReader(f))
    accepted = {r["unit_code"] for r in subs if r["status"] == "accepted"}
    with open(work / "out" / "values.csv", encoding="utf-8-sig", newline="") as f:
        valued = {r["unit_code"] for r in csv.DictReader(f)}
    assert accepted and valued == accepted
    units = toolkit.load_units(work / "samples" / "units.csv")
    children = {u.code for u in units.children("TX")}
    assert accepted <= children
