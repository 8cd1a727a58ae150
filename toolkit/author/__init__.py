"""Campaigns made from the office's own documents (room for the authoring work): a plan
(``.docx``/``.xlsx``) read into tables, tables into a proposed campaign with the questions
it could not decide, and the campaign workbook a clerk edits, converted to and from the
:mod:`toolkit.spec` objects without IO (pyxform's way: pure functions; only the CLI and the
web layer touch paths). The campaign workbook is here: :mod:`.workbook` (write, and read
back through :mod:`.workbook_read`, words shared in :mod:`.workbook_vocab`) and
:mod:`.spec_files` (a campaign's data as the text of its YAML files).

May import: :mod:`toolkit.write` (previews of the templates a proposal would make),
:mod:`toolkit.check`, :mod:`toolkit.spec`, :mod:`toolkit._infra`; never :mod:`toolkit.read`
or :mod:`toolkit.report`.
"""
