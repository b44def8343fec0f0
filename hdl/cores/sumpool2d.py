"""The sumpool2d core: window sums (`PoolCore` with addition)."""

from .pool import PoolCore
from .registry import core_for

__all__ = ["SumPool2dCore"]


@core_for("sumpool2d")
class SumPool2dCore(PoolCore):
    """Each event adds its value to the windows it falls in; the value width holds
    kh * kw times the input maximum, so the sum never wraps."""

    def combine(self, old, value):
        return old + value
