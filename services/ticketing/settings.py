from typing import ClassVar

from pydantic import Field

from shared.settings import ServiceSettings


class TicketingSettings(ServiceSettings):
    service_name: ClassVar[str] = "ticketing"
    default_port: ClassVar[int] = 8004

    breach_scan_interval_s: float = Field(
        default=30.0, gt=0, description="How often open tickets are checked for missed SLAs."
    )
    breach_scan_batch_size: int = Field(
        default=500,
        ge=1,
        description="Tickets escalated per transaction; a scan repeats until none is due.",
    )
