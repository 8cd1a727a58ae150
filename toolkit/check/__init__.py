"""Values as the user meant them and whether they are right: reading a typed cell
(:mod:`.values`, with legacy Vietnamese fonts in :mod:`.legacy_vn`) and validating every form
for all units at once with pandera schemas built from the spec (:mod:`.validate`).

May import: :mod:`toolkit.spec`, :mod:`toolkit._infra`.
"""
