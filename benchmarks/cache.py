"""Benchmark of the read cache (issue 15 item 4): ``consolidate()`` on a whole province,
cold, and again after one new file arrived, with the cache.

    python benchmarks/cache.py --units 2000 --workdir /tmp/toolkit-bench

Generates the province as :mod:`run` does (reused when already there), copies its inbox,
then runs each step in its own child process and times ``toolkit.pipeline.consolidate``
alone (not the import, not the outputs):

1. cold, without a cache (what a run always cost);
2. cold, filling a new cache;
3. the same inbox again (every file from the cache);
4. one new file added to the inbox (a unit's resubmission under a new name): the run a clerk
   waits for after a mail arrives.

Steps 1 and 4 must give the same statuses and findings as a run without cache on the same
inbox: checked here (and byte for byte by ``tests/test_read_cache.py``).
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def step(workdir: Path, inbox: Path, cache: str) -> None:
    """One measured consolidate() in this process; prints a JSON line."""
    import province

    from toolkit.pipeline import consolidate
    from toolkit.spec.load import load_campaign
    from toolkit.spec.units import load_units

    campaign = load_campaign(province.CAMPAIGN_ID)
    units = load_units(workdir / "units.csv")
    office = units.office(province.OFFICE)
    start = time.perf_counter()
    result = consolidate(inbox, campaign, units, office,
                         cache=Path(cache) if cache else None)
    seconds = time.perf_counter() - start
    digest = sorted((s.file, s.status, len(s.findings)) for s in result.submissions)
    stats = result.cache
    print(json.dumps({"seconds": seconds, "files": len(result.submissions),
                      "hits": stats.hits if stats else None,
                      "misses": stats.misses if stats else None,
                      "outcome": digest}))


def _child(workdir: Path, inbox: Path, cache: Path | None) -> dict:
    out = subprocess.run([sys.executable, __file__, "--step", "--workdir", str(workdir),
                          "--inbox", str(inbox), "--cache", str(cache or "")],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"step failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", type=int, default=2000)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/toolkit-bench"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--step", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--inbox", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--cache", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.step:
        step(args.workdir, args.inbox, args.cache)
        return 0
    import run

    run.prepare(args.workdir, args.units, args.jobs, True, args.workdir / "seeds")
    inbox = args.workdir / "inbox-cache"
    shutil.rmtree(inbox, ignore_errors=True)
    shutil.copytree(args.workdir / "inbox", inbox)
    cache = args.workdir / "read-cache.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{cache}{suffix}").unlink(missing_ok=True)
    rows = []
    cold = _child(args.workdir, inbox, None)
    rows.append(("cold, without cache", cold))
    rows.append(("cold, filling the cache", _child(args.workdir, inbox, cache)))
    rows.append(("same inbox again", _child(args.workdir, inbox, cache)))
    first = sorted(p for p in inbox.rglob("*.xlsx") if not p.name.startswith("~"))[0]
    shutil.copy2(first, first.with_name("Gửi lại - " + first.name))
    rows.append(("one new file", _child(args.workdir, inbox, cache)))
    plain = _child(args.workdir, inbox, None)
    rows.append(("(check) one new file, without cache", plain))
    wrong = [name for name, r in rows[1:3] if r["outcome"] != cold["outcome"]]
    wrong += [] if rows[3][1]["outcome"] == plain["outcome"] else ["one new file"]
    print(f"consolidate() on {cold['files']} files ({args.units} units), "
          f"{os.cpu_count()} CPUs:")
    print("| step | seconds | from cache | read |")
    print("|---|---:|---:|---:|")
    for name, r in rows:
        print(f"| {name} | {r['seconds']:.2f} | {r['hits'] if r['hits'] is not None else '–'}"
              f" | {r['misses'] if r['misses'] is not None else r['files']} |")
    if wrong:
        print(f"DIFFERENT RESULTS with the cache: {wrong}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
