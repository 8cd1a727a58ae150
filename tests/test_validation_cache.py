"""The validation cache (issue 15 item 4): each file's validation outcome is the file's own,
so a rerun validates only new files and takes the others' findings and typed rows from the
cache or from the running page's memory — and every output stays byte for byte what a run
without any cache writes, whatever the inbox holds."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import os
import random
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from builders import clean_values, submission, write_workbook
from test_read_cache import _outputs, inbox  # noqa: F401 - the sample + messy inbox fixture

from toolkit._infra.paths import samples_dir
from toolkit.check.checked import Checked, decode_checked, encode_checked
from toolkit.check.validate import validate
from toolkit.pipeline import CACHE_NAME, consolidate
from toolkit.read.cache import CacheMemory, ReadCache
from toolkit.read.ingest import _digest
from toolkit.report.outputs import write_outputs
from toolkit.spec.campaign import Campaign, Column
from toolkit.spec.layout import form_layout
from toolkit.spec.load import load_campaign
from toolkit.spec.models import Submission
from toolkit.spec.units import load_units

UNITS = load_units(samples_dir() / "units.csv")
OFFICE = UNITS.office("TX")
CAMPAIGNS = ("nq02-2020", "giua-nhiem-ky-2017-2022", "nq01-hoc-tap-2018")
CHILDREN = [u for u in UNITS.children("TX")]


# --------------------------------------------------------------------------- generated


def _raw(col: Column, rng: random.Random) -> Any:
    """A value a unit might type into ``col``: mostly right, often wrong in a known way."""
    pick = rng.random()
    if pick < 0.15:
        return None
    if col.is_numeric:
        return rng.choice([rng.randint(0, 40), rng.randint(0, 40), rng.random() * 100,
                           "12 người", "1.234", -3, 2.5, 10**7, "  7 ", "abc", 0])
    if col.type == "choice":
        return rng.choice([*col.choices, *col.choices, "Không có trong danh sách"])
    if col.type == "date":
        return rng.choice([dt.date(2018, 5, rng.randint(1, 28)), "32/13/2019", "1/2/2020"])
    return rng.choice(["Đã triển khai", "=1+1", "\u200b", "Ghi chú " * rng.randint(1, 3)])


def _values(campaign: Campaign, rng: random.Random) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for form in campaign.forms:
        layout = form_layout(form)
        for row_key, col, _a1 in layout.input_cells():
            if form.kind == "list" and int(row_key) > rng.choice([0, 2, 5]):
                continue  # a list form uses its first rows only
            out.setdefault(form.id, {}).setdefault(row_key, {})[col.key] = _raw(col, rng)
    return out


def _clean(campaign: Campaign) -> dict[str, dict[str, dict[str, Any]]]:
    """A filling every check accepts: zeros hold every rule between columns."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for form in campaign.forms:
        for row_key, col, _a1 in form_layout(form).input_cells():
            if form.kind == "list" and int(row_key) > 2:
                continue
            value: Any = ("Đã triển khai" if col.type == "text" else col.choices[0]
                          if col.type == "choice" else dt.date(2019, 3, 1)
                          if col.type == "date" else 0)
            out.setdefault(form.id, {}).setdefault(row_key, {})[col.key] = value
    return out


def _subs(campaign: Campaign, seed: int, n: int = 12) -> list[Submission]:
    rng = random.Random(f"{campaign.id}-{seed}")
    return [submission(campaign, _values(campaign, rng), unit_code=CHILDREN[i].code,
                       file=f"f{i:02d}.xlsx") for i in range(n)]


def _frames_equal(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    assert list(a) == list(b)
    for key in a:
        pd.testing.assert_frame_equal(a[key], b[key], check_exact=True)
        assert [list(map(type, r)) for r in a[key].itertuples(index=False)] == [
            list(map(type, r)) for r in b[key].itertuples(index=False)]


@pytest.mark.parametrize("campaign_id", CAMPAIGNS)
@pytest.mark.parametrize("seed", range(4))
def test_a_file_validated_alone_gives_what_it_gives_among_all(campaign_id, seed):
    campaign = load_campaign(campaign_id)
    together = _subs(campaign, seed)
    made: dict[str, Checked] = {}
    frames = validate(campaign, together, made=made)
    assert sum(s.status == "rejected" for s in together) > 0  # the generator plants mistakes
    assert sorted(made) == sorted(s.file for s in together)
    for alone in _subs(campaign, seed):
        validate(campaign, [alone])
        same = next(s for s in together if s.file == alone.file)
        assert alone.findings == same.findings and alone.status == same.status
    # the outcomes kept as JSON and given back: nothing validated again, same everything
    kept = {}
    for file, checked in made.items():
        text = encode_checked(checked, campaign)
        assert text is not None
        decoded = decode_checked(text, campaign, checked.unit_code)
        assert decoded is not None and decoded.findings == checked.findings
        assert encode_checked(decoded, campaign) == text  # (NaN is not equal to itself)
        kept[file] = decoded
    again = _subs(campaign, seed)
    made_again: dict[str, Checked] = {}
    frames_again = validate(campaign, again, known=kept, made=made_again)
    assert made_again == {}
    assert [(s.findings, s.status, s.reason) for s in again] == [
        (s.findings, s.status, s.reason) for s in together]
    _frames_equal(frames, frames_again)
    # half known, half validated now
    half = {f: c for i, (f, c) in enumerate(sorted(kept.items())) if i % 2}
    mixed = _subs(campaign, seed)
    _frames_equal(frames, validate(campaign, mixed, known=half))
    assert [s.findings for s in mixed] == [s.findings for s in together]


def test_an_outcome_for_another_unit_code_is_not_used():
    campaign = load_campaign("nq02-2020")
    subs = _subs(campaign, 9, n=2)
    made: dict[str, Checked] = {}
    validate(campaign, subs, made=made)
    wrong = {f: dataclasses.replace(c, unit_code="XX") for f, c in made.items()}
    fresh: dict[str, Checked] = {}
    validate(campaign, _subs(campaign, 9, n=2), known=wrong, made=fresh)
    assert sorted(fresh) == sorted(made)


@pytest.mark.parametrize("change", ["not json", "other unit", "finding not text",
                                    "column missing", "text in a number column",
                                    "row count", "unknown form"])
def test_a_damaged_outcome_is_refused(change):
    campaign = load_campaign("nq02-2020")
    subs = _subs(campaign, 3, n=1)
    made: dict[str, Checked] = {}
    validate(campaign, subs, made=made)
    checked = made[subs[0].file]
    text = encode_checked(checked, campaign)
    assert text is not None and decode_checked(text, campaign, checked.unit_code) is not None
    import json

    payload = json.loads(text)
    if change == "not json":
        text = text[:-3]
    elif change == "other unit":
        payload["unit_code"] = "TX99"
    elif change == "finding not text":
        payload["findings"] = [[1] * 10]
    elif change == "column missing":
        payload["rows"]["PL2"].pop("bt_so_luong")
    elif change == "text in a number column":
        payload["rows"]["PL2"]["bt_so_luong"] = ["7"]
    elif change == "row count":
        payload["rows"]["PL2"]["row"] = ["-", "-"]
    else:
        payload["rows"]["PL9"] = payload["rows"]["PL2"]
    if change != "not json":
        text = json.dumps(payload, ensure_ascii=False)
    assert decode_checked(text, campaign, checked.unit_code) is None


# --------------------------------------------------------------------------- on disk


def _generated_inbox(folder: Path, campaign: Campaign, seed: int) -> Path:
    """Files of ten units: clean, with planted mistakes, a unit's two versions (the older
    superseded), a byte-identical copy, a file of another office."""
    rng = random.Random(f"inbox-{campaign.id}-{seed}")
    for i, unit in enumerate(CHILDREN[:10]):
        values = (_values(campaign, rng) if i % 3 else clean_values()
                  if campaign.id == "nq02-2020" and i == 0 else _clean(campaign))
        write_workbook(folder / f"{unit.code}.xlsx", campaign, unit_code=unit.code,
                       unit_name=unit.name, values=values,
                       modified=dt.datetime(2021, 1, 10 + i % 5, 9))
    write_workbook(folder / "lan-1" / f"{CHILDREN[0].code} cu.xlsx", campaign,
                   unit_code=CHILDREN[0].code, unit_name=CHILDREN[0].name,
                   values=_values(campaign, rng), modified=dt.datetime(2021, 1, 2, 9))
    shutil.copy2(folder / f"{CHILDREN[1].code}.xlsx", folder / "ban sao.xlsx")
    write_workbook(folder / "TS02.xlsx", campaign, unit_code="TS02", unit_name="Đoàn xã Dân Lực",
                   values=_values(campaign, rng))
    return folder


def _write(folder: Path, out: Path, campaign: Campaign, **cache: Any) -> Any:
    """consolidate() and write_outputs(); with a memory, as the page does (its feedback
    workbooks of the last run are kept too)."""
    result = consolidate(folder, campaign, UNITS, OFFICE, **cache)
    memory = cache.get("memory")
    write_outputs(result, result.frames, out,
                  feedback_memo=memory.feedback if memory is not None else None)
    return result


@pytest.mark.parametrize("campaign_id", CAMPAIGNS)
def test_outputs_are_the_same_bytes_with_the_cache_and_the_memory(campaign_id, tmp_path):
    campaign = load_campaign(campaign_id)
    work = _generated_inbox(tmp_path / "inbox", campaign, 1)
    cache = tmp_path / CACHE_NAME
    memory = CacheMemory()
    cold = _write(work, tmp_path / "cold", campaign, cache=cache)
    assert cold.cache.checked == 0 and cold.cache.problems == []
    statuses = {s.status for s in cold.submissions}
    assert {"accepted", "rejected", "superseded", "unidentified"} <= statuses, statuses
    warm = _write(work, tmp_path / "warm", campaign, cache=cache, memory=memory)
    candidates = sum(s.status in ("accepted", "rejected") for s in warm.submissions)
    assert warm.cache.checked == candidates and warm.cache.misses == 0
    assert _outputs(tmp_path / "warm") == _outputs(tmp_path / "cold")
    # one new file, one file rewritten: only those two are read and validated again
    rng = random.Random(7)
    write_workbook(work / "moi" / f"{CHILDREN[4].code} gui lai.xlsx", campaign,
                   unit_code=CHILDREN[4].code, unit_name=CHILDREN[4].name,
                   values=_values(campaign, rng), modified=dt.datetime(2021, 1, 20, 9))
    write_workbook(work / f"{CHILDREN[5].code}.xlsx", campaign, unit_code=CHILDREN[5].code,
                   unit_name=CHILDREN[5].name, values=_values(campaign, rng))
    for name, kept in (("memory", {"cache": cache, "memory": memory}),
                       ("file", {"cache": cache})):
        again = _write(work, tmp_path / name, campaign, **kept)
        assert again.cache.misses == 2 if name == "memory" else again.cache.misses == 0
        _write(work, tmp_path / "plain", campaign)
        assert _outputs(tmp_path / name) == _outputs(tmp_path / "plain"), name


def test_the_sample_and_messy_inbox_with_memory(inbox, tmp_path):  # noqa: F811
    campaign = load_campaign("nq02-2020")
    memory = CacheMemory()
    cache = tmp_path / CACHE_NAME
    _write(inbox, tmp_path / "plain", campaign)
    for run in range(3):
        result = _write(inbox, tmp_path / f"run{run}", campaign, cache=cache, memory=memory)
        assert result.cache.problems == []
        assert _outputs(tmp_path / f"run{run}") == _outputs(tmp_path / "plain"), run
    assert memory.entries and memory.checked and memory.feedback


def _tamper(cache: Path, sql: str) -> None:
    with sqlite3.connect(cache) as db:
        db.execute(sql)
    db.close()


FIRST = "(SELECT min(key) FROM checked)"


@pytest.mark.parametrize(("sql", "kept"), [
    ("UPDATE checked SET payload = 'not json {'", 0),
    ("UPDATE checked SET payload = key || char(10) || '{\"unit_code\": \"TX01\"}'", 0),
    ("UPDATE checked SET payload = replace(payload, '\"findings\": [', "
     "'\"findings\": [[1,2,3,4,5,6,7,8,9,10], ')", 0),
    # every entry but the first replaced by the first's: the key it was made for travels
    # with it, so only the first is still used
    (f"UPDATE checked SET payload = (SELECT payload FROM checked WHERE key = {FIRST}) "
     f"WHERE key != {FIRST}", 1),
    ("DROP TABLE checked", None),
])
def test_a_damaged_or_foreign_validation_entry_is_validated_again(sql, kept, tmp_path):
    campaign = load_campaign("nq02-2020")
    work = _generated_inbox(tmp_path / "inbox", campaign, 2)
    cache = tmp_path / CACHE_NAME
    _write(work, tmp_path / "plain", campaign)
    _write(work, tmp_path / "cold", campaign, cache=cache)
    _tamper(cache, sql)
    damaged = _write(work, tmp_path / "damaged", campaign, cache=cache)
    assert _outputs(tmp_path / "damaged") == _outputs(tmp_path / "plain")
    if kept is not None:
        assert damaged.cache.checked == kept
        repaired = _write(work, tmp_path / "repaired", campaign, cache=cache)
        assert repaired.cache.checked > 0
        assert _outputs(tmp_path / "repaired") == _outputs(tmp_path / "plain")


def test_a_changed_spec_validates_again(tmp_path):
    campaign = load_campaign("nq02-2020")
    work = _generated_inbox(tmp_path / "inbox", campaign, 3)
    cache = tmp_path / CACHE_NAME
    memory = CacheMemory()
    first = _write(work, tmp_path / "a", campaign, cache=cache, memory=memory)
    assert first.cache.stored > 0
    for digit, kept in (("1", {"cache": cache}), ("2", {"cache": cache, "memory": memory})):
        other = dataclasses.replace(campaign, spec_sha256=digit * 64)
        again = consolidate(work, other, UNITS, OFFICE, **kept)
        assert again.cache.hits == 0 and again.cache.checked == 0


def test_a_file_replaced_in_place_is_hashed_again(tmp_path):
    """The hash of a file is remembered by its stat; bytes rewritten in place with the same
    size and the old modification time put back still change its ctime: hashed again."""
    campaign = load_campaign("nq02-2020")
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"a" * 1000)
    memory = CacheMemory()
    cache = ReadCache(tmp_path / CACHE_NAME, campaign, UNITS, memory)
    first = _digest(cache, path)
    assert first is not None and first[1] == 1000
    assert _digest(cache, path) == first
    st = os.stat(path)
    with open(path, "r+b") as fh:  # same inode, same size, other bytes
        fh.write(b"b" * 1000)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(path).st_mtime_ns == st.st_mtime_ns
    second = _digest(cache, path)
    assert second is not None and second[0] != first[0]
    cache.close()
    # a later run (another process) finds the new hash in the cache file
    fresh = ReadCache(tmp_path / CACHE_NAME, campaign, UNITS)
    assert fresh.known_digest(path, _stat(path)) == second[0]
    fresh.close()


def _stat(path: Path) -> tuple[int, int, int, int, int]:
    from toolkit.read.cache import file_stat

    return file_stat(os.lstat(path))


def test_memory_hands_out_copies(inbox, tmp_path):  # noqa: F811
    """A run adds findings to what it gets: the memory's own entries never change."""
    campaign = load_campaign("nq02-2020")
    memory = CacheMemory()
    cache = tmp_path / CACHE_NAME
    consolidate(inbox, campaign, UNITS, OFFICE, cache=cache, memory=memory)
    before = {k: (copy.copy(s.findings), s.status, s.received_at)
              for k, s in memory.entries.items()}
    consolidate(inbox, campaign, UNITS, OFFICE, cache=cache, memory=memory)
    assert {k: (s.findings, s.status, s.received_at) for k, s in memory.entries.items()} == before
