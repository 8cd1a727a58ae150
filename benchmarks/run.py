"""Benchmark: a whole province, measured side by side on the same files (issue #8).

    python benchmarks/run.py --units 2000 --workdir /tmp/toolkit-bench

Generates a synthetic province (:mod:`province`: units file, N filled workbooks made from
the real templates, 10% with mistakes, resubmissions, duplicates, a lock file), then
measures, each step as its own child process (wall time, CPU time, peak memory):

1. ``toolkit make-templates`` for the N units;
2. ``toolkit consolidate`` end to end (ingest, validate, summary, feedback, CSVs) — and
   checks every output against what was planted: the run fails loudly if anything is wrong;
3. the same on a tenth of the province, for the memory growth ratio;
4. the floor: every sheet's XML read out of the zip and parsed by expat, nothing else;
5. the naive baseline: ``pandas.read_excel(sheet_name=None, engine="openpyxl")`` per file,
   then ``pandas.concat``;
6. ``datamaps import templates -m`` (the closest existing tool, PyPI ``datamaps``) with a
   datamap generated from the templates' ``_meta`` map, installed in its own venv under the
   work folder, run with HOME pointed at a folder there.

Generation is not measured. Ratios are computed from this run's figures, never typed in.
Exit status 1 when an output of the toolkit is wrong or a toolkit step fails.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import province
from measure import Measured, run_child
from readers import workbooks

PYTHON = sys.executable
_SCRIPT = Path(PYTHON).parent / "toolkit"  # the console script a clerk runs
TOOLKIT = [str(_SCRIPT)] if _SCRIPT.exists() else [PYTHON, "-m", "toolkit.cli"]
DATAMAPS_TIMEOUT = 3600.0


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- generation


def prepare(workdir: Path, n: int, jobs: int, reuse: bool, seed_dir: Path) -> dict:
    stamp = workdir / "generated.json"
    want = {"units": n, "generator": _source_digest()}
    if reuse and stamp.exists() and json.loads(stamp.read_text()) == want:
        log(f"using the province already generated in {workdir}")
        return json.loads((workdir / "expected.json").read_text())
    for sub in ("inbox", "expected.json", "units.csv", "generated.json"):
        target = workdir / sub
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    log(f"generating {n} units in {workdir} (not measured)…")
    start = time.perf_counter()
    expected = province.generate(workdir, n, jobs=jobs, seed_dir=seed_dir)
    log(f"  {expected['files']} files in {time.perf_counter() - start:.1f} s")
    stamp.write_text(json.dumps(want))
    return expected


def _source_digest() -> str:
    import hashlib

    digest = hashlib.sha256()
    for path in (HERE / "province.py", HERE.parent / "toolkit" / "write" / "templates.py",
                 HERE.parent / "toolkit" / "testing.py"):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# --------------------------------------------------------------------------- toolkit steps


def make_templates(workdir: Path, n: int) -> Measured:
    out = workdir / "templates"
    shutil.rmtree(out, ignore_errors=True)
    m = run_child("toolkit make-templates", [*TOOLKIT, "make-templates", "--units",
                                             str(workdir / "units.csv"), "--office",
                                             province.OFFICE, "--out", str(out)], n)
    made = len(list(out.glob("*.xlsx"))) if out.is_dir() else 0
    if m.returncode != 0 or made != n + 1:
        m.notes.append(f"FAILED: exit {m.returncode}, {made} files (want {n + 1}): "
                       f"{m.stderr.strip()[-500:]}")
    return m


def consolidate(workdir: Path, name: str) -> Measured:
    out = workdir / "out"
    shutil.rmtree(out, ignore_errors=True)
    files = len(workbooks(workdir / "inbox"))
    m = run_child(name, [*TOOLKIT, "consolidate", str(workdir / "inbox"), "--units",
                         str(workdir / "units.csv"), "--office", province.OFFICE,
                         "--out", str(out)], files)
    if m.returncode != 0:
        m.notes.append(f"FAILED: exit {m.returncode}: {m.stderr.strip()[-800:]}")
        return m
    problems = province.check_outputs(workdir, out)
    m.notes.extend(f"WRONG OUTPUT: {p}" for p in problems)
    if not problems:
        m.notes.append("outputs checked: statuses, planted findings, values.csv, summary "
                       "totals, feedback count — all as planted")
    return m


# --------------------------------------------------------------------------- references


def reader(workdir: Path, what: str, name: str) -> Measured:
    files = len(workbooks(workdir / "inbox"))
    m = run_child(name, [PYTHON, str(HERE / "readers.py"), what, str(workdir / "inbox")], files)
    if m.returncode != 0:
        m.notes.append(f"FAILED: {m.stderr.strip()[-500:]}")
    else:
        m.notes.append(m.stdout.strip())
    return m


def datamaps_install(workdir: Path) -> tuple[Path | None, str]:
    """``datamaps`` from PyPI in its own venv (it pins old dependencies)."""
    venv = workdir / "datamaps-venv"
    exe = venv / "bin" / "datamaps"
    if exe.exists():
        return exe, ""
    try:
        subprocess.run([PYTHON, "-m", "venv", "--clear", str(venv)], check=True,
                       capture_output=True, timeout=300)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                        "datamaps"], check=True, capture_output=True, timeout=900)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        return None, f"{exc}: {detail.decode(errors='replace').strip()[-400:]}"
    return (exe, "") if exe.exists() else (None, "pip installed no datamaps executable")


def datamap_csv(workdir: Path, target: Path) -> int:
    """datamaps' ``cell_key,template_sheet,cellreference,type`` from our ``_meta`` map."""
    from python_calamine import CalamineWorkbook

    from toolkit.spec.meta import META_SHEET, parse_meta
    from toolkit.spec.load import load_campaign

    campaign = load_campaign(province.CAMPAIGN_ID)
    types = {(f.id, c.key): c.type for f in campaign.forms for c in f.columns}
    sample = next(iter(workbooks(workdir / "inbox")))
    book = CalamineWorkbook.from_path(str(sample))
    meta = parse_meta(book.get_sheet_by_name(META_SHEET).to_python())
    with target.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["cell_key", "template_sheet", "cellreference", "type"])
        for ref in meta.cells:
            kind = types.get((ref.form, ref.column), "text")
            dm_type = {"date": "DATE", "text": "TEXT", "choice": "TEXT"}.get(kind, "NUMBER")
            out.writerow([f"{ref.form}.{ref.row}.{ref.column}", ref.sheet, ref.cell, dm_type])
    return len(meta.cells)


def datamaps(workdir: Path) -> Measured | str:
    log("datamaps: installing into its own venv (not measured)…")
    exe, why = datamaps_install(workdir)
    if exe is None:
        return f"datamaps could not be installed here: {why}"
    home = workdir / "datamaps-home"
    shutil.rmtree(home, ignore_errors=True)
    inbox = home / "Documents" / "datamaps" / "input"
    inbox.mkdir(parents=True)
    (home / "Documents" / "datamaps" / "output").mkdir()
    files = workbooks(workdir / "inbox")
    for k, path in enumerate(files):  # datamaps reads one flat folder
        try:
            os.link(path, inbox / f"{k:05d}.xlsx")
        except OSError:
            shutil.copyfile(path, inbox / f"{k:05d}.xlsx")
    keys = datamap_csv(workdir, inbox / "datamap.csv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env["HOME"] = str(home)
    subprocess.run([str(exe), "config", "show-file"], env=env, capture_output=True,
                   timeout=120)  # first run writes its config: not measured
    m = run_child("datamaps import templates -m", [str(exe), "import", "templates", "-m"],
                  len(files), env=env, timeout=DATAMAPS_TIMEOUT)
    master = home / "Documents" / "datamaps" / "output" / "master.xlsx"
    if m.returncode != 0 or not master.exists():
        tail = (m.stderr + m.stdout).strip()[-600:]
        m.notes.append(f"datamaps did not finish (exit {m.returncode}, master.xlsx "
                       f"{'written' if master.exists() else 'missing'}): {tail}")
    else:
        m.notes.append(f"datamap: {keys} cells; master.xlsx {master.stat().st_size} bytes")
    return m


# --------------------------------------------------------------------------- report


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = []
    from importlib.metadata import PackageNotFoundError, version

    for pkg in ("pandas", "pandera", "openpyxl", "python-calamine", "xlsxwriter"):
        with contextlib.suppress(PackageNotFoundError):
            versions.append(f"{pkg} {version(pkg)}")
    return (f"{cpu}, {os.cpu_count()} logical CPUs, {mem:.1f} GiB RAM; "
            f"{platform.system()} {platform.release()}; Python {platform.python_version()}; "
            + ", ".join(versions))


def table(rows: list[Measured], floor: Measured | None, baseline: Measured | None) -> str:
    lines = ["| step | files | seconds | ms/file | × floor | × faster than baseline | "
             "peak RSS (MB) | CPU s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for m in rows:
        reading = not m.name.startswith("toolkit make-templates")
        x_floor = (f"{m.ms_per_file / floor.ms_per_file:.1f}" if floor and reading else "—")
        x_base = (f"{baseline.ms_per_file / m.ms_per_file:.1f}"
                  if baseline and reading else "—")
        lines.append(f"| {m.name} | {m.files} | {m.seconds:.1f} | {m.ms_per_file:.1f} | "
                     f"{x_floor} | {x_base} | {m.peak_mb:.0f} | {m.cpu_seconds:.1f} |")
    return "\n".join(lines)


def targets(n: int, steps: dict[str, Measured], floor: Measured | None) -> list[str]:
    """Each target of issue #8 with this run's figure and whether it is met."""
    out = []
    c = steps.get("consolidate")

    def line(ok: bool, text: str) -> None:
        out.append(f"- [{'x' if ok else ' '}] {text}")

    if c:
        line(c.seconds <= 30, f"consolidate {c.files} files end to end ≤ 30 s: {c.seconds:.1f} s")
        if floor:
            ratio = c.ms_per_file / floor.ms_per_file
            line(ratio <= 5, f"consolidate per file within 5× the floor: {ratio:.1f}×")
        for key, label in (("baseline", "naive pandas+openpyxl"), ("datamaps", "datamaps")):
            if key in steps:
                speed = steps[key].ms_per_file / c.ms_per_file
                line(speed >= 10, f"≥ 10× faster than {label}: {speed:.1f}×")
        line(c.peak_mb <= 300, f"consolidate peak memory ≤ 300 MB: {c.peak_mb:.0f} MB")
        small = steps.get("consolidate-small")
        if small:
            growth = c.peak_mb / small.peak_mb
            line(growth <= 2, f"peak memory at {c.files} files ≤ 2× that at {small.files} "
                              f"files: {growth:.2f}×")
    t = steps.get("make-templates")
    if t:
        line(t.seconds <= 60 * n / 2000,
             f"make-templates for {n} units ≤ {60 * n / 2000:.0f} s: {t.seconds:.1f} s")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", type=int, default=2000, help="base units (files) [2000]")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/toolkit-bench"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2,
                    help="processes used to generate the province (not measured)")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse the province generated by an earlier run with the same N")
    ap.add_argument("--skip-datamaps", action="store_true")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--skip-templates", action="store_true",
                    help="skip timing make-templates")
    ap.add_argument("--skip-small", action="store_true",
                    help="skip the run on a tenth of the province (memory growth)")
    ap.add_argument("--markdown", type=Path, help="also write the report to this file")
    args = ap.parse_args(argv)
    n, workdir = args.units, args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    seed_dir = workdir / "seeds"
    expected = prepare(workdir, n, args.jobs, args.reuse, seed_dir)
    small_dir = workdir / "small"
    if not args.skip_small:  # the first N/10 units of the same province, same seeds
        prepare(small_dir, max(40, n // 10), args.jobs, args.reuse, seed_dir)

    steps: dict[str, Measured] = {}
    failed = False
    log("measuring: floor…")
    steps["floor"] = reader(workdir, "floor", "floor: unzip + expat, every sheet")
    if not args.skip_templates:
        log("measuring: toolkit make-templates…")
        steps["make-templates"] = make_templates(workdir, n)
    log("measuring: toolkit consolidate…")
    steps["consolidate"] = consolidate(workdir, "toolkit consolidate (end to end)")
    if not args.skip_small:
        log("measuring: toolkit consolidate on a tenth of the province…")
        steps["consolidate-small"] = consolidate(small_dir, "toolkit consolidate, N/10 units")
    if not args.skip_baseline:
        log("measuring: naive pandas + openpyxl…")
        steps["baseline"] = reader(workdir, "naive", "naive: pandas.read_excel openpyxl + concat")
    dm_note = "skipped (--skip-datamaps)"
    if not args.skip_datamaps:
        got = datamaps(workdir)
        if isinstance(got, str):
            dm_note = got
        else:
            steps["datamaps"] = got
            dm_note = "; ".join(got.notes)
            if got.returncode != 0:
                dm_note = f"did not complete — {dm_note}"
                del steps["datamaps"]
                steps["datamaps (failed)"] = got

    floor, baseline = steps.get("floor"), steps.get("baseline")
    order = ["make-templates", "consolidate", "consolidate-small", "floor", "baseline",
             "datamaps", "datamaps (failed)"]
    rows = [steps[k] for k in order if k in steps]
    for key in ("make-templates", "consolidate", "consolidate-small"):
        if key in steps and any(x.startswith(("FAILED", "WRONG")) for x in steps[key].notes):
            failed = True
    command = "python " + " ".join(shlex.quote(a) for a in [
        "benchmarks/run.py", *(argv if argv is not None else sys.argv[1:])])
    report = [
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on: {machine()}",
        "",
        f"Command: `{command}` — {n} units, {expected['files']} workbooks in the inbox "
        f"({len(expected['rejected'])} with a mistake, {len(expected['superseded'])} "
        f"superseded, units missing: {len(expected['missing'])}).",
        "",
        table(rows, floor, baseline),
        "",
        "Targets:",
        *targets(n, steps, floor),
        "",
        "Notes:",
        *(f"- {m.name}: {note}" for m in rows for note in m.notes),
        *([f"- datamaps: {dm_note}"] if "datamaps" not in steps else []),
        "- × floor = this step's ms/file ÷ the floor's; × faster than baseline = the naive "
        "baseline's ms/file ÷ this step's. Peak RSS is the larger of ru_maxrss (largest "
        "single process, from wait4) and the sampled sum of PSS over the whole process tree.",
    ]
    text = "\n".join(report)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n", encoding="utf-8")
    if failed:
        log("BENCHMARK FAILED: a toolkit step failed or wrote a wrong output (see Notes)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
