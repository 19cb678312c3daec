"""A real SMTP server (aiosmtpd) on 127.0.0.1 and a free port, recording what it accepts."""

from __future__ import annotations

import asyncio
import email
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class Received:
    """One accepted message: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: Message


@dataclass
class FakeSmtp:
    host: str = "127.0.0.1"
    port: int = 0
    received: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)  # usernames that logged in

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        self.received.append(
            Received(
                mail_from=str(envelope.mail_from),
                rcpt_tos=list(envelope.rcpt_tos),
                message=email.message_from_bytes(raw),
            )
        )
        return "250 Message accepted for delivery"


class _FreePortController(Controller):
    """Binds port 0 and learns the port the kernel chose before aiosmtpd's readiness probe."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


def _authenticator(users: dict[str, str], fake: FakeSmtp) -> Any:
    def check(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            if users.get(user) == password:
                fake.logins.append(user)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    return check


@contextmanager
def smtp_server(
    *,
    users: dict[str, str] | None = None,
    tls_context: ssl.SSLContext | None = None,
) -> Iterator[FakeSmtp]:
    """Serve SMTP until the block ends; `users` turns on AUTH, `tls_context` STARTTLS (required)."""
    fake = FakeSmtp()
    options: dict[str, Any] = {}
    if users is not None:
        options |= {
            "authenticator": _authenticator(users, fake),
            "auth_required": tls_context is not None,
            # Plain AUTH is offered only when there is no TLS (the loopback test of login).
            "auth_require_tls": tls_context is not None,
        }
    if tls_context is not None:
        options |= {"tls_context": tls_context, "require_starttls": True}
    controller = _FreePortController(fake, hostname="127.0.0.1", port=0, **options)
    controller.start()
    fake.port = controller.port
    try:
        yield fake
    finally:
        controller.stop()
