"""Benchmark of the plausibility warnings (issue 17 item 3): what they add to a run.

    python benchmarks/plausibility.py --units 2000

Generates a province of ``--units`` communes with realistic figures
(:func:`toolkit.testing.realistic_values`: each column around its own level, big and small
communes, a previous report per unit), plants a ×50 typo in 1 % of them, and times
:func:`toolkit.history.plausibility.plausibility_findings` on the typed frames the pipeline
hands it (median of ``--repeat`` runs): peers and years alone, then with every unit's
previous report (what the history store will pass). Checks that exactly the planted cells
are flagged. The target is ≤ 1 s extra per run at 2,000 units.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from toolkit.history.plausibility import plausibility_findings
from toolkit.spec.load import load_campaign
from toolkit.spec.units import Unit, UnitRegistry
from toolkit.testing import (
    accepted_submissions,
    realistic_values,
    typed_frames,
    typical_levels,
    unit_levels,
)

PLANTED = ("PL2", "-", "bch_so_luong")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", default="bench")
    args = ap.parse_args(argv)
    campaign = load_campaign("nq02-2020")
    rng = random.Random(args.seed)
    typical = typical_levels(campaign, rng)
    units = {"TINH": Unit(code="TINH", name="Tỉnh đoàn", level="tinh", parent="", email="")}
    reports, previous = {}, {}
    started = time.perf_counter()
    for i in range(args.units):
        code = f"CS{i:04d}"
        units[code] = Unit(code=code, name=f"Đoàn xã {i}", level="co_so", parent="TINH",
                           email="")
        own = unit_levels(typical, rng)
        for (form, row, col), value in realistic_values(campaign, own, rng).items():
            if isinstance(value, (int, float)):
                previous[(code, form, row, col)] = float(value)
        reports[code] = realistic_values(campaign, own, rng)
    planted = {f"CS{i:04d}" for i in range(0, args.units, 100)}
    for code in planted:
        reports[code][PLANTED] = reports[code][PLANTED] * 50
        del previous[(code, *PLANTED)]  # a typo, not a jump: judged against the peers
    frames = typed_frames(campaign, reports)
    submissions = accepted_submissions(campaign, reports)
    registry = UnitRegistry(units)
    cells = sum(len(f) * (len(f.columns) - 3) for f in frames.values())
    print(f"{args.units} units, {cells:,} typed cells, {len(previous):,} previous values "
          f"(generated in {time.perf_counter() - started:.1f} s)")

    rows = []
    for label, prev in (("peers and years", None), ("+ previous report", previous)):
        times, found = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            found = plausibility_findings(campaign, frames, submissions, registry,
                                          previous=prev)
            times.append(time.perf_counter() - t0)
        flagged = {(f.unit_code, f.form, f.row, f.column) for f in found}
        expected = {(code, *PLANTED) for code in planted}
        if flagged != expected:
            raise SystemExit(f"{label}: flagged {sorted(flagged - expected)[:5]}, missed "
                             f"{sorted(expected - flagged)[:5]}")
        rows.append((label, statistics.median(times), len(found)))
    print("\n| plausibility_findings(), "
          f"{args.units:,} units | seconds (median of {args.repeat}) | warnings |")
    print("|---|---:|---:|")
    for label, seconds, n in rows:
        print(f"| {label} | {seconds:.2f} | {n} |")
    worst = max(seconds for _l, seconds, _n in rows)
    print(f"\ntarget ≤ 1 s extra: {'✓' if worst <= 1.0 else '✗'} ({worst:.2f} s); "
          "every planted typo flagged, nothing else")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
