"""The store of past consolidations: every accepted value of every run in embedded SQLite
(:mod:`.store`), recording a run (:mod:`.record`), loading what an office already has
(``values.csv``, summary workbooks: :mod:`.imports`), and the comparison with an earlier
period with each unit's previous figures (:mod:`.compare`), which the plausibility checks
take as ``previous``.

May import: :mod:`toolkit.check`, :mod:`toolkit.spec`, :mod:`toolkit._infra`. The report
stage reads its results; it never imports the report, the reader or the writers.
"""
