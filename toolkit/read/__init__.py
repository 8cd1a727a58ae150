"""From an inbox folder to submissions: the walk (:mod:`.ingest`) with a worker process and a
time limit per file, opening a mailed workbook within :mod:`.limits` (:mod:`.book`), which
unit and campaign a file belongs to (:mod:`.identify`), reading it through its own cell map
(:mod:`.reading`), tables moved by inserted rows (:mod:`.relocate`), the mail manifest
(:mod:`.manifest`) and sender checks (:mod:`.provenance`), and which file speaks for each
unit (:mod:`.selection`).

May import: :mod:`toolkit.check`, :mod:`toolkit.spec`, :mod:`toolkit._infra`; never
:mod:`toolkit.write` (a reader must not depend on how today's templates are written).
"""
