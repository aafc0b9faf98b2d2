"""The SMTP adapter against a real local SMTP server, the webhook adapter against a real
HTTP server, and the service delivering through SMTP, retrying while the server is down."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from services.engagement.adapters.delivery import Delivery, DeliveryFailed
from services.engagement.adapters.smtp import SmtpConfig, SmtpEmailAdapter
from services.engagement.adapters.webhook import WebhookAdapter, WebhookConfig
from services.engagement.rules.channels import Channel, Purpose
from tests.integration.engagement.helpers import known, messages_until, published, register
from tests.support.events import new_id


class Inbox:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server(port: int) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def delivery(**fields: Any) -> Delivery:
    values: dict[str, Any] = {
        "message_id": new_id("m"),
        "customer_id": new_id("c"),
        "channel": Channel.EMAIL,
        "purpose": Purpose.MARKETING,
        "template": "spring_sale",
        "subject": "Spring sale",
        "text": "Everything is 10% off.",
        "address": "li.wei@example.com",
        **fields,
    }
    return Delivery(**values)


async def test_smtp_adapter_delivers_to_a_real_server() -> None:
    port = free_port()
    adapter = SmtpEmailAdapter(SmtpConfig("127.0.0.1", port, sender="crm@shop.example"))
    with smtp_server(port) as inbox:
        await adapter.deliver(delivery())
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["li.wei@example.com"]
    assert envelope.mail_from == "crm@shop.example"
    mail = message_from_bytes(envelope.content)
    assert mail["Subject"] == "Spring sale"
    assert "10% off" in mail.get_payload()


async def test_smtp_adapter_failures_carry_no_personal_data() -> None:
    adapter = SmtpEmailAdapter(SmtpConfig("127.0.0.1", free_port(), sender="crm@shop.example"))
    with pytest.raises(DeliveryFailed) as failed:
        await adapter.deliver(delivery())
    assert failed.value.code == "smtp_ConnectionRefusedError"
    with pytest.raises(DeliveryFailed, match="no_address"):
        await adapter.deliver(delivery(address=None))


@contextmanager
def webhook_server(status: int) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(
                {"auth": self.headers["Authorization"], **json.loads(self.rfile.read(length))}
            )
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/send", received
    finally:
        server.shutdown()
        server.server_close()


async def test_webhook_adapter_posts_json_and_reports_refusals() -> None:
    with webhook_server(202) as (url, received):
        adapter = WebhookAdapter(WebhookConfig(url, token="gateway-token"))
        await adapter.deliver(delivery(channel=Channel.SMS, address="13800000000"))
    [body] = received
    assert (body["channel"], body["to"], body["auth"]) == (
        "sms",
        "13800000000",
        "Bearer gateway-token",
    )
    with (
        webhook_server(503) as (url, _received),
        pytest.raises(DeliveryFailed, match="webhook_http_503"),
    ):
        await WebhookAdapter(WebhookConfig(url)).deliver(delivery(channel=Channel.SMS))
    with pytest.raises(ValueError, match="http"):
        WebhookConfig("file:///etc/passwd")


async def test_the_service_mails_through_smtp_and_retries_while_it_is_down(broker, service):
    customer_id, port = new_id("c"), free_port()
    settings = {
        "email_adapter": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_from": "crm@shop.example",
        "delivery_interval_s": 0.05,
        "delivery_backoff_s": 0.1,
        "delivery_max_attempts": 100,
    }
    async with service("engagement", **settings) as engagement:
        client = engagement.client
        await register(
            broker.bootstrap, customer_id, consents={"email": True}, email="li.wei@example.com"
        )
        await known(client, customer_id, lambda c: c["consents"])
        body = {"customer_id": customer_id, "channel": "email", "purpose": "service"}
        response = await client.post("/v1/messages", json={**body, "template": "order_shipped"})
        assert response.status_code == 201
        failed = response.json()
        assert (failed["outcome"], failed["reason"], failed["attempts"]) == (
            "pending",
            "delivery_failed",
            1,
        )

        with smtp_server(port) as inbox:
            await messages_until(client, customer_id, lambda m: m[0]["outcome"] == "sent")
            response = await client.post("/v1/messages", json={**body, "template": "csat_coupon"})
            assert response.json()["outcome"] == "sent"
        assert [e.rcpt_tos for e in inbox.envelopes] == [["li.wei@example.com"]] * 2
        subjects = [message_from_bytes(e.content)["Subject"] for e in inbox.envelopes]
        assert subjects == ["Order shipped", "Thank you for your feedback"]
        sent = await published(
            broker.bootstrap, "message.sent", lambda e: e["subject"] == customer_id, expect=2
        )
        assert sent[0]["data"]["message_id"] == failed["message_id"]
