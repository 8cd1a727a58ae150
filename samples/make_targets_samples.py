"""Regenerate the samples of the targets campaigns: ``samples/<campaign>/allocation.xlsx``
and ``samples/<campaign>/inbox/`` (one filled template per unit, from that allocation).

Deterministic (fixed seeds, fixed times): running it twice gives identical bytes.
``python samples/make_targets_samples.py``. Planted on purpose, so that a consolidation of
the sample shows them: one unit reports a result for an indicator it was not allocated (a
warning on that cell), one unit has not sent its file yet, and every fifth unit saved its
file a day or two after the deadline. Results land at 70–130 % of each unit's target, as
real units' do at mid-term.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import shutil
from pathlib import Path

from toolkit.write.allocation import allocation_bytes, read_allocation
from toolkit.testing import fill_workbook, sample_values
from toolkit.spec.load import load_campaign
from toolkit.write.templates import template_bytes, template_filename
from toolkit.spec.units import load_units

HERE = Path(__file__).resolve().parent
# campaign → (office, the base units' deadline as the plan gives it)
SAMPLES = {"giua-nhiem-ky-2017-2022": ("TS", dt.date(2020, 4, 10)),
           "nq01-hoc-tap-2018": ("TX", dt.date(2018, 12, 30))}
# a realistic target per unit, by what an indicator counts (a commune's Đoàn trains a few
# hundred young people a term, founds a couple of chi đoàn, holds a dozen sessions…)
SCALE = {"người": (150, 500), "đoàn viên": (15, 60), "chi đoàn": (1, 4), "công trình": (2, 8),
         "buổi": (6, 20), "hội nghị": (1, 3), "bài": (2, 10), "tin, bài": (5, 20)}


def _target(unit: str, rng: random.Random) -> float:
    low, high = SCALE.get(unit, (10, 40))
    return float(rng.randint(low, high))


def _near(goal: float, share: float) -> int:
    """``goal × share`` as a whole number, kept within 70–130 % of ``goal`` (a small target
    such as 2 hội nghị would otherwise round to 50 % or 150 %)."""
    low, high = math.ceil(goal * 0.7 - 1e-9), math.floor(goal * 1.3 + 1e-9)
    return min(max(round(goal * share), low), max(low, high))


def _saved(i: int, deadline: dt.date, rng: random.Random) -> dt.datetime:
    """When unit ``i`` saved its file: most in the days before the deadline, every fifth
    one a day or two after it (a sample with some lateness to show, as real inboxes have).
    Local time (UTC+7) written as UTC, as Excel does."""
    days = rng.randint(1, 2) if i % 5 == 4 else -rng.randint(1, 6)
    local = dt.datetime.combine(deadline + dt.timedelta(days=days),
                                dt.time(rng.randint(8, 16), rng.choice((0, 15, 30, 45))))
    return local - dt.timedelta(hours=7)


def make(campaign_id: str, office_code: str, deadline: dt.date) -> Path:
    campaign = load_campaign(campaign_id)
    units = load_units(HERE / "units.csv")
    office = units.get(office_code)
    children = units.children(office_code)
    (form,) = [f for f in campaign.forms if f.kind == "targets"]
    rng = random.Random(f"targets-sample-{campaign_id}")
    values: dict[tuple[str, str, str], float] = {}
    unallocated = [i for i in form.indicators if not i.is_rate][-1]
    for i, unit in enumerate(children):
        for ind in form.indicators:
            if i % 7 == 3 and ind == unallocated:
                continue  # not allocated: the unit sees "không giao"
            values[(form.id, unit.code, ind.key)] = (
                ind.default_target or float(rng.choice((70, 80, 90)))) if ind.is_rate else (
                _target(ind.unit, rng))
    for ind in form.indicators:
        if not ind.is_rate:
            values[(form.id, office.code, ind.key)] = sum(
                v for (_f, u, k), v in values.items() if k == ind.key)
        else:
            values[(form.id, office.code, ind.key)] = ind.default_target or 80.0
    root = HERE / campaign_id
    root.mkdir(exist_ok=True)
    path = root / "allocation.xlsx"
    path.write_bytes(allocation_bytes(campaign, units, office, values=values))
    allocation = read_allocation(path, campaign, units, office)
    inbox = root / "inbox"
    shutil.rmtree(inbox, ignore_errors=True)
    inbox.mkdir()
    for i, unit in enumerate(children):
        if i == len(children) - 1:
            continue  # this unit has not reported yet
        targets = allocation.targets[unit.code]
        filled = {k: v for k, v in sample_values(campaign, random.Random(unit.code)).items()
                  if k[0] != form.id}
        urng = random.Random(f"{campaign_id}-{unit.code}")
        for ind in form.indicators:
            target = targets[form.id].get(ind.key)
            if target is None and i != 3:
                continue
            # real units land around their target: 70–130 % of it at mid-term
            share = urng.uniform(0.7, 1.3)
            if ind.is_rate:
                den = urng.randint(8, 30)  # e.g. the unit's chi đoàn
                goal = den * (target or 80.0) / 100
                reached = min(den, _near(goal, share))
                filled[(form.id, ind.key, "ket_qua_mau_so")] = den
                filled[(form.id, ind.key, "ket_qua")] = reached
                filled[(form.id, ind.key, "du_kien")] = max(reached, min(den, round(goal)))
            else:
                base = target if target is not None else _target(ind.unit, urng)
                result = _near(base, share)
                filled[(form.id, ind.key, "ket_qua")] = result
                filled[(form.id, ind.key, "du_kien")] = max(result, round(
                    base * urng.uniform(0.95, 1.2)))
        book = template_bytes(campaign, unit, office, targets=targets)
        (inbox / template_filename(campaign, unit)).write_bytes(
            fill_workbook(book, filled, modified=_saved(i, deadline, urng)))
    return path


def main() -> None:
    for campaign_id, (office, deadline) in SAMPLES.items():
        print(make(campaign_id, office, deadline))


if __name__ == "__main__":
    main()
