"""How long a clerk waits between dropping a plan on the page and seeing the proposal.

Builds a 20-page Word plan with 8 appendix tables (python-docx, from the seed content in
``tests/plan_builders.py``: the heading block, the body of 161-KH/ĐTN repeated to 20 pages,
its ĐỀ CƯƠNG BÁO CÁO, the six appendices of 161-KH/ĐTN and the two of 40-KH/ĐTN), then
times ``read_plan`` + ``propose`` on its bytes, in this process (both are pure functions),
and prints the median of several runs. Target: under 2 s on the project's 2-CPU machine.

    .venv/bin/python benchmarks/propose.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from plan_builders import (  # the tests' builders: one definition of the seed
    BODY_161,
    CT_40,
    CTR_40,
    HEADING_161,
    OUTLINE_161,
    SIGNATURE_161,
    TABLES_161,
    PlanDoc,
    build_docx,
)

from toolkit.author.infer_text import ascii_fold
from toolkit.author.plan import read_plan
from toolkit.author.propose import propose

TARGET_SECONDS = 2.0
WORDS_PER_PAGE = 500  # A4, Times New Roman 14, as Đoàn documents are typed


def twenty_page_plan() -> tuple[bytes, int]:
    """The plan's bytes and its length in words (≈ pages × 500)."""
    body = list(BODY_161[:6])  # «KẾ HOẠCH», the title lines, the separator
    chapters = list(BODY_161[6:])
    words = sum(len(t.split()) for t in (*body, *OUTLINE_161))
    copy = 0
    while words < 20 * WORDS_PER_PAGE - 200:
        copy += 1
        for line in chapters:
            body.append(line if copy == 1 else f"{line} (nhắc lại lần {copy})")
            words += len(line.split())
    plan = PlanDoc(HEADING_161, tuple(body), (*TABLES_161, CT_40, CTR_40), SIGNATURE_161,
                   OUTLINE_161)
    return build_docx(plan), words


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    data, words = twenty_page_plan()
    plan = read_plan(data, "ke-hoach-20-trang.docx")  # warm-up: imports, regex compilation
    proposal = propose(plan)
    timings: list[tuple[float, float]] = []
    for _ in range(args.runs):
        ascii_fold.cache_clear()  # a new plan's words are new: no help from the previous run
        start = time.perf_counter()
        plan = read_plan(data, "ke-hoach-20-trang.docx")
        middle = time.perf_counter()
        proposal = propose(plan)
        timings.append((middle - start, time.perf_counter() - middle))
    read_s = statistics.median(t[0] for t in timings)
    propose_s = statistics.median(t[1] for t in timings)
    total = statistics.median(t[0] + t[1] for t in timings)
    print(f"plan: {len(data) / 1024:.0f} KB, ~{words / WORDS_PER_PAGE:.0f} pages ({words} words), "
          f"{len(plan.paragraphs)} paragraphs, {len(plan.data_tables)} appendix tables")
    print(f"proposal: {len(proposal.forms)} forms, {len(proposal.questions)} questions, "
          f"{len(proposal.notes)} notes")
    print(f"median of {args.runs} runs: read_plan {read_s * 1000:.0f} ms + propose "
          f"{propose_s * 1000:.0f} ms = {total * 1000:.0f} ms "
          f"(target < {TARGET_SECONDS:.0f} s: {'ok' if total < TARGET_SECONDS else 'MISSED'})")
    return 0 if total < TARGET_SECONDS and len(proposal.forms) == 8 else 1


if __name__ == "__main__":
    raise SystemExit(main())
