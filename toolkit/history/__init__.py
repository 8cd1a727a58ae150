"""The store of past consolidations (room for the history work): every accepted value of
every run in embedded SQLite, comparisons with earlier periods and the plausibility checks
built on them. Empty until that work lands.

May import: :mod:`toolkit.check`, :mod:`toolkit.spec`, :mod:`toolkit._infra`. The report
stage reads its results; it never imports the report, the reader or the writers.
"""
