"""Configuration of the engagement service (environment prefix ``LOOPCRM_``)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from services.engagement.rules.channels import Channel
from services.engagement.rules.delivery import DeliveryPolicy
from services.engagement.rules.policy import EngagementPolicy
from shared.backoff import Backoff
from shared.settings import ServiceSettings


class PlaybookStep(BaseModel):
    """One message a segment playbook sends when a customer enters the segment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Channel
    template: str = Field(min_length=1, max_length=64)


def _default_playbooks() -> dict[str, list[PlaybookStep]]:
    return {
        "loyal": [PlaybookStep(channel=Channel.WECOM, template="new_product_trial")],
        "potential": [PlaybookStep(channel=Channel.IN_APP, template="similar_to_viewed")],
        "win_back": [
            PlaybookStep(channel=Channel.SMS, template="restock_coupon"),
            PlaybookStep(channel=Channel.IN_APP, template="restock_coupon"),
        ],
    }


class EngagementSettings(ServiceSettings):
    service_name: ClassVar[str] = "engagement"
    default_port: ClassVar[int] = 8003

    # The policy (DESIGN §4 Engagement).
    silence_days: int = Field(default=30, ge=1)
    marketing_cap: int = Field(default=4, ge=0)
    frequent_returner_cap: int = Field(default=2, ge=0)
    cap_window_days: int = Field(default=30, ge=1)

    # Triggered messages.
    follow_up_template: str = "complaint_follow_up"
    follow_up_channels: list[Channel] = Field(
        default=[Channel.SMS, Channel.WECOM, Channel.EMAIL],
        description="First consented and reachable one wins; in_app when none is.",
    )
    coupon_template: str = "csat_coupon"
    coupon_min_csat: int = Field(default=4, ge=1, le=5)
    coupon_channels: list[Channel] = Field(
        default=[Channel.WECOM, Channel.EMAIL, Channel.SMS, Channel.PUSH],
        description="First consented and reachable one wins; in_app when none is.",
    )
    trigger_max_age_hours: int = Field(
        default=72,
        ge=1,
        description="Playbook and coupon triggers older than this when they arrive send nothing.",
    )
    playbooks: dict[str, list[PlaybookStep]] = Field(default_factory=_default_playbooks)
    playbook_repeat_days: int = Field(
        default=30,
        ge=1,
        description="A segment's playbook runs at most once per customer within this many days "
        "of the entry that last ran it, however often the customer re-enters meanwhile.",
    )

    # Adapters: recording unless configured.
    email_adapter: Literal["recording", "smtp"] = "recording"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "loopcrm@localhost"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    sms_webhook_url: str | None = None
    push_webhook_url: str | None = None
    wecom_webhook_url: str | None = None
    webhook_token: SecretStr | None = None
    webhook_timeout_s: float = Field(default=5.0, gt=0)

    # Delivery: attempts, retries with exponential backoff, then delivery_failed.
    delivery_interval_s: float = Field(default=0.5, gt=0)
    delivery_batch_size: int = Field(default=50, ge=1)
    delivery_max_attempts: int = Field(default=5, ge=1)
    delivery_backoff_s: float = Field(default=30.0, ge=0)
    delivery_backoff_max_s: float = Field(default=3600.0, ge=0)
    delivery_lease_s: float = Field(default=120.0, gt=0)

    def policy(self) -> EngagementPolicy:
        return EngagementPolicy(
            silence_days=self.silence_days,
            marketing_cap=self.marketing_cap,
            frequent_returner_cap=self.frequent_returner_cap,
            cap_window_days=self.cap_window_days,
            trigger_max_age_hours=self.trigger_max_age_hours,
            coupon_min_csat=self.coupon_min_csat,
            playbook_repeat_days=self.playbook_repeat_days,
        )

    def delivery_policy(self) -> DeliveryPolicy:
        return DeliveryPolicy(
            max_attempts=self.delivery_max_attempts,
            backoff=Backoff(self.delivery_backoff_s, self.delivery_backoff_max_s),
            lease_s=self.delivery_lease_s,
        )
