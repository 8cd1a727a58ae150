"""The read cache (issue 15 item 4): a rerun reads only new or changed files, and every
output is byte for byte what a run without the cache writes — also when the cache file
is damaged, tampered with, from another spec or toolkit, or used by two runs at once."""

from __future__ import annotations

import dataclasses
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from builders import clean_values, write_workbook
from test_hostile import messy_inbox

from toolkit._infra.paths import samples_dir
from toolkit.pipeline import CACHE_NAME, consolidate
from toolkit.read import cache as cache_module
from toolkit.report.outputs import write_outputs
from toolkit.spec.campaign import Campaign
from toolkit.spec.load import load_campaign
from toolkit.spec.units import UnitRegistry, load_units

CAMPAIGN = load_campaign("nq02-2020")
UNITS = load_units(samples_dir() / "units.csv")
OFFICE = UNITS.office("TX")


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample inbox (with its manifest) plus every kind of trouble of the messy inbox."""
    folder = tmp_path_factory.mktemp("cache") / "inbox"
    shutil.copytree(samples_dir() / "inbox", folder)
    messy = folder / "messy"
    messy.mkdir()
    messy_inbox(messy)
    return folder


def _files(inbox: Path) -> int:
    """Files a run reads (what the reader gets; lock and hidden files are skipped)."""
    return sum(1 for p in inbox.rglob("*") if p.is_file() and p.suffix in (".xlsx", ".xlsm")
               and not p.name.startswith(("~", ".")))


def _run(inbox: Path, out: Path, cache: Path | None, campaign: Campaign = CAMPAIGN,
         units: UnitRegistry = UNITS):
    # an empty history, as the CLI's first run has (it records after writing): the summary
    # then has its «So sánh» sheet, as the CLI's does
    history = out.parent / f".{out.name}-lich-su.sqlite"
    result = consolidate(inbox, campaign, units, units.office("TX"), cache=cache,
                         history=history)
    write_outputs(result, result.frames, out)
    return result


def _outputs(out: Path) -> dict[str, bytes]:
    """Every output file's bytes (the output set's own record counts runs: left out)."""
    return {p.relative_to(out).as_posix(): p.read_bytes()
            for p in sorted(out.rglob("*")) if p.is_file() and not p.name.startswith(".")}


@pytest.fixture(scope="module")
def plain(inbox: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Every output of a run without the cache."""
    out = tmp_path_factory.mktemp("plain") / "out"
    result = _run(inbox, out, None)
    assert result.cache is None
    files = _outputs(out)
    assert "summary" in " ".join(files) or any(k.endswith(".xlsx") for k in files)
    assert any(k.startswith("feedback") or "phan-hoi" in k for k in files) or len(files) > 4
    return files


def test_cold_then_warm_run_write_the_same_bytes_as_no_cache(inbox, plain, tmp_path):
    cache = tmp_path / CACHE_NAME
    cold = _run(inbox, tmp_path / "cold", cache)
    assert cold.cache is not None and cold.cache.hits == 0 and cold.cache.problems == []
    assert cold.cache.stored > 0
    warm = _run(inbox, tmp_path / "warm", cache)
    assert warm.cache is not None and warm.cache.problems == []
    assert warm.cache.hits == cold.cache.stored  # every file stored is taken back
    assert warm.cache.misses == cold.cache.misses - cold.cache.stored
    assert warm.cache.hits >= _files(inbox) - 3  # all but the too-large and broken-zip ones
    assert _outputs(tmp_path / "cold") == plain
    assert _outputs(tmp_path / "warm") == plain


def test_a_changed_file_alone_is_read_again(inbox, tmp_path):
    cache = tmp_path / CACHE_NAME
    work = tmp_path / "inbox"
    shutil.copytree(inbox, work)
    first = _run(work, tmp_path / "a", cache)
    assert (work / "messy" / "TX01.xlsx").is_file()
    write_workbook(work / "messy" / "TX01.xlsx", CAMPAIGN, unit_code="TX01",
                   values={"PL2": {"-": {"bt_so_luong": 7}}} | {
                       k: v for k, v in clean_values().items() if k != "PL2"})
    again = _run(work, tmp_path / "b", cache)
    assert again.cache is not None and first.cache is not None
    assert again.cache.hits == first.cache.stored - 1 and again.cache.stored == 1
    _run(work, tmp_path / "c", None)
    assert _outputs(tmp_path / "b") == _outputs(tmp_path / "c")


def test_another_spec_or_toolkit_or_units_file_misses(inbox, tmp_path, monkeypatch):
    cache = tmp_path / CACHE_NAME
    stored = _run(inbox, tmp_path / "a", cache).cache
    assert stored is not None and stored.stored > 0
    other_spec = dataclasses.replace(CAMPAIGN, spec_sha256="0" * 64)
    assert consolidate(inbox, other_spec, UNITS, OFFICE, cache=cache).cache.hits == 0
    fewer = UnitRegistry({c: u for c, u in UNITS.units.items() if c != "TX09"}, UNITS.source)
    assert consolidate(inbox, CAMPAIGN, fewer, OFFICE, cache=cache).cache.hits == 0
    assert consolidate(inbox, CAMPAIGN, UNITS, OFFICE, cache=cache).cache.hits == stored.stored
    import toolkit

    assert cache_module.toolkit_version() == toolkit.__version__
    monkeypatch.setattr(cache_module, "toolkit_version", lambda: "999.0")
    cache_module.code_digest.cache_clear()
    try:
        assert consolidate(inbox, CAMPAIGN, UNITS, OFFICE, cache=cache).cache.hits == 0
    finally:
        monkeypatch.undo()
        cache_module.code_digest.cache_clear()


def _damage_random(path: Path) -> None:
    path.write_bytes(os.urandom(4096))


def _damage_truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _tamper(sql: str) -> object:
    def damage(path: Path) -> None:
        with sqlite3.connect(path) as db:
            db.execute(sql)
        db.close()
    return damage


DAMAGES = {
    "random bytes": _damage_random,
    "truncated": _damage_truncate,
    "empty file": lambda p: p.write_bytes(b""),
    "not json": _tamper("UPDATE entries SET payload = 'not json {'"),
    "json of another shape": _tamper("UPDATE entries SET payload = '{\"x\": 1}'"),
    "wrong types": _tamper("UPDATE entries SET payload = replace(payload, "
                           "'\"status\": \"\"', '\"status\": 5')"),
    "raws cut short": _tamper("UPDATE entries SET payload = replace(payload, "
                              "'\"raws\": [', '\"raws\": [[\"x\"], ')"),
    "places changed": _tamper("UPDATE places SET payload = replace(payload, '\"PL2\"', "
                              "'\"PL9\"')"),
    "nested too deep": _tamper("UPDATE entries SET payload = '{\"raws\": ' || "
                               "replace(hex(zeroblob(100000)), '00', '[') || '}'"),
    "another schema": _tamper("UPDATE meta SET value = 'other'"),
    "tables dropped": _tamper("DROP TABLE entries"),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_cache_is_rebuilt_not_trusted(inbox, plain, tmp_path, damage):
    cache = tmp_path / CACHE_NAME
    filled = _run(inbox, tmp_path / "fill", cache)
    assert filled.cache is not None
    for suffix in ("-wal", "-shm"):  # everything in the main file, as after a clean close
        assert not Path(f"{cache}{suffix}").exists() or damage in ("random bytes",)
    DAMAGES[damage](cache)
    result = _run(inbox, tmp_path / "out", cache)
    assert _outputs(tmp_path / "out") == plain
    assert result.cache is not None
    if damage in ("not json", "json of another shape", "nested too deep"):
        assert result.cache.hits == 0  # every entry refused
    elif damage in ("wrong types", "raws cut short", "places changed"):
        # the entries changed are refused (those the change missed, e.g. a file of
        # another campaign, still count)
        assert result.cache.hits < filled.cache.stored // 2
    again = _run(inbox, tmp_path / "again", cache)  # the cache works again
    assert again.cache is not None and again.cache.hits > 0 and again.cache.problems == []
    assert _outputs(tmp_path / "again") == plain


def test_a_locked_cache_is_no_cache(inbox, plain, tmp_path, monkeypatch):
    cache = tmp_path / CACHE_NAME
    _run(inbox, tmp_path / "fill", cache)
    monkeypatch.setattr(cache_module, "_TIMEOUT", 0.1)
    holder = sqlite3.connect(cache, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = _run(inbox, tmp_path / "out", cache)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _outputs(tmp_path / "out") == plain
    assert result.cache is not None and result.cache.hits == 0
    assert any("locked" in p for p in result.cache.problems)
    assert cache.exists()  # a locked cache is left alone, not replaced


def test_two_runs_at_once_share_the_cache(inbox, plain, tmp_path):
    """The web page and the terminal may consolidate at the same time: both succeed."""
    procs = [subprocess.Popen([sys.executable, "-m", "toolkit.cli", "consolidate", str(inbox),
                               "--office", "TX", "--out", str(tmp_path / name)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              cwd=tmp_path) for name in ("a", "b")]
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert "Traceback" not in err
    assert (tmp_path / CACHE_NAME).is_file()
    for name in ("a", "b"):
        assert _outputs(tmp_path / name) == plain


def test_the_cli_keeps_its_cache_beside_out_and_uses_it(inbox, plain, tmp_path):
    out = tmp_path / "ket-qua" / "out"
    for _ in range(2):
        run = subprocess.run([sys.executable, "-m", "toolkit.cli", "consolidate", str(inbox),
                              "--office", "TX", "--out", str(out)], capture_output=True,
                             text=True, timeout=300, cwd=tmp_path)
        assert run.returncode == 0, run.stderr
        assert _outputs(out) == plain
    cache = tmp_path / "ket-qua" / CACHE_NAME
    assert cache.is_file() and not any(p.name.startswith(CACHE_NAME) for p in out.rglob("*"))
    with sqlite3.connect(cache) as db:
        stored = db.execute("SELECT count(*) FROM entries").fetchone()[0]
    db.close()
    assert stored >= _files(inbox) - 3
    assert consolidate(inbox, CAMPAIGN, UNITS, OFFICE, cache=cache).cache.hits == stored
