"""The ways a board flow stops early, raised by every flow module (a leaf: imports nothing)."""

__all__ = ["ToolMissing", "DoesNotFit"]


class ToolMissing(RuntimeError):
    """A tool the step needs is not installed; the build folder is left complete."""


class DoesNotFit(ValueError):
    """The design cannot fit the board's device."""
