"""Exceptions for failures of a run itself (as opposed to findings about a file)."""

from __future__ import annotations

from pathlib import Path


class InboxError(Exception):
    """The inbox folder itself cannot be used (missing, not a folder)."""


class SpecError(Exception):
    """A campaign or form spec is malformed; the message names the file and the key."""

    def __init__(self, path: Path | str, key: str, problem: str) -> None:
        self.path = str(path)
        self.key = key
        self.problem = problem
        where = [str(path)] if str(path) else []
        where += [key] if key and key != "-" else []  # "-": the file as a whole
        super().__init__(": ".join([*where, problem]))
