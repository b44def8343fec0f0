"""The ``spikeshift`` command line (DESIGN.md §7)."""

from .main import main

__all__ = ["main"]
