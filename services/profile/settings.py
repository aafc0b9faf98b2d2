from typing import ClassVar

from shared.settings import ServiceSettings


class ProfileSettings(ServiceSettings):
    service_name: ClassVar[str] = "profile"
    default_port: ClassVar[int] = 8001
