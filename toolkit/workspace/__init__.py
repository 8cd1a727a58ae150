"""The office's workspace: one folder holding its settings (office code, units file, mail
server without password), its campaigns, and per campaign an inbox and the results.

Shared by ``toolkit init`` / ``toolkit serve`` and by every CLI command run inside a
workspace (:func:`defaults_for`), and by the web page, so the page and the terminal see the
same files. Uploads land in an inbox through :mod:`.uploads` (names made safe, never an
overwrite); :mod:`.board` consolidates a campaign through :func:`toolkit.pipeline.consolidate`
and counts what the office must see.

May import: every stage below it, :mod:`toolkit.pipeline` and :mod:`toolkit.mail`; imported by
the web layer and the CLI.
"""

from __future__ import annotations

from toolkit.workspace.settings import (
    SETTINGS_FILE,
    Workspace,
    WorkspaceError,
    defaults_for,
    find_workspace,
    init_workspace,
    open_workspace,
)

__all__ = ["SETTINGS_FILE", "Workspace", "WorkspaceError", "defaults_for", "find_workspace",
           "init_workspace", "open_workspace"]
