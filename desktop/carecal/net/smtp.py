"""Sending mail through the practitioner's own SMTP account (stdlib ``smtplib``).

``SmtpConnection`` opens one session (SSL from the first byte, STARTTLS, or plain for a local
relay), logs in when a user is configured and sends messages one by one. Every failure is one of
three errors, by what it means for "never twice":

- ``SmtpUnreachable``: nothing was sent (no connection, TLS or login failed); try again later.
- ``SmtpNotSent``: the server answered a message with a refusal (``transient`` for 4xx, else
  permanent), so it surely did not take that message.
- ``SmtpUncertain``: the connection broke after the message body went out and before the
  server's answer: the server may have taken it.

Authentication is refused over an unencrypted connection to anything but this machine. TLS
verifies the server's certificate against the system's trust store (or ``SmtpConfig.cafile``).
Messages never show the password or the message's addresses.

Threads: a worker thread (each call blocks on the network up to ``timeout`` seconds); a
connection is used by one thread.
"""

from __future__ import annotations

import contextlib
import ipaddress
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from types import TracebackType

from carecal.domain.errors import RemoteError, TransientError

SECURITY_CHOICES = ("starttls", "ssl", "none")


class SmtpUnreachable(TransientError):
    """No usable session with the server: nothing was sent."""


class SmtpNotSent(RemoteError):
    """The server refused this message; ``transient`` when it said to try later (4xx)."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class SmtpUncertain(RemoteError):
    """Cut off after the message went out and before the server answered: maybe delivered."""


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    security: str = "starttls"  # "starttls", "ssl" or "none"
    user: str = ""
    timeout: float = 30.0
    cafile: str | None = None  # extra trusted certificate(s) (a self-hosted server, tests)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (localhost or a loopback address)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _context(config: SmtpConfig) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if config.cafile:
        context.load_verify_locations(cafile=config.cafile)
    return context


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(words.split())[:160]}"


class SmtpConnection:
    """One SMTP session; use as a context manager. See the module docstring for errors."""

    def __init__(self, config: SmtpConfig, password: str | None) -> None:
        if config.security not in SECURITY_CHOICES:
            raise SmtpUnreachable(f"unknown connection security {config.security!r}")
        if config.user and config.security == "none" and not is_loopback(config.host):
            raise SmtpUnreachable(
                "refusing to send the password unencrypted: choose STARTTLS or SSL/TLS"
            )
        self._config = config
        self._password = password
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpConnection:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def open(self) -> None:
        """Connect, secure and log in. Raises SmtpUnreachable."""
        c = self._config
        where = f"{c.host}:{c.port}"
        try:
            if c.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    c.host, c.port, timeout=c.timeout, context=_context(c)
                )
            else:
                smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
            self._smtp = smtp
            smtp.ehlo()
            if c.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise SmtpUnreachable(f"{where} does not offer STARTTLS")
                smtp.starttls(context=_context(c))
                smtp.ehlo()
            if c.user:
                smtp.login(c.user, self._password or "")
        except smtplib.SMTPAuthenticationError as exc:
            self.close()
            raise SmtpUnreachable(
                f"{where} refused the user name or password ({exc.smtp_code})"
            ) from None
        except ssl.SSLError as exc:
            self.close()
            raise SmtpUnreachable(f"secure connection to {where} failed: {exc.reason}") from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            if isinstance(exc, SmtpUnreachable):
                raise
            raise SmtpUnreachable(f"cannot reach the mail server {where}: {_why(exc)}") from None

    def send(self, message: EmailMessage, sender: str, recipient: str) -> None:
        """Send one message (envelope ``sender`` -> ``recipient``). Raises SmtpNotSent,
        SmtpUncertain, SmtpUnreachable (the connection was gone before the message started)."""
        smtp = self._smtp
        if smtp is None:
            raise SmtpUnreachable("not connected")
        try:
            code, text = smtp.mail(sender)
            if code != 250:
                smtp.rset()
                raise SmtpNotSent(f"sender refused: {_reply(code, text)}", transient=code < 500)
            code, text = smtp.rcpt(recipient)
            if code not in (250, 251):
                smtp.rset()
                raise SmtpNotSent(f"recipient refused: {_reply(code, text)}", transient=code < 500)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise SmtpUnreachable(f"the mail server closed the connection: {_why(exc)}") from None
        except smtplib.SMTPResponseException as exc:
            raise SmtpNotSent(
                _reply(exc.smtp_code, exc.smtp_error), transient=exc.smtp_code < 500
            ) from None
        try:
            code, text = smtp.data(message.as_bytes(policy=SMTP_POLICY))
        except smtplib.SMTPDataError as exc:
            # A definite answer: the server refused the message.
            raise SmtpNotSent(
                f"message refused: {_reply(exc.smtp_code, exc.smtp_error)}",
                transient=exc.smtp_code < 500,
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise SmtpUncertain(
                f"the connection broke while the server was taking the message: {_why(exc)}"
            ) from None
        if code != 250:
            # smtplib returns the final answer rather than raising: a definite refusal.
            raise SmtpNotSent(f"message refused: {_reply(code, text)}", transient=code < 500)

    def close(self) -> None:
        """End the session politely; never raises."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            with contextlib.suppress(OSError):
                smtp.close()


def _why(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc.smtp_code, exc.smtp_error)
    return type(exc).__name__
