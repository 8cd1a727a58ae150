"""Work on many files in worker processes (reading an inbox, writing a province's templates):
results in order, each file under a time limit, a crash stopping only its own file.

A hostile or broken file could make a reader loop, or crash inside native code, where no
Python exception or signal reaches. So each file is handled by a forked worker process
(pebble's ``ProcessPool``); a worker that runs past the limit or dies is replaced, and that
file alone gets an answer saying so. Results come back in the order given, whatever the
number of workers, so a run reads the same on any machine.

Workers are forked (cheap, and no re-import of the caller's script as spawn and forkserver
do); fork is safe on Linux only, so elsewhere files are handled in this process, without a
time limit.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

JOBS_ENV = "TOOLKIT_JOBS"  # worker processes (0: everything in this process, no time limit)
Failed = Callable[[Any, str, str], Any]  # (item, finding code, detail) -> result


def jobs_wanted(items: int) -> int:
    """Worker processes for ``items`` files: one per CPU this process may use (never more
    than files), ``TOOLKIT_JOBS`` overriding; 0 means "in this process"."""
    if not sys.platform.startswith("linux") or items == 0:
        return 0
    wanted = os.environ.get(JOBS_ENV, "").strip()
    jobs = int(wanted) if wanted.isdigit() else len(os.sched_getaffinity(0))
    return min(jobs, items)


def ordered_map(work: Callable[[Item], Result], items: Sequence[Item], *, timeout: float,
                failed: Failed, initializer: Callable[..., None] | None = None,
                initargs: tuple[Any, ...] = ()) -> Generator[Result, None, None]:
    """``work(item)`` for every item, in order. Where a worker ran past ``timeout`` seconds
    the result is ``failed(item, "read_timeout", seconds)``; where it died (a crash in
    native code, the kernel's OOM killer) ``failed(item, "reader_crashed", detail)``.

    ``initializer(*initargs)`` runs in each worker (also in one started to replace a worker
    that was stopped). Closing the generator early stops the workers."""
    jobs = jobs_wanted(len(items))
    if jobs == 0:
        if initializer is not None:
            initializer(*initargs)
        for item in items:
            yield work(item)
        return
    import multiprocessing

    from pebble import ProcessPool

    pool = ProcessPool(max_workers=jobs, initializer=initializer, initargs=initargs,
                       context=multiprocessing.get_context("fork"))
    window = 8 * jobs  # files in flight: enough to keep workers busy, results not hoarded
    pending: deque[tuple[Item, Any]] = deque()
    try:
        for item in items:
            pending.append((item, pool.schedule(work, args=(item,), timeout=timeout)))
            if len(pending) >= window:
                yield _result(*pending.popleft(), timeout, failed)
        while pending:
            yield _result(*pending.popleft(), timeout, failed)
    finally:
        for _item, future in pending:
            future.cancel()
        pool.stop()
        _reap(pool)


def _reap(pool: Any) -> None:
    """Wait for a stopped pool in a thread of its own: its workers are told to stop at
    once, but pebble's manager notices only at its next tick (0.1 s), which the caller,
    whose results are all in, need not wait for (a tenth of a re-run after one upload)."""
    import threading

    threading.Thread(target=pool.join, name="toolkit-reap-pool", daemon=True).start()


def _result(item: Any, future: Any, timeout: float, failed: Failed) -> Any:
    from pebble import ProcessExpired

    try:
        return future.result()
    except FutureTimeout:
        return failed(item, "read_timeout", f"{timeout:g}")
    except ProcessExpired as exc:
        return failed(item, "reader_crashed", f"mã thoát {exc.exitcode}")
    except Exception as exc:  # the result could not travel back, or pebble failed
        return failed(item, "file_unreadable", f"{type(exc).__name__}: {exc}"[:200])


def _serve(job: Callable[[], Any], send: Any) -> None:
    """In the helper: send ``job()``'s answer, or nothing (the parent then does the job)."""
    try:
        send.send(job())
    except BaseException:  # the parent reruns the job and so sees any error itself
        pass
    finally:
        send.close()


class Background:
    """``job()`` computed in one forked process while this one goes on; :meth:`result`
    waits for it. Without fork (``TOOLKIT_JOBS`` ≤ 1, not Linux), or if the helper dies or
    fails, the job simply runs here, so the answer never depends on the helper.

    The helper inherits this process's memory copy-on-write; :func:`gc.freeze` before the
    fork keeps the collector from touching (and so copying) every inherited object."""

    def __init__(self, job: Callable[[], Result]) -> None:
        self._job = job
        self._proc: Any = None
        self._recv: Any = None
        if jobs_wanted(2) < 2:
            return
        import gc
        import multiprocessing

        context = multiprocessing.get_context("fork")
        gc.freeze()
        try:
            self._recv, send = context.Pipe(duplex=False)
            self._proc = context.Process(target=_serve, args=(job, send), daemon=True)
            self._proc.start()
            send.close()
        except Exception:  # no fork here (limits, seccomp): run it in this process instead
            self.close()
        finally:
            gc.unfreeze()

    def result(self) -> Any:
        try:
            if self._recv is not None:
                return self._recv.recv()
        except Exception:  # the helper died, failed, or its answer could not travel
            pass
        finally:
            self.close()
        return self._job()

    def close(self) -> None:
        """Stop the helper (if it still runs, its work is dropped)."""
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.terminate()
            self._proc.join()
        if self._recv is not None:
            self._recv.close()
        self._proc = self._recv = None

    def __enter__(self) -> Background:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
