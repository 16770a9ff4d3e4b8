"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import socket
import threading
from email import message_from_bytes
from email.message import Message

from aiosmtpd.controller import Controller


class SmtpServer:
    """Answers `451` to the first `fail_first` messages, then accepts and records them."""

    def __init__(self, fail_first: int = 0, port: int | None = None):
        self.messages: list[Message] = []
        self.recipients: list[list[str]] = []
        self.refused = 0
        self._fail_first = fail_first
        self._arrived = threading.Condition()
        self.port = port or free_port()
        self._controller = Controller(
            self, hostname="127.0.0.1", port=self.port, server_hostname="localhost"
        )

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._arrived:
            if self.refused < self._fail_first:
                self.refused += 1
                return "451 4.3.0 try again later"
            self.messages.append(message_from_bytes(envelope.content))
            self.recipients.append(list(envelope.rcpt_tos))
            self._arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 20) -> list[Message]:
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                raise TimeoutError(f"expected {count} emails, got {len(self.messages)}")
            return list(self.messages)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
