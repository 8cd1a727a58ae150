"""Exceptions for failures of a run itself (as opposed to findings about a file)."""


class InboxError(Exception):
    """The inbox folder itself cannot be used (missing, not a folder)."""
