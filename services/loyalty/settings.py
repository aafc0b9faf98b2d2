from typing import ClassVar

from pydantic import Field

from shared.settings import ServiceSettings


class LoyaltySettings(ServiceSettings):
    service_name: ClassVar[str] = "loyalty"
    default_port: ClassVar[int] = 8005

    expiry_interval_s: float = Field(
        default=60.0, description="How often due lots are expired (points.expired)."
    )
    tier_review_interval_s: float = Field(
        default=3600.0,
        description="How often the tier review looks for accounts not yet reviewed this month.",
    )
    task_batch_size: int = Field(
        default=500, ge=1, description="Accounts one run of a periodic task handles at most."
    )
