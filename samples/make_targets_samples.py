"""Regenerate the samples of the targets campaigns: ``samples/<campaign>/allocation.xlsx``
and ``samples/<campaign>/inbox/`` (one filled template per unit, from that allocation).

Deterministic (fixed seeds, fixed times): running it twice gives identical bytes.
``python samples/make_targets_samples.py``. Planted on purpose, so that a consolidation of
the sample shows them: one unit reports a result for an indicator it was not allocated (a
warning on that cell), and one unit has not sent its file yet.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path

from toolkit.write.allocation import allocation_bytes, read_allocation
from toolkit.testing import fill_workbook, sample_values
from toolkit.spec.load import load_campaign
from toolkit.write.templates import template_bytes, template_filename
from toolkit.spec.units import load_units

HERE = Path(__file__).resolve().parent
SAMPLES = {"giua-nhiem-ky-2017-2022": ("TS", dt.datetime(2020, 4, 12, 9, 30)),
           "nq01-hoc-tap-2018": ("TX", dt.datetime(2018, 12, 27, 15, 0))}


def make(campaign_id: str, office_code: str, saved: dt.datetime) -> Path:
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
                float(rng.randint(5, 40)))
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
            if targets[form.id].get(ind.key) is None and i != 3:
                continue
            if ind.is_rate:
                den = urng.randint(8, 60)
                filled[(form.id, ind.key, "ket_qua_mau_so")] = den
                filled[(form.id, ind.key, "ket_qua")] = urng.randint(den // 2, den)
            else:
                filled[(form.id, ind.key, "ket_qua")] = urng.randint(0, 50)
            filled[(form.id, ind.key, "du_kien")] = urng.randint(0, 60)
        book = template_bytes(campaign, unit, office, targets=targets)
        (inbox / template_filename(campaign, unit)).write_bytes(
            fill_workbook(book, filled, modified=saved))
    return path


def main() -> None:
    for campaign_id, (office, saved) in SAMPLES.items():
        print(make(campaign_id, office, saved))


if __name__ == "__main__":
    main()
