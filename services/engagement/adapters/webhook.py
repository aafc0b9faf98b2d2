"""SMS, push and WeCom through an HTTP gateway: a JSON POST per message (urllib, in a thread)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from services.engagement.adapters.delivery import Delivery, DeliveryFailed


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    token: str | None = None
    timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if urlsplit(self.url).scheme not in ("http", "https"):
            raise ValueError("a webhook URL must be http or https")


class WebhookAdapter:
    """Any 2xx answer means the gateway took the message; anything else is a failed delivery."""

    def __init__(self, config: WebhookConfig) -> None:
        self._config = config

    async def deliver(self, delivery: Delivery) -> None:
        await asyncio.to_thread(self._post, self._body(delivery))

    def forget(self, customer_id: str) -> None:
        return None

    @staticmethod
    def _body(delivery: Delivery) -> bytes:
        return json.dumps(
            {
                "message_id": delivery.message_id,
                "customer_id": delivery.customer_id,
                "channel": str(delivery.channel),
                "purpose": str(delivery.purpose),
                "template": delivery.template,
                "params": dict(delivery.params),
                "to": delivery.address,
                "subject": delivery.subject,
                "text": delivery.text,
            },
            default=str,
        ).encode()

    def _post(self, body: bytes) -> None:
        headers = {"Content-Type": "application/json"}
        if self._config.token:
            headers["Authorization"] = f"Bearer {self._config.token}"
        request = urllib.request.Request(
            self._config.url, data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self._config.timeout_s) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise DeliveryFailed(f"webhook_http_{exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryFailed(f"webhook_{type(exc).__name__}") from exc
        if not 200 <= status < 300:
            raise DeliveryFailed(f"webhook_http_{status}")
