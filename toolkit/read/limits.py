"""Resource limits applied to every mailed workbook, in one place (docs/limits.md).

A filled template is ~25 KB and reads in a few milliseconds; a district's summary stays
well under 1 MB. The limits are far above that and far below what would hurt the machine.
Readers look them up here at call time (``limits.MAX_FILE_BYTES``), so a test can lower one.
"""

from __future__ import annotations

MAX_FILE_BYTES = 20 * 1024 * 1024  # the file on disk
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024  # sum of uncompressed zip members (zip bombs)
MAX_MEMBER_BYTES = 100 * 1024 * 1024  # any one zip member
MAX_ZIP_MEMBERS = 10_000
MAX_SHEET_CELLS = 1_000_000  # rectangle A1..farthest cell of a sheet we load (~32 MB)
MAX_FILE_SECONDS = 30.0  # reading one file; the worker reading it is stopped after this
