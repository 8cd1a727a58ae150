"""The office's page in the browser: routes (:mod:`.app`), guards (:mod:`.security`),
Jinja2 templates and static files (``templates/``, ``static/``, served from the package:
no CDN, works offline), and the server (:mod:`.serve`, uvicorn on 127.0.0.1). It only
parses requests, calls the workspace and the library, and renders; no logic of its own.

May import: every stage, :mod:`toolkit.pipeline`, :mod:`toolkit.mail` and
:mod:`toolkit.workspace`; nothing imports it but the CLI's ``serve`` command.
"""
