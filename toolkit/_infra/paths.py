"""Where the bundled data lives: the repository's ``schemas/`` and ``samples/`` folders, or
their copies inside an installed wheel (``toolkit/_data``)."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # toolkit/


def _data_dir(name: str) -> Path:
    wheel = _PACKAGE / "_data" / name
    if wheel.is_dir():
        return wheel
    return _PACKAGE.parent / name


def builtin_schemas_dir() -> Path:
    """Folder holding one sub-folder per built-in campaign."""
    return _data_dir("schemas")


def samples_dir() -> Path:
    """Folder with the sample units file, allocations and inboxes."""
    return _data_dir("samples")
