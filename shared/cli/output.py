"""Tables on the terminal: as wide as the terminal, or wide enough to read whole when the
output goes to a file or a pipe."""

from __future__ import annotations

import sys

from rich.console import Console


def console() -> Console:
    return Console() if sys.stdout.isatty() else Console(width=200)
