"""Benchmark of re-consolidation (issue 15 item 4) on a whole province, 2,000 units.

    python benchmarks/cache.py --units 2000 --workdir /tmp/toolkit-bench --repeat 3

Generates the province as :mod:`run` does (reused when already there), copies its inbox,
and measures three things, each a best of ``--repeat`` runs (this machine's speed varies
with what else runs on it):

1. **cold CLI**: ``toolkit consolidate INBOX --out DIR`` in a fresh process with no cache
   beside ``DIR``: wall time of the whole command (imports, reading, outputs).
2. **warm CLI after one new file**: the same command again, in a fresh process, after one
   new file arrived (a unit's resubmission under a new name): what the office waits for
   when it runs the command after a mail. Wall time of the whole command.
3. **in-process re-consolidation after one new file**: what the office's page does after
   an upload. One process (like ``toolkit serve``) has consolidated the campaign once with
   its :class:`~toolkit.read.cache.CacheMemory`, and a history holding the previous
   period (so each run compares with it and judges every figure against it); one new
   file lands; timed: (a) ``consolidate()`` alone — the issue's target, ≤ 1 s; (b)
   writing the outputs after it (summary, CSVs, feedback workbooks) and recording the
   run in the history, as the page also does.

Each new file is another copy under a new name, so it is read and validated; the
statuses and findings of runs 2 and 3 are checked equal to a run without any cache on
the same inbox (and ``tests/test_read_cache.py`` / ``tests/test_validation_cache.py``
compare every output byte for byte).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _setup(workdir: Path) -> tuple[Any, Any, Any]:
    """(campaign, units, office) of the province."""
    import province

    from toolkit.spec.load import load_campaign
    from toolkit.spec.units import load_units

    campaign = load_campaign(province.CAMPAIGN_ID)
    units = load_units(workdir / "units.csv")
    return campaign, units, units.office(province.OFFICE)


def _outcome(result: Any) -> list:
    return sorted((s.file, s.status, len(s.findings)) for s in result.submissions)


def _new_file(inbox: Path, tag: str) -> Path:
    """A unit's resubmission under a new name (a copy of the first file: read again)."""
    first = sorted(p for p in inbox.rglob("*.xlsx")
                   if not p.name.startswith(("~", "Gửi lại")))[0]
    n, target = 0, first.with_name(f"Gửi lại {tag} - {first.name}")
    while target.exists():  # a name an earlier run used is not new
        n += 1
        target = first.with_name(f"Gửi lại {tag}.{n} - {first.name}")
    shutil.copy2(first, target)
    return target


def step_plain(workdir: Path, inbox: Path) -> None:
    """consolidate() without any cache, for the check; prints a JSON line."""
    from toolkit.pipeline import consolidate

    campaign, units, office = _setup(workdir)
    start = time.perf_counter()
    result = consolidate(inbox, campaign, units, office)
    print(json.dumps({"seconds": time.perf_counter() - start, "files": len(result.submissions),
                      "outcome": _outcome(result)}))


def _earlier_period(history: Path, result: Any) -> None:
    """Record ``result`` as the campaign's previous period (its figures, five years before),
    so the page's runs compare with it and judge each figure against it, as they do once
    the office has a history."""
    import dataclasses

    from toolkit.history.record import record_result

    for suffix in ("", "-wal", "-shm"):
        Path(f"{history}{suffix}").unlink(missing_ok=True)
    earlier = dataclasses.replace(result.campaign, period="2011 - 2015")
    record_result(history, dataclasses.replace(result, campaign=earlier))


def step_inprocess(workdir: Path, inbox: Path, cache: Path, repeat: int) -> None:
    """(3): one process keeps the campaign in memory, as ``toolkit serve`` does, with a
    history holding the previous period; each round adds one file and times consolidate()
    (with the comparison and the warnings against that period), then writing the outputs
    and recording the run; prints a JSON line."""
    from toolkit.check.validate import warm_up
    from toolkit.history.record import record_result
    from toolkit.pipeline import consolidate
    from toolkit.read.cache import CacheMemory
    from toolkit.report.outputs import write_outputs

    campaign, units, office = _setup(workdir)
    warm_up()  # as toolkit serve does at start
    memory = CacheMemory()
    history = workdir / "cache-bench" / "history.sqlite"
    out = workdir / "out-inprocess"
    first = consolidate(inbox, campaign, units, office, cache=cache, memory=memory)
    _earlier_period(history, first)
    first = consolidate(inbox, campaign, units, office, cache=cache, memory=memory,
                        history=history)
    write_outputs(first, first.frames, out, feedback_memo=memory.feedback)  # the first board
    record_result(history, first)
    rounds = []
    result = None
    for i in range(repeat):
        _new_file(inbox, f"p{i}")
        start = time.perf_counter()
        result = consolidate(inbox, campaign, units, office, cache=cache, memory=memory,
                             history=history)
        middle = time.perf_counter()
        write_outputs(result, result.frames, out, feedback_memo=memory.feedback)
        record_result(history, result)
        rounds.append((middle - start, time.perf_counter() - middle,
                       result.cache.misses if result.cache else None))
    assert result is not None and result.comparison is not None
    assert result.comparison.previous_period == "2011 - 2015"
    print(json.dumps({"rounds": rounds, "files": len(result.submissions),
                      "outcome": _outcome(result)}))


def _child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                         check=False)
    if out.returncode != 0:
        raise SystemExit(f"step failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cli(workdir: Path, inbox: Path, out: Path) -> float:
    """Wall time of ``toolkit consolidate`` in a fresh process."""
    import province

    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "toolkit.cli", "consolidate", str(inbox),
                           "--units", str(workdir / "units.csv"), "--office", province.OFFICE,
                           "--out", str(out)], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):  # 1: some files rejected, as planted
        raise SystemExit(f"toolkit consolidate failed: {done.stderr[-2000:]}")
    return seconds


def _forget(cache: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{cache}{suffix}").unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", type=int, default=2000)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/toolkit-bench"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each measure (best kept)")
    ap.add_argument("--step", choices=("plain", "inprocess"), help=argparse.SUPPRESS)
    ap.add_argument("--inbox", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.step == "plain":
        step_plain(args.workdir, args.inbox)
        return 0
    if args.step == "inprocess":
        step_inprocess(args.workdir, args.inbox, args.cache, args.repeat)
        return 0
    import run

    from toolkit.pipeline import CACHE_NAME

    run.prepare(args.workdir, args.units, args.jobs, True, args.workdir / "seeds")
    inbox = args.workdir / "inbox-cache"
    shutil.rmtree(inbox, ignore_errors=True)
    shutil.copytree(args.workdir / "inbox", inbox)
    out = args.workdir / "cache-bench" / "out"
    cache = out.parent / CACHE_NAME  # where the CLI keeps it: beside --out

    cold = []
    for _ in range(args.repeat):
        _forget(cache)
        cold.append(_cli(args.workdir, inbox, out))
    warm = []
    for i in range(args.repeat):
        _new_file(inbox, f"c{i}")
        warm.append(_cli(args.workdir, inbox, out))
    inproc = _child(["--step", "inprocess", "--workdir", str(args.workdir),
                     "--inbox", str(inbox), "--cache", str(cache),
                     "--repeat", str(args.repeat)])
    plain = _child(["--step", "plain", "--workdir", str(args.workdir), "--inbox", str(inbox)])
    rounds = inproc["rounds"]
    print(f"{inproc['files']} files at the end ({args.units} units), "
          f"{os.cpu_count()} CPUs, best of {args.repeat} (all: seconds)")
    print("| measure | best | all runs |")
    print("|---|---:|---|")

    def row(name: str, values: list[float]) -> None:
        print(f"| {name} | {min(values):.2f} | {', '.join(f'{v:.2f}' for v in values)} |")

    row("(1) cold CLI, `toolkit consolidate` (no cache)", cold)
    row("(2) warm CLI after one new file (fresh process)", warm)
    row("(3a) in-process after one new file: consolidate()", [r[0] for r in rounds])
    row("(3b) … then writing the outputs and recording the run", [r[1] for r in rounds])
    row("(3a + 3b)", [r[0] + r[1] for r in rounds])
    row("(check) consolidate() without any cache", [plain["seconds"]])
    if inproc["outcome"] != plain["outcome"]:
        print("DIFFERENT RESULTS with the cache")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
