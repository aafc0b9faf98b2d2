"""Developer helper: ``python -m shared.autogen <service> "<message>"`` writes a new migration."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from shared.migrations import alembic_config, upgrade


def main(service: str, message: str) -> None:
    script_location = Path("services") / service / "migrations"
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite+aiosqlite:///{scratch}/autogen.db"
        upgrade(script_location, url)
        command.revision(alembic_config(script_location, url), message=message, autogenerate=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
