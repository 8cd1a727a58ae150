"""Mail server settings, TLS contexts and one clear Vietnamese message per connection failure.

Passwords are never part of a settings object (so they cannot end up in a ``repr``, a log
or an error message): they are passed separately to the functions that log in.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from toolkit.spec.text import printable

SECURITY_MODES = ("starttls", "ssl", "none")
DEFAULT_SMTP_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
DEFAULT_IMAP_PORTS = {"starttls": 143, "ssl": 993, "none": 143}
DEFAULT_TIMEOUT = 30.0


class MailError(Exception):
    """A mail operation cannot go on (Vietnamese, one line, never contains a password).
    Its text often quotes a server or a file: it is made ``printable``."""

    def __init__(self, message: object = "", *args: object) -> None:
        super().__init__(printable(str(message)), *args)


@dataclass(frozen=True)
class ServerSettings:
    """Where and how to connect: ``kind`` is ``SMTP`` or ``IMAP`` (used in messages)."""

    kind: str
    host: str
    port: int
    security: str = "starttls"
    user: str = ""
    cafile: Path | None = None
    timeout: float = DEFAULT_TIMEOUT

    @property
    def where(self) -> str:
        return f"{self.kind} {self.host}:{self.port}"


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals (no DNS look-up)."""
    if host.strip().lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def make_settings(kind: str, host: str | None, port: int | None, security: str,
                  user: str | None = None, cafile: Path | str | None = None,
                  timeout: float = DEFAULT_TIMEOUT) -> ServerSettings:
    """Check and complete settings; ``security none`` is refused for non-loopback hosts."""
    label = kind.upper()
    if not host:
        env = f"TOOLKIT_{label}_HOST"
        raise MailError(f"Chưa có địa chỉ máy chủ {label}: dùng --{kind.lower()}-host "
                        f"hoặc biến môi trường {env}")
    security = (security or "starttls").lower()
    if security not in SECURITY_MODES:
        raise MailError(f"Kiểu bảo mật {label} không hợp lệ {security!r} "
                        f"(dùng: {', '.join(SECURITY_MODES)})")
    if security == "none" and not is_loopback(host):
        raise MailError(f"Không được gửi mật khẩu và thư không mã hóa tới {host}: kiểu bảo mật "
                        f"'none' chỉ dùng cho máy chủ thử nghiệm trên máy này (127.0.0.1); "
                        f"hãy dùng starttls hoặc ssl")
    defaults = DEFAULT_SMTP_PORTS if label == "SMTP" else DEFAULT_IMAP_PORTS
    if cafile is not None and not Path(cafile).is_file():
        raise MailError(f"Không tìm thấy tệp chứng chỉ CA {cafile}")
    return ServerSettings(kind=label, host=host, port=int(port or defaults[security]),
                          security=security, user=user or "",
                          cafile=Path(cafile) if cafile else None, timeout=timeout)


def tls_context(settings: ServerSettings) -> ssl.SSLContext:
    """A verifying TLS context (system CAs, or only ``cafile`` when given)."""
    try:
        return ssl.create_default_context(cafile=str(settings.cafile) if settings.cafile
                                          else None)
    except (OSError, ssl.SSLError) as exc:
        raise MailError(f"Không đọc được tệp chứng chỉ CA {settings.cafile}: {exc}") from None


def connection_error(settings: ServerSettings, exc: BaseException) -> MailError:
    """Translate a network/TLS failure into one Vietnamese sentence."""
    where = settings.where
    if isinstance(exc, ssl.SSLCertVerificationError):
        return MailError(f"Chứng chỉ TLS của máy chủ {where} không được tin cậy "
                         f"({exc.verify_message}); kiểm tra tên máy chủ hoặc chỉ định tệp CA "
                         f"bằng --{settings.kind.lower()}-cafile")
    if isinstance(exc, ssl.SSLError):
        hint = ("thử --{k}-security starttls" if settings.security == "ssl"
                else "thử --{k}-security ssl").format(k=settings.kind.lower())
        return MailError(f"Máy chủ {where} từ chối kết nối TLS/SSL ({exc.reason or exc}); "
                         f"có thể sai cổng hoặc sai kiểu bảo mật — {hint}")
    if isinstance(exc, ConnectionRefusedError):
        return MailError(f"Không kết nối được máy chủ {where}: máy chủ không chạy hoặc sai cổng")
    if isinstance(exc, socket.gaierror):
        return MailError(f"Không tìm thấy máy chủ {settings.kind} {settings.host!r}: "
                         f"kiểm tra tên máy chủ và kết nối mạng")
    if isinstance(exc, TimeoutError | socket.timeout):
        return MailError(f"Máy chủ {where} không trả lời sau {settings.timeout:g} giây")
    if isinstance(exc, ConnectionError | EOFError):
        return MailError(f"Máy chủ {where} đã ngắt kết nối giữa chừng; có thể sai kiểu bảo mật "
                         f"(starttls/ssl) hoặc sai cổng")
    return MailError(f"Lỗi kết nối máy chủ {where}: {exc}")
