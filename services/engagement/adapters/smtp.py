"""E-mail through an SMTP server (stdlib smtplib, run in a worker thread)."""

from __future__ import annotations

import asyncio
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from services.engagement.adapters.delivery import Delivery, DeliveryFailed


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout_s: float = 10.0


class SmtpEmailAdapter:
    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    async def deliver(self, delivery: Delivery) -> None:
        if not delivery.address:
            raise DeliveryFailed("no_address")
        message = self._compose(delivery)
        try:
            await asyncio.to_thread(self._send, message)
        except (smtplib.SMTPException, OSError) as exc:
            # The class name only: SMTP replies may echo the recipient's address.
            raise DeliveryFailed(f"smtp_{type(exc).__name__}") from exc

    def forget(self, customer_id: str) -> None:
        return None

    def _compose(self, delivery: Delivery) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._config.sender
        message["To"] = delivery.address
        message["Subject"] = delivery.subject
        message["Message-ID"] = make_msgid(idstring=delivery.message_id)
        message["X-Loopcrm-Message-Id"] = delivery.message_id
        message.set_content(delivery.text)
        return message

    def _send(self, message: EmailMessage) -> None:
        config = self._config
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout_s) as client:
            if config.starttls:
                client.starttls()
            if config.username:
                client.login(config.username, config.password or "")
            client.send_message(message)
