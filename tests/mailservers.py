"""Real mail servers for the tests, on 127.0.0.1 only.

- :class:`SmtpServer`: aiosmtpd in a thread, STARTTLS, implicit SSL or plain, with
  PLAIN/LOGIN authentication; keeps every message it accepts.
- :class:`Dovecot`: the Debian ``dovecot-imapd`` binary run as a subprocess with its own
  configuration in a temporary folder (no system service): passwd-file with plain
  passwords, TLS with a self-signed certificate, IMAP (STARTTLS) and IMAPS on high ports.

Tests needing dovecot skip when it is not installed, but fail under ``CI=true``.
"""

from __future__ import annotations

import base64
import contextlib
import getpass
import grp
import imaplib
import io
import os
import pwd
import quopri
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from toolkit.mail.fetch import imap_mailbox

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def missing(tool: str) -> None:
    """Skip locally, fail under CI=true: CI installs every tool the tests need."""
    message = f"{tool} is not installed"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI must install it: see .ci/run)")
    pytest.skip(message)


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost (openssl)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        missing("openssl")
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True)
    return cert, key


def _wait_for_port(port: int, timeout: float = 15.0, alive: object = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(alive) and not alive():
            raise RuntimeError("server exited during start-up")
        with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {LOOPBACK}:{port}")


# --------------------------------------------------------------------------- SMTP


@dataclass
class Received:
    """One message the SMTP server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    login: str | None

    @property
    def message(self) -> EmailMessage:
        return BytesParser(policy=policy.default).parsebytes(self.data)


@dataclass
class SmtpServer:
    """aiosmtpd on 127.0.0.1. ``security``: ``starttls`` (required before AUTH), ``ssl``
    (implicit TLS) or ``none`` (no TLS offered at all)."""

    cert: Path
    key: Path
    security: str = "starttls"
    user: str = "vanphong@thoxuan.doan.example"
    password: str = "mật-khẩu-SMTP-thử"
    refuse: set[str] = field(default_factory=set)  # recipients answered with 550
    port: int = 0
    received: list[Received] = field(default_factory=list)
    _controller: object = None

    def __enter__(self) -> SmtpServer:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        outer = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, options):
                if address in outer.refuse:
                    return "550 5.1.1 No such mailbox"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                login = session.auth_data
                outer.received.append(Received(
                    envelope.mail_from, list(envelope.rcpt_tos),
                    envelope.original_content or envelope.content,
                    login.decode() if isinstance(login, bytes) else login))
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword)
                  and auth_data.login == self.user.encode()
                  and auth_data.password == self.password.encode())
            return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok
                              else None)

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        self.port = free_port()
        # AUTH is offered in every mode and checked on every message (``login``); aiosmtpd
        # can only *require* it together with STARTTLS (it warns otherwise).
        kwargs: dict = {"authenticator": authenticator}
        if self.security == "starttls":
            kwargs.update(tls_context=context, require_starttls=True, auth_require_tls=True,
                          auth_required=True)
        elif self.security == "ssl":
            kwargs.update(ssl_context=context, auth_require_tls=False)
        else:
            kwargs.update(auth_require_tls=False)
        controller = Controller(Handler(), hostname=LOOPBACK, port=self.port,
                                server_hostname="localhost", **kwargs)
        controller.start()
        self._controller = controller
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    def messages(self) -> list[EmailMessage]:
        return [r.message for r in self.received]


# --------------------------------------------------------------------------- IMAP


DOVECOT_CONF = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = {ssl}
{ssl_files}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{root}/home/%u/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    {imaps_ssl}
  }}
}}
service anvil {{
  chroot =
}}
"""


def dovecot_binary() -> str:
    """Path of the dovecot binary (skip, or fail under CI, when missing)."""
    found = shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if Path(p).exists()), None)
    if found is None:
        missing("dovecot (Debian package dovecot-imapd)")
    return found


@dataclass
class Dovecot:
    """A private Dovecot. ``tls=False`` starts it without any TLS (no STARTTLS offered)."""

    cert: Path
    key: Path
    users: dict[str, str]
    tls: bool = True
    imap_port: int = 0
    imaps_port: int = 0
    root: Path = Path()
    _proc: subprocess.Popen | None = None

    def __enter__(self) -> Dovecot:
        binary = dovecot_binary()
        # a short path: dovecot's unix sockets live under base_dir (108-byte limit)
        self.root = Path(tempfile.mkdtemp(prefix="tk-dv-"))
        self.root.chmod(0o755)
        if os.geteuid() == 0:  # root: dovecot refuses to run logins or mail as root
            internal, login, mail = "dovecot", "dovenull", "dovecot"
        else:
            internal = login = mail = getpass.getuser()
        mail_group = grp.getgrgid(pwd.getpwnam(mail).pw_gid).gr_name
        internal_group = grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name
        home = self.root / "home"
        home.mkdir()
        if os.geteuid() == 0:
            shutil.chown(home, mail, mail_group)
        passwd = self.root / "passwd"
        passwd.write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in self.users.items()),
                          encoding="utf-8")
        passwd.chmod(0o644)
        tls_dir = self.root / "tls"
        tls_dir.mkdir()
        cert, key = tls_dir / "cert.pem", tls_dir / "key.pem"
        shutil.copyfile(self.cert, cert)
        shutil.copyfile(self.key, key)
        self.imap_port, self.imaps_port = free_port(), free_port()
        conf = self.root / "dovecot.conf"
        conf.write_text(DOVECOT_CONF.format(
            root=self.root, ssl="yes" if self.tls else "no",
            ssl_files=f"ssl_cert = <{cert}\nssl_key = <{key}" if self.tls else "",
            internal_user=internal, internal_group=internal_group, login_user=login,
            mail_user=mail, mail_group=mail_group, imap_port=self.imap_port,
            imaps_port=self.imaps_port, imaps_ssl="ssl = yes" if self.tls else ""),
            encoding="utf-8")
        self._proc = subprocess.Popen([binary, "-F", "-c", str(conf)],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            _wait_for_port(self.imap_port, alive=lambda: self._proc.poll() is None)
            if self.tls:
                _wait_for_port(self.imaps_port, alive=lambda: self._proc.poll() is None)
        except RuntimeError as exc:
            self.__exit__()
            raise RuntimeError(f"dovecot did not start: {exc}\n{self.log()}") from None
        return self

    def log(self) -> str:
        path = self.root / "dovecot.log"
        out = path.read_text(errors="replace") if path.exists() else ""
        if self._proc is not None and self._proc.poll() is not None and self._proc.stdout:
            out += self._proc.stdout.read().decode(errors="replace")
        return out

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=5)
        if self._proc is not None and self._proc.stdout:
            self._proc.stdout.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def client(self, user: str) -> imaplib.IMAP4:
        """A logged-in IMAPS client (for putting messages into the mailbox)."""
        context = ssl.create_default_context(cafile=str(self.cert))
        imap = (imaplib.IMAP4_SSL(LOOPBACK, self.imaps_port, ssl_context=context)
                if self.tls else imaplib.IMAP4(LOOPBACK, self.imap_port))
        secret = f"\0{user}\0{self.users[user]}".encode()  # UTF-8 passwords: AUTH PLAIN
        imap.authenticate("PLAIN", lambda _challenge: secret)
        return imap

    def append(self, user: str, raw: bytes, *, when: float | None = None,
               folder: str = "INBOX") -> None:
        """APPEND one message (INTERNALDATE ``when``, a POSIX time)."""
        imap = self.client(user)
        try:
            mailbox = imap_mailbox(folder)
            if folder != "INBOX":
                imap.create(mailbox)
            date = imaplib.Time2Internaldate(when if when is not None else time.time())
            typ, data = imap.append(mailbox, None, date, raw)
            assert typ == "OK", data
        finally:
            imap.logout()


# --------------------------------------------------------------------------- messages
# Raw MIME written by hand, the way real mail programs write it, so each file-name encoding
# is exactly the one under test (not whatever the email package would choose).

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def rfc2231(name: str, charset: str = "utf-8") -> str:
    """``filename*=utf-8''Ph%E1%BB%A5…`` (RFC 2231, one segment)."""
    from urllib.parse import quote

    return f"attachment; filename*={charset}''{quote(name.encode(charset), safe='')}"


def rfc2231_continued(name: str, charset: str = "utf-8", size: int = 12) -> str:
    """``filename*0*=…; filename*1*=…`` (RFC 2231 continuations)."""
    from urllib.parse import quote

    data = name.encode(charset)
    chunks = [quote(data[i:i + size], safe="") for i in range(0, len(data), size)]
    params = [f"filename*{i}*={charset}''{c}" if i == 0 else f"filename*{i}*={c}"
              for i, c in enumerate(chunks)]
    return "attachment;\r\n " + ";\r\n ".join(params)


def rfc2047(name: str) -> str:
    """``filename="=?UTF-8?B?…?="`` (RFC 2047 inside a parameter, as Outlook and Gmail do)."""
    encoded = base64.b64encode(name.encode("utf-8")).decode("ascii")
    return f'attachment; filename="=?UTF-8?B?{encoded}?="'


def cp1258(text: str) -> bytes:
    """Vietnamese in Windows-1258: base letters precomposed, tone marks combining."""
    out = b""
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", parts[:2])
            try:
                out += base.encode("cp1258") + parts[2:].encode("cp1258")
            except UnicodeEncodeError:
                out += parts[0].encode("cp1258") + parts[1:].encode("cp1258")
    return out


def attachment(data: bytes, disposition: str | bytes, content_type: str = XLSX_TYPE,
               encoding: str = "base64") -> bytes:
    """One MIME part (``disposition`` may be raw bytes, e.g. 8-bit UTF-8)."""
    if isinstance(disposition, str):
        disposition = disposition.encode("ascii")
    if encoding == "base64":
        body = base64.encodebytes(data).replace(b"\n", b"\r\n")
    else:
        body = quopri.encodestring(data).replace(b"\n", b"\r\n")
    return (f"Content-Type: {content_type}\r\n".encode() + b"Content-Disposition: "
            + disposition + f"\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n".encode()
            + body)


def message(*, sender: str, subject: str, date: str | None, message_id: str | None,
            parts: list[bytes] = (), text: str = "Em gửi báo cáo ạ.",
            boundary: str = "=_ranh-gioi_=") -> bytes:
    """A whole message; the subject is RFC 2047-encoded, the text part UTF-8."""
    head = [f"From: {sender}", "To: hopthu@thoxuan.doan.example",
            "Subject: " + Header(subject, "utf-8").encode(linesep="\r\n"),
            "MIME-Version: 1.0"]
    if date is not None:
        head.append(f"Date: {date}")
    if message_id is not None:
        head.append(f"Message-ID: {message_id}")
    text_part = (b"Content-Type: text/plain; charset=utf-8\r\n"
                 b"Content-Transfer-Encoding: 8bit\r\n\r\n" + text.encode("utf-8") + b"\r\n")
    if not parts:
        return ("\r\n".join(head) + "\r\n").encode() + text_part
    head.append(f'Content-Type: multipart/mixed; boundary="{boundary}"')
    out = ("\r\n".join(head) + "\r\n\r\n").encode()
    for part in [text_part, *parts]:
        out += f"--{boundary}\r\n".encode() + part + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def zip_bytes(members: dict[str, bytes], *, utf8_flag: bool = True) -> bytes:
    """A zip archive; ``utf8_flag=False`` writes UTF-8 names without the UTF-8 flag, as
    many zip tools do."""

    class RawName(zipfile.ZipInfo):
        def _encodeFilenameFlags(self):  # overrides zipfile's private method
            return self.filename.encode("utf-8"), self.flag_bits & ~0x800

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = (zipfile.ZipInfo if utf8_flag else RawName)(name, (2021, 1, 15, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buf.getvalue()
