"""The cyclic garbage collector paused during one short run of a long-lived process.

The office's page keeps a whole campaign in memory between runs (:class:`toolkit.read.cache.
CacheMemory`): a million objects that the collector would scan again whenever a run's new
objects push it into a full collection, a fifth of a run after one upload. A run's own
garbage is freed by reference counting as it goes; what it leaves in cycles waits for the
collector, which runs again as soon as the run ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused(pause: bool = True) -> Iterator[None]:
    """Pause the cyclic collector inside the block (when ``pause``), as it was after."""
    if not pause or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
