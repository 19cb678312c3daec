"""SMTP delivery of one multipart (text + HTML) message with smtplib.

Errors come out as MailError in plain words; they never contain the SMTP password or username
(both are scrubbed from anything a server echoes back).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from pydantic import SecretStr

from bot.config import DigestSettings, Secrets
from watchers.text.redact import Redactor

__all__ = ["MailError", "Mailer", "build_message"]

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


class MailError(Exception):
    """The mail could not be handed to the SMTP server; the message says why in plain words."""


def build_message(
    *, subject: str, sender: str, to: Sequence[str], text: str, html: str, at: datetime
) -> EmailMessage:
    """A multipart/alternative message: the plain text first, the HTML as the preferred part."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = format_datetime(at)
    # An explicit domain: the default asks DNS for this host's name, slow in containers.
    domain = parseaddr(sender)[1].rpartition("@")[2] or "trialwatch.invalid"
    message["Message-ID"] = make_msgid(idstring="trialwatch-digest", domain=domain)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


class Mailer:
    """Sends messages through one SMTP server (plain, STARTTLS or implicit TLS)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        starttls: bool = False,
        use_ssl: bool = False,
        username: SecretStr | None = None,
        password: SecretStr | None = None,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.starttls, self.use_ssl = starttls, use_ssl
        self._username, self._password = username, password
        self.timeout = timeout
        self._context = ssl_context

    @classmethod
    def from_settings(
        cls,
        settings: DigestSettings,
        secrets: Secrets,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> Mailer:
        """A mailer for `[digest]`, logging in with SMTP_USERNAME / SMTP_PASSWORD when set."""
        return cls(
            settings.smtp_host,
            settings.smtp_port,
            starttls=settings.starttls,
            use_ssl=settings.ssl,
            username=secrets.smtp_username,
            password=secrets.smtp_password,
            ssl_context=ssl_context,
        )

    def __repr__(self) -> str:
        return f"Mailer({self.host}:{self.port}, starttls={self.starttls}, ssl={self.use_ssl})"

    def send(self, message: EmailMessage) -> dict[str, str]:
        """Hand `message` to the server; returns recipients it refused (others got it)."""
        self._check_settings()
        try:
            refused = self._send(message)
        except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            raise MailError(self._scrub(self._where() + _describe(exc, self.timeout))) from None
        return {addr: self._scrub(_reply(code, text)) for addr, (code, text) in refused.items()}

    def _check_settings(self) -> None:
        if self.starttls and self.use_ssl:
            raise MailError(
                self._where() + "[digest] sets both starttls and ssl; choose one "
                "(ssl for port 465, starttls for port 587)"
            )
        login = self._username is not None or self._password is not None
        encrypted = self.starttls or self.use_ssl
        if login and not encrypted and self.host.lower() not in _LOOPBACK:
            # Never send the password in clear text over a network.
            raise MailError(
                self._where() + "refusing to log in without encryption; set [digest].starttls "
                "= true (port 587) or ssl = true (port 465)"
            )
        if login and (self._username is None or self._password is None):
            raise MailError(self._where() + "set both SMTP_USERNAME and SMTP_PASSWORD, or neither")

    def _send(self, message: EmailMessage) -> dict[str, tuple[int, bytes]]:
        smtp: smtplib.SMTP
        if self.use_ssl:
            smtp = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._tls_context()
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=self._tls_context())
                smtp.ehlo()
            if self._username is not None and self._password is not None:
                smtp.login(self._username.get_secret_value(), self._password.get_secret_value())
            return smtp.send_message(message)
        finally:
            # The message was accepted (or not) before QUIT: a failing QUIT changes nothing.
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def _tls_context(self) -> ssl.SSLContext:
        # Built only for an encrypted connection: loading the system's CAs takes ~40 ms.
        return self._context or ssl.create_default_context()

    def _where(self) -> str:
        return f"could not send mail via SMTP server {self.host}:{self.port}: "

    def _scrub(self, text: str) -> str:
        secrets = (s.get_secret_value() for s in (self._password, self._username) if s)
        return Redactor(secrets)(text)


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(words.split())[:200]}"


def _describe(exc: BaseException, timeout: float) -> str:
    """The failure in plain words, from the exception's type and the server's reply code."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"the server rejected the login ({_reply(exc.smtp_code, exc.smtp_error)})"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = "; ".join(f"{a}: {_reply(c, t)}" for a, (c, t) in exc.recipients.items())
        return f"the server refused every recipient ({refused})"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return (
            f"the server refused the sender {exc.sender} ({_reply(exc.smtp_code, exc.smtp_error)})"
        )
    if isinstance(exc, smtplib.SMTPDataError):
        return f"the server rejected the message ({_reply(exc.smtp_code, exc.smtp_error)})"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"the server does not support what the settings ask for ({exc})"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the server closed the connection unexpectedly"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the server answered {_reply(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"the server's TLS certificate could not be verified ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"the TLS handshake failed ({exc.reason or exc})"
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server running, and is smtp_port right?)"
    if isinstance(exc, OSError):
        return f"network error ({exc.strerror or exc})"
    return f"{type(exc).__name__}: {exc}"
