"""The office's page in the browser (room for the web work): routes, templates and static
files over the same library the CLI calls, with no logic of its own. Empty until that work
lands.

May import: every stage, :mod:`toolkit.pipeline` and :mod:`toolkit.mail`; nothing imports
it but the CLI's ``serve`` command.
"""
