"""The one Rich console every veilscan command prints to."""

from __future__ import annotations

import sys

from rich.console import Console

# A log or CI capture is not a terminal; Rich would then wrap every table at 80 columns.
console = Console(width=None if sys.stdout.isatty() else 160)
