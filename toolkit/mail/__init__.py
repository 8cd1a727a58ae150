"""Mail in and out: templates, feedback and reminders sent over SMTP; workbook attachments
fetched over IMAP into the inbox folder, with their provenance in ``manifest.csv``.

Modules: :mod:`~toolkit.mail.settings` (server settings, TLS, Vietnamese connection errors),
:mod:`~toolkit.mail.compose` (the messages), :mod:`~toolkit.mail.send` (what to send, SMTP,
the sent log, ``.eml`` dry runs), :mod:`~toolkit.mail.fetch` (IMAP, attachments, the
manifest). The ``toolkit mail`` commands are in :mod:`toolkit.cli.mail`; sender checks
of the inbox in :mod:`toolkit.read.provenance`.

May import: :mod:`toolkit.report` (where feedback files are), :mod:`toolkit.write` (template
names), :mod:`toolkit.read` (the manifest), :mod:`toolkit.spec`, :mod:`toolkit._infra`.
"""

from toolkit.mail.settings import MailError

__all__ = ["MailError"]
