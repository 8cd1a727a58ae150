"""Real mail servers for the tests, on 127.0.0.1 only.

- :class:`SmtpServer`: aiosmtpd in a thread, STARTTLS, implicit SSL or plain, with
  PLAIN/LOGIN authentication; keeps every message it accepts.
- :class:`Dovecot`: the Debian ``dovecot-imapd`` binary run as a subprocess with its own
  configuration in a temporary folder (no system service): passwd-file with plain
  passwords, TLS with a self-signed certificate, IMAP (STARTTLS) and IMAPS on high ports.

Tests needing dovecot skip when it is not installed, but fail under ``CI=true``.
"""

from __future__ import annotations

import contextlib
import getpass
import grp
import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from email import policy
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
    port: int = 0
    received: list[Received] = field(default_factory=list)
    _controller: object = None

    def __enter__(self) -> SmtpServer:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        outer = self

        class Handler:
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
        kwargs: dict = {"authenticator": authenticator, "auth_required": True}
        if self.security == "starttls":
            kwargs.update(tls_context=context, require_starttls=True, auth_require_tls=True)
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
