"""Run one benchmark step as a child process and measure it: wall time, CPU time, peak memory.

Peak memory is reported two ways, and the table uses the larger:

- ``ru_maxrss`` from :func:`os.wait4` — the largest single process (the child or any of its
  waited-for descendants), what GNU ``time -v`` prints as "Maximum resident set size";
- the whole process tree sampled from ``/proc`` every 0.1 s or so (the sampler keeps to ~5%
  of a CPU): the sum of PSS over the child and all its descendants, so a tool that runs
  worker processes is charged for all of them.
  PSS (proportional set size) splits a page shared by n processes n ways: forked workers
  sharing their parent's pages are not counted twice, as a sum of RSS would.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
SAMPLE_SECONDS = 0.1  # at least; reading PSS of a large process costs a few ms
SAMPLE_SHARE = 0.05  # the sampler uses at most ~5% of one CPU


@dataclass
class Measured:
    """What one child run cost."""

    name: str
    files: int
    seconds: float
    cpu_seconds: float
    maxrss_mb: float  # largest single process (wait4)
    tree_mb: float  # largest sampled sum of PSS over the process tree
    returncode: int
    stdout: str = ""
    stderr: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def peak_mb(self) -> float:
        return max(self.maxrss_mb, self.tree_mb)

    @property
    def ms_per_file(self) -> float:
        return 1000 * self.seconds / self.files if self.files else float("nan")


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                kids.extend(int(x) for x in fh.read().split())
    except OSError:
        pass
    return kids


def _pss(pid: int) -> int:
    """Proportional set size of ``pid`` in bytes (RSS when smaps_rollup is unavailable)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _tree_memory(root: int) -> int:
    """Sum of PSS of ``root`` and every descendant alive now."""
    total, todo, seen = 0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _pss(pid)
        todo.extend(_children(pid))
    return total


class _Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            start = time.perf_counter()
            self.peak = max(self.peak, _tree_memory(self.pid))
            spent = time.perf_counter() - start
            self.done.wait(max(SAMPLE_SECONDS, spent / SAMPLE_SHARE))


def run_child(name: str, argv: list[str], files: int, *, env: dict[str, str] | None = None,
              cwd: Path | None = None, timeout: float | None = None) -> Measured:
    """Run ``argv``, wait for it with :func:`os.wait4`, and return what it cost."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                env=env, cwd=cwd, start_new_session=True)
        sampler = _Sampler(proc.pid)
        sampler.start()
        status, usage = _wait(proc, timeout)
        seconds = time.perf_counter() - start
        sampler.done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status) if status is not None else -9
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    return Measured(name=name, files=files, seconds=seconds,
                    cpu_seconds=(usage.ru_utime + usage.ru_stime) if usage else float("nan"),
                    maxrss_mb=(usage.ru_maxrss / 1024) if usage else float("nan"),
                    tree_mb=sampler.peak / 2**20, returncode=proc.returncode,
                    stdout=stdout, stderr=stderr)


def _wait(proc: subprocess.Popen, timeout: float | None):  # type: ignore[type-arg]
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            return status, usage
        if deadline is not None and time.monotonic() > deadline:
            os.killpg(proc.pid, 9)  # its own session: the child and its workers only
            pid, status, usage = os.wait4(proc.pid, 0)
            return None, usage
        time.sleep(0.01)
