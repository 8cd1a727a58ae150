"""A synthetic province for the benchmark: units file, filled inbox, and what it must give.

One province office (``BENCH``) receives a workbook from each of N base units (``co_so``,
grouped by district in their codes and names: ``H07X0123`` is unit 123 of district 07). The
toolkit's office reads the files of its *direct* children, so in this units file the base
units report straight to the province: that is how one office ends up with 2,000 files.

Filling a workbook with openpyxl (:func:`toolkit.testing.fill_workbook`) costs ~150 ms, so only
a few dozen *seed* workbooks are filled that way, from the real per-unit templates, with
distinct values; every other unit's file is its seed's file with the unit identity rewritten
inside the zip (``_meta`` sheet, custom and core properties, sheet headings) — the bytes a
unit's own template filled with the same values would give, which :func:`generate` checks
byte for byte on a sample. What it plants, and :func:`check_outputs` verifies:

- 10% of the units send a file with one mistake (text in a number cell, a breakdown larger
  than its total, a rate above 100, a fraction in a count, a negative count): rejected,
  the planted finding code on the planted column;
- 3% send a wrong first version and a corrected one later (the first is superseded);
- 1% send the same file twice under two names (a duplicate copy);
- 1% send nothing (missing); a lock file ``~$…`` lies in the inbox;
- received times come from ``manifest.csv`` (some after the deadline).

Every accepted unit's values are known, so values.csv must equal them exactly and the
summary's office figures must equal their sums.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import multiprocessing
import random
import re
import sys
import unicodedata
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit.testing import fill_workbook, sample_values
from toolkit.spec.campaign import Campaign
from toolkit.spec.load import load_campaign
from toolkit.write.templates import template_bytes
from toolkit.spec.units import Unit, load_units

CAMPAIGN_ID = "nq02-2020"
OFFICE = "BENCH"
OFFICE_NAME = "Tỉnh đoàn Bình An"
DISTRICTS = ("Thọ Xuân", "Triệu Sơn", "Ngọc Lặc", "Như Thanh", "Yên Định", "Vĩnh Lộc",
             "Hậu Lộc", "Hoằng Hóa", "Quảng Xương", "Nông Cống", "Tĩnh Gia", "Thạch Thành",
             "Cẩm Thủy", "Bá Thước", "Lang Chánh", "Thường Xuân", "Như Xuân", "Quan Hóa",
             "Quan Sơn", "Mường Lát", "Hà Trung", "Nga Sơn", "Thiệu Hóa", "Đông Sơn",
             "Sầm Sơn", "Bỉm Sơn", "Thanh Hóa")
GOOD_SEEDS = 24  # distinct value sets of correct files
TZ = dt.timezone(dt.timedelta(hours=7))
DEADLINE = dt.date(2021, 1, 20)  # co_so deadline of nq02-2020

# (changes to a correct file, finding code that must be reported, form, column)
MISTAKES: tuple[tuple[dict[tuple[str, str, str], Any], str, str, str], ...] = (
    ({("PL4", "2019", "co_so_so_nguoi"): "12 người"}, "not_a_number", "PL4", "co_so_so_nguoi"),
    ({("PL2", "-", "bt_so_luong"): 2, ("PL2", "-", "bt_thac_sy"): 1,
      ("PL2", "-", "bt_dai_hoc"): 2, ("PL2", "-", "bt_cd_tc"): 1},
     "rule_violation", "PL2", "bt_so_luong"),
    ({("PL5", "-", "tap_hop_chi_tieu"): 130}, "out_of_range", "PL5", "tap_hop_chi_tieu"),
    ({("PL6", "2018", "giam_sat_so_cuoc"): 2.5}, "not_integer", "PL6", "giam_sat_so_cuoc"),
    ({("PL4", "2020", "tinh_so_nguoi"): -3}, "negative", "PL4", "tinh_so_nguoi"),
)
BAD_SEEDS_PER_KIND = 2


def unit_code(i: int) -> str:
    return f"H{i % len(DISTRICTS):02d}X{i:04d}"


def unit_name(i: int) -> str:
    return f"Đoàn xã số {i:04d}, huyện {DISTRICTS[i % len(DISTRICTS)]}"


def write_units(path: Path, n: int) -> None:
    """``code,name,level,parent,email``: the office, then its N base units."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["code", "name", "level", "parent", "email"])
        out.writerow([OFFICE, OFFICE_NAME, "tinh", "", "vanphong@binhan.doan.example"])
        for i in range(n):
            out.writerow([unit_code(i), unit_name(i), "co_so", OFFICE,
                          f"{unit_code(i).lower()}@binhan.doan.example"])


# --------------------------------------------------------------------------- seeds


@dataclass(frozen=True)
class Seed:
    """One filled workbook other units' files are made from."""

    key: str  # g12 (correct) or b3 (mistake kind 3)
    unit: int  # the unit whose template it was filled from
    values: dict[tuple[str, str, str], Any]
    mistake: int | None = None  # index into MISTAKES


def _seed_values(campaign: Campaign, k: int) -> dict[tuple[str, str, str], Any]:
    return sample_values(campaign, random.Random(f"bench-seed-{k}"))


def make_seeds(campaign: Campaign, n: int) -> list[Seed]:
    """Correct seeds ``g0…``, then mistaken seeds ``b…`` (a correct value set plus one
    mistake), each from the template of a different unit."""
    seeds = [Seed(f"g{k}", k % n, _seed_values(campaign, k)) for k in range(min(GOOD_SEEDS, n))]
    for kind, (changes, _code, _form, _col) in enumerate(MISTAKES):
        for j in range(BAD_SEEDS_PER_KIND):
            k = kind * BAD_SEEDS_PER_KIND + j
            values = {**_seed_values(campaign, 1000 + k), **changes}
            seeds.append(Seed(f"b{k}", (GOOD_SEEDS + k) % n, values, kind))
    return seeds


_WORKER: dict[str, Any] = {}


def _init_worker(units_csv: str) -> None:
    _WORKER["campaign"] = load_campaign(CAMPAIGN_ID)
    _WORKER["units"] = load_units(units_csv)


def _filled(unit: int, values: dict, saved: dt.datetime) -> bytes:
    units = _WORKER["units"]
    template = template_bytes(_WORKER["campaign"], units.get(unit_code(unit)), units.get(OFFICE))
    return fill_workbook(template, values, modified=saved.replace(tzinfo=None))


def _fill_seed(seed: Seed) -> tuple[str, bytes]:
    return seed.key, _filled(seed.unit, seed.values, dt.datetime(2021, 1, 10, 8, 0))


# --------------------------------------------------------------------------- rewriting

_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
# row heights, and the page breaks placed by them (both follow the unit name's length)
_HEIGHT = re.compile(rb' ht="[0-9.]+"( customHeight="1")?|<rowBreaks .*?</rowBreaks>')


def _members(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(info, zf.read(info)) for info in zf.infolist()]


def rewrite(seed_data: bytes, seed_unit: int, unit: int, saved: dt.datetime) -> bytes:
    """The seed's workbook as ``unit`` would have saved it: its code and name everywhere the
    seed's were (``_meta``, custom/core properties, headings), and its own "modified"."""
    def forms(text: str) -> list[bytes]:
        """``text`` as XML may hold it: UTF-8, or ASCII with character references (how the
        filled sheets write their inline strings)."""
        xml = escape(text)
        refs = "".join(ch if ord(ch) < 128 else f"&#{ord(ch)};" for ch in xml)
        return [xml.encode(), refs.encode()]

    swaps = [pair for old, new in ((unit_name(seed_unit), unit_name(unit)),
                                   (unit_name(seed_unit).upper(), unit_name(unit).upper()))
             for pair in zip(forms(old), forms(new), strict=True)]
    swaps.append((unit_code(seed_unit).encode(), unit_code(unit).encode()))
    stamp = saved.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, body in _members(seed_data):
            for old, new in swaps:
                body = body.replace(old, new)
            if info.filename == "docProps/core.xml":
                body = _MODIFIED.sub(lambda m: m.group(1) + stamp + m.group(2), body)
            dst.writestr(info, body)
    return out.getvalue()


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class File:
    """One file to put in the inbox."""

    name: str
    unit: int
    seed: str
    saved: dt.datetime
    received: dt.datetime


def plan(n: int, seeds: list[Seed], rng: random.Random) -> tuple[list[File], dict[str, Any]]:
    """Which unit sends what, and the outcome each one must get."""
    good = [s.key for s in seeds if s.mistake is None]
    bad = [s.key for s in seeds if s.mistake is not None]
    order = list(range(n))
    rng.shuffle(order)
    n_missing, n_bad = max(1, n // 100), max(1, n // 10)
    n_resent, n_dupe = max(1, n * 3 // 100), max(1, n // 100)
    missing = set(order[:n_missing])
    wrong = order[n_missing:n_missing + n_bad]
    resent = order[n_missing + n_bad:n_missing + n_bad + n_resent]
    dupes = order[n_missing + n_bad + n_resent:n_missing + n_bad + n_resent + n_dupe]
    final = {i: good[i % len(good)] for i in range(n) if i not in missing}
    for j, i in enumerate(wrong):
        final[i] = bad[j % len(bad)]
    files: list[File] = []
    superseded: list[str] = []

    def when(i: int, extra_hours: int = 0) -> dt.datetime:
        day = 12 + (i * 7) % 10  # 12–21 January; the 21st is after the deadline
        return dt.datetime(2021, 1, day, 7 + i % 10, (i * 13) % 60, tzinfo=TZ) + dt.timedelta(
            hours=extra_hours)

    for i in range(n):
        if i in missing:
            continue
        folder = f"huyen-{i % len(DISTRICTS):02d}"
        name = f"{folder}/Phụ lục NQ02 - {unit_name(i).removeprefix('Đoàn ')}.xlsx"
        if i in resent:
            first = f"{folder}/lan-1/{unit_code(i)} bao cao.xlsx"
            files.append(File(first, i, bad[i % len(bad)], when(i, -30), when(i, -30)))
            superseded.append(first)
            name = f"{folder}/lan-2/{unit_code(i)} bao cao (da sua).xlsx"
        files.append(File(name, i, final[i], when(i), when(i)))
        if i in dupes:  # forwarded again an hour later: the later copy is the one kept
            copy = f"{folder}/{unit_code(i)} (ban sao).xlsx"
            files.append(File(copy, i, final[i], when(i), when(i, 1)))
            superseded.append(name)
    by_key = {s.key: s for s in seeds}
    expected = {
        "units": n,
        "files": len(files),
        "accepted": sorted(unit_code(i) for i, k in final.items() if by_key[k].mistake is None),
        "rejected": {unit_code(i): by_key[k].mistake for i, k in final.items()
                     if by_key[k].mistake is not None},
        "missing": sorted(unit_code(i) for i in missing),
        "superseded": sorted(unicodedata.normalize("NFC", f) for f in superseded),
        "late": sorted(unicodedata.normalize("NFC", f.name) for f in files
                       if f.received.date() > DEADLINE),
        "seed_of": {unit_code(i): k for i, k in final.items()},
    }
    return files, expected


# --------------------------------------------------------------------------- generate


def _write_file(job: tuple[str, bytes, int, int, str]) -> str:
    path, seed_data, seed_unit, unit, saved = job
    data = rewrite(seed_data, seed_unit, unit, dt.datetime.fromisoformat(saved))
    Path(path).write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def generate(workdir: Path, n: int, *, jobs: int = 2, seed: int = 2021,
             seed_dir: Path | None = None) -> dict[str, Any]:
    """Write ``units.csv``, ``inbox/`` (with ``manifest.csv``) and ``expected.json`` into
    ``workdir``; return the expectations. Seed workbooks are kept in ``seed_dir`` (default
    ``workdir/seeds``) and reused from there: a smaller province can share them."""
    workdir.mkdir(parents=True, exist_ok=True)
    campaign = load_campaign(CAMPAIGN_ID)
    units_csv = workdir / "units.csv"
    write_units(units_csv, n)
    seeds = make_seeds(campaign, n)
    files, expected = plan(n, seeds, random.Random(seed))
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(jobs, initializer=_init_worker, initargs=(str(units_csv),)) as pool:
        seed_data = _seed_files(pool, seeds, seed_dir or workdir / "seeds")
        by_key = {s.key: s for s in seeds}
        inbox = workdir / "inbox"
        for f in files:
            (inbox / f.name).parent.mkdir(parents=True, exist_ok=True)
        work = [(str(inbox / f.name), seed_data[f.seed], by_key[f.seed].unit, f.unit,
                 f.saved.isoformat()) for f in files]
        pool.map(_write_file, work, chunksize=16)
        _check_rewrites(pool, seeds, files, inbox, seed_data)
    (inbox / "~$Phụ lục NQ02 - đang mở.xlsx").write_bytes(b"\x00" * 162)
    with (inbox / "manifest.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=["file", "sender", "date", "message_id", "subject"])
        out.writeheader()
        for k, f in enumerate(sorted(files, key=lambda f: f.name)):
            out.writerow({"file": unicodedata.normalize("NFC", f.name),
                          "sender": f"{unit_code(f.unit).lower()}@binhan.doan.example",
                          "date": f.received.isoformat(), "message_id": f"<bench-{k}@x>",
                          "subject": "Báo cáo tổng kết NQ 02"})
    expected["seed_values"] = {s.key: [[*k, _jsonable(v)] for k, v in s.values.items()]
                               for s in seeds}
    (workdir / "expected.json").write_text(json.dumps(expected, ensure_ascii=False))
    return expected


def _jsonable(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.date) else v


def _seed_files(pool: Any, seeds: list[Seed], folder: Path) -> dict[str, bytes]:
    """Seed workbooks from ``folder``, filling (and saving there) those not there yet; the
    name carries a digest of the unit, the values and the template writer's source, so a
    stale seed (of older templates) is never reused."""
    folder.mkdir(parents=True, exist_ok=True)
    writer = Path(__file__).resolve().parent.parent / "toolkit" / "write"
    source = b"".join(p.read_bytes() for p in sorted(writer.glob("*.py")))

    def path(s: Seed) -> Path:
        digest = hashlib.sha256(repr((unit_code(s.unit), unit_name(s.unit),
                                      sorted(s.values.items(), key=repr))).encode() + source)
        return folder / f"{s.key}-{digest.hexdigest()[:12]}.xlsx"

    todo = [s for s in seeds if not path(s).exists()]
    for key, data in pool.map(_fill_seed, todo, chunksize=1):
        path(next(s for s in todo if s.key == key)).write_bytes(data)
    return {s.key: path(s).read_bytes() for s in seeds}


def _direct(job: tuple[int, dict, str]) -> bytes:
    unit, values, saved = job
    return _filled(unit, values, dt.datetime.fromisoformat(saved))


def _check_rewrites(pool: Any, seeds: list[Seed], files: list[File], inbox: Path,
                    seed_data: dict[str, bytes]) -> None:
    """A few rewritten files must equal, member by member, the unit's own template filled
    with the same values: the inbox holds exactly what units would send."""
    by_key = {s.key: s for s in seeds}
    sample = [f for f in files if f.unit != by_key[f.seed].unit][:: max(1, len(files) // 3)][:3]
    direct = pool.map(_direct, [(f.unit, by_key[f.seed].values, f.saved.isoformat())
                                for f in sample])
    for f, want in zip(sample, direct, strict=True):
        # openpyxl stamps "modified" with the clock when it saves; compare without it
        # and without row heights and the page breaks set by them: they follow the length
        # of the unit's name in wrapped headings, which a rewrite keeps from the seed
        # (nothing the reader looks at)
        got = {i.filename: _HEIGHT.sub(b"", _MODIFIED.sub(b"", b))
               for i, b in _members((inbox / f.name).read_bytes())}
        exp = {i.filename: _HEIGHT.sub(b"", _MODIFIED.sub(b"", b)) for i, b in _members(want)}
        diff = sorted(k for k in exp.keys() | got.keys() if exp.get(k) != got.get(k))
        if diff:
            raise SystemExit(f"generator bug: {f.name} differs from a directly filled "
                             f"workbook in {diff}")


# --------------------------------------------------------------------------- checks


def _read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        try:
            return math.isclose(float(actual), float(expected), rel_tol=1e-9, abs_tol=1e-6)
        except (TypeError, ValueError):
            return False
    return actual == expected


def check_outputs(workdir: Path, out: Path) -> list[str]:
    """Everything wrong with the toolkit's outputs in ``out`` (consolidate --out: the set
    is ``out/<campaign>_<office>/``); empty when all is right."""
    from toolkit.report.outputs import find_results

    out = find_results(out, CAMPAIGN_ID, OFFICE)
    campaign = load_campaign(CAMPAIGN_ID)
    exp = json.loads((workdir / "expected.json").read_text())
    units = {u.code: u for u in load_units(workdir / "units.csv").units.values()}
    problems: list[str] = []
    subs = _read_csv(out / "submissions.csv")
    status: dict[str, list[str]] = defaultdict(list)
    for row in subs:
        status[row["status"]].append(row["unit_code"] if row["status"] != "superseded"
                                     else row["file"])
    for key in ("accepted", "missing", "superseded"):
        if sorted(status[key]) != exp[key]:
            problems.append(f"{key}: got {len(status[key])}, planted {len(exp[key])}")
    if sorted(status["rejected"]) != sorted(exp["rejected"]):
        problems.append(f"rejected: got {len(status['rejected'])}, "
                        f"planted {len(exp['rejected'])}")
    if status["unidentified"]:
        problems.append(f"unidentified files: {status['unidentified'][:3]}")
    late = sorted(r["file"] for r in subs if r["late"] == "yes")
    if late != exp["late"]:
        problems.append(f"late: got {len(late)}, planted {len(exp['late'])}")
    findings = _read_csv(out / "findings.csv")
    found = {(f["unit_code"], f["code"], f["form"], f["column"]) for f in findings
             if f["severity"] == "error"}
    for code, kind in exp["rejected"].items():
        _changes, fcode, form, col = MISTAKES[kind]
        if (code, fcode, form, col) not in found:
            problems.append(f"{code}: planted {fcode} at {form}.{col} was not reported")
    chosen_files = {r["file"] for r in subs if r["status"] in ("accepted", "rejected")}
    accepted = set(exp["accepted"])
    stray = [f for f in findings if f["file"] in chosen_files and f["unit_code"] in accepted]
    if stray:
        problems.append(f"{len(stray)} findings on correct files, e.g. {stray[0]['message']}")
    feedback = sorted((out / "feedback").glob("*.xlsx"))
    if len(feedback) != len(exp["rejected"]):
        problems.append(f"feedback workbooks: {len(feedback)}, rejected units "
                        f"{len(exp['rejected'])}")
    seeds = {k: {(f, r, c): v for f, r, c, v in rows} for k, rows in exp["seed_values"].items()}
    problems += _check_values(out / "values.csv", exp, seeds, units)
    problems += _check_summary(out, exp, seeds, campaign)
    return problems


def _check_values(path: Path, exp: dict, seeds: dict, units: dict[str, Unit]) -> list[str]:
    """values.csv holds exactly what the accepted units entered, and nothing else."""
    got: dict[tuple[str, str, str, str], str] = {}
    names_ok = True
    for r in _read_csv(path):
        got[(r["unit_code"], r["form"], r["row"], r["column"])] = r["value"]
        names_ok = names_ok and units[r["unit_code"]].name == r["unit_name"]
    problems = [] if names_ok else ["values.csv: a unit name differs from the units file"]
    wrong = 0
    for code in exp["accepted"]:
        for (form, row, col), v in seeds[exp["seed_of"][code]].items():
            actual = got.pop((code, form, row, col), None)
            want = v[:10] if isinstance(v, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT.*", v) else v
            if actual is None or not _same(actual, want):
                wrong += 1
    if wrong:
        problems.append(f"values.csv: {wrong} planted values missing or different")
    if got:
        problems.append(f"values.csv: {len(got)} values nobody entered, e.g. {next(iter(got))}")
    return problems


def _check_summary(out: Path, exp: dict, seeds: dict, campaign: Campaign) -> list[str]:
    """The summary's office figures (through its own ``_meta`` map) are the planted sums."""
    from python_calamine import CalamineWorkbook

    from toolkit.spec.meta import META_SHEET, parse_meta

    sums: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    aggregate = {(f.id, c.key): c.aggregate for f in campaign.forms for c in f.columns}
    kinds = {f.id: f.kind for f in campaign.forms}
    counts = Counter(exp["seed_of"][c] for c in exp["accepted"])
    for key, times in counts.items():
        for (form, row, col), v in seeds[key].items():
            if kinds[form] != "list" and aggregate[(form, col)] == "sum":
                sums[(form, row, col)].extend([float(v)] * times)
    paths = sorted(out.glob("tong-hop_*.xlsx"))
    if len(paths) != 1:
        return [f"summary workbook: found {len(paths)}"]
    book = CalamineWorkbook.from_path(str(paths[0]))
    meta = parse_meta(book.get_sheet_by_name(META_SHEET).to_python())
    sheets: dict[str, list[list[Any]]] = {}
    cells: dict[tuple[str, str, str], Any] = {}
    from toolkit.spec.layout import rowcol

    for ref in meta.cells:
        if ref.sheet not in sheets:
            sheets[ref.sheet] = book.get_sheet_by_name(ref.sheet).to_python()
        rows = sheets[ref.sheet]
        r, c = rowcol(ref.cell)
        cells[(ref.form, ref.row, ref.column)] = rows[r][c] if r < len(rows) and c < len(
            rows[r]) else None
    bad = [k for k, vs in sums.items() if not _same(cells.get(k), math.fsum(vs))]
    if not sums:
        return ["summary check: nothing planted to compare"]
    return [f"summary: {len(bad)} office totals differ, e.g. {bad[0]}: "
            f"{cells.get(bad[0])!r} != {math.fsum(sums[bad[0]])!r}"] if bad else []
