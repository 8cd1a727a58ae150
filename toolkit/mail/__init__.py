"""Mail in and out: templates, feedback and reminders sent over SMTP; workbook attachments
fetched over IMAP into the inbox folder, with their provenance in ``manifest.csv``.

Modules: :mod:`~toolkit.mail.settings` (server settings, TLS, Vietnamese connection errors),
:mod:`~toolkit.mail.compose` (the messages), :mod:`~toolkit.mail.send` (what to send, SMTP,
the sent log, ``.eml`` dry runs), :mod:`~toolkit.mail.fetch` (IMAP, attachments, the
manifest), :mod:`~toolkit.mail.provenance` (sender checks), :mod:`~toolkit.mail.cli`.
"""

from toolkit.mail.settings import MailError

__all__ = ["MailError"]
