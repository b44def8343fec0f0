"""The maxpool2d core: window maxima (`PoolCore` with a comparison)."""

from amaranth import Mux

from .pool import PoolCore
from .registry import core_for

__all__ = ["MaxPool2dCore"]


@core_for("maxpool2d")
class MaxPool2dCore(PoolCore):
    """Each event raises the windows it falls in to its value if larger (OR for binary
    spikes)."""

    def combine(self, old, value):
        return Mux(value > old, value, old)
