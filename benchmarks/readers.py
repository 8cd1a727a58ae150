"""The reference readers the benchmark compares the toolkit with, run as child processes.

``python benchmarks/readers.py floor INBOX``: the physical floor — every worksheet's XML
read out of the zip and parsed by expat, with no handler and nothing kept.

``python benchmarks/readers.py naive INBOX``: what a clerk's script does —
``pandas.read_excel(path, sheet_name=None, engine="openpyxl")`` on every file, then one
``pandas.concat`` per sheet name.

Both walk INBOX the way the toolkit does (sorted, lock files and ``manifest.csv`` left out)
and print one JSON line: the number of files read and what they found.
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
from pathlib import Path
from xml.parsers import expat

SUFFIXES = (".xlsx", ".xlsm")


def workbooks(inbox: Path) -> list[Path]:
    """Every workbook under ``inbox`` that a unit sent (not lock or hidden files)."""
    found = []
    for root, _dirs, files in os.walk(inbox):
        for name in files:
            if name.lower().endswith(SUFFIXES) and not name.startswith(("~$", ".")):
                found.append(Path(root) / name)
    return sorted(found)


def floor(inbox: Path) -> dict[str, int]:
    files = sheets = size = 0
    for path in workbooks(inbox):
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    data = zf.read(name)
                    expat.ParserCreate().Parse(data, True)
                    sheets += 1
                    size += len(data)
        files += 1
    return {"files": files, "sheets": sheets, "xml_bytes": size}


def naive(inbox: Path) -> dict[str, int]:
    import pandas as pd

    frames: dict[str, list] = {}
    files = 0
    for path in workbooks(inbox):
        for sheet, frame in pd.read_excel(path, sheet_name=None, engine="openpyxl").items():
            frames.setdefault(sheet, []).append(frame)
        files += 1
    combined = {sheet: pd.concat(parts, ignore_index=True) for sheet, parts in frames.items()}
    return {"files": files, "sheets": len(combined),
            "rows": int(sum(len(f) for f in combined.values()))}


def main(argv: list[str]) -> int:
    what, inbox = argv[1], Path(argv[2])
    result = {"floor": floor, "naive": naive}[what](inbox)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
