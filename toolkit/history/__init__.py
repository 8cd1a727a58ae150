"""The store of past consolidations: every accepted value of every run in embedded SQLite
(:mod:`.store`), recording a run (:mod:`.record`), loading what an office already has
(``values.csv``, summary workbooks: :mod:`.imports`), and the comparison with an earlier
period with each unit's previous figures (:mod:`.compare`), which the plausibility checks
take as ``previous``; the plausibility warnings themselves (:mod:`.plausibility`: a figure
far above its peers, a jump against the unit's previous report or the year before).

May import: :mod:`toolkit.check`, :mod:`toolkit.spec`, :mod:`toolkit._infra`. The report
stage reads its results; it never imports the report, the reader or the writers.
"""
