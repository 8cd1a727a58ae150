"""Aggregation's per-unit memo (issue 15 item 4): the office's page keeps what each unit's
files gave from one run to the next, and works out again only the units whose files
changed. Whatever changes between runs — a file resent with other figures, a unit renamed,
a unit gone, a unit with two files, another spec — every summary must equal the one
worked out without any memo, value by value."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest
from builders import submission
from test_validation_cache import CAMPAIGNS, CHILDREN, _clean, _values

from toolkit.check.validate import validate
from toolkit.report.aggregate import AggregateMemo, aggregate
from toolkit.spec.campaign import Campaign
from toolkit.spec.load import load_campaign
from toolkit.spec.models import Submission
from toolkit.spec.units import Unit


def _run(campaign: Campaign, subs: list[Submission], units: list[Unit],
         memo: AggregateMemo) -> None:
    """Validate ``subs`` and aggregate them with and without ``memo``: equal results."""
    for sub in subs:
        sub.status, sub.findings = "", []
    frames = validate(campaign, subs)
    accepted = {s.unit_code: s for s in subs if s.status == "accepted"}
    shown = [u for u in units if u.code in accepted]
    plain = aggregate(campaign, frames, shown, accepted)
    assert aggregate(campaign, frames, shown, accepted, memo=memo) == plain


def _file(campaign: Campaign, unit: Unit, values: dict[str, Any], name: str) -> Submission:
    sub = submission(campaign, values, unit_code=unit.code, file=name)
    sub.sha256 = f"{name}-{random.Random(repr(values)).random()}"  # bytes differ: sha differs
    return sub


@pytest.mark.parametrize("campaign_id", CAMPAIGNS)
@pytest.mark.parametrize("seed", range(3))
def test_the_memo_never_changes_a_summary(campaign_id, seed):
    campaign = load_campaign(campaign_id)
    rng = random.Random(f"memo-{campaign_id}-{seed}")
    units = list(CHILDREN[:10])
    files = {u.code: _file(campaign, u, _clean(campaign) if i % 4 == 0
                           else _values(campaign, rng), f"{u.code}.xlsx")
             for i, u in enumerate(units)}
    memo = AggregateMemo()
    _run(campaign, list(files.values()), units, memo)
    _run(campaign, list(files.values()), units, memo)  # all from the memo
    assert memo.parts
    # a unit resends other figures under a new name
    resent = units[rng.randrange(10)]
    files[resent.code] = _file(campaign, resent, _values(campaign, rng), "gui lai.xlsx")
    _run(campaign, list(files.values()), units, memo)
    # a unit renamed in the units file: its rows carry the new name
    i = rng.randrange(10)
    units[i] = dataclasses.replace(units[i], name=f"{units[i].name} (mới)")
    _run(campaign, list(files.values()), units, memo)
    # a unit gone, and the order of the others changed
    gone = units.pop(rng.randrange(10))
    del files[gone.code]
    rng.shuffle(units)
    _run(campaign, list(files.values()), units, memo)
    # a unit with two accepted files: its figures are combined, never taken from the memo
    twice = units[0]
    second = _file(campaign, twice, _clean(campaign), "ban hai.xlsx")
    _run(campaign, [*files.values(), second], units, memo)
    _run(campaign, list(files.values()), units, memo)
    # another spec: nothing of the earlier one is used
    other = dataclasses.replace(campaign, spec_sha256="0" * 64)
    _run(other, list(files.values()), units, memo)
    assert all(key[0] == other.spec_sha256 for key in memo.parts)
